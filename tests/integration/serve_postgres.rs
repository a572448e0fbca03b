//! `flowstep serve --db postgres://...`: several real `flowstep serve` processes on one Postgres
//! database that the test starts (`flowstep-test-postgres`), sharing the runs. A signed webhook
//! delivered to one worker resumes the run another started; three workers carry conversations
//! (start → payment link → wait → signed webhook or deadline → done) with faults at the sandbox
//! and two `kill -9`s, and every run ends with one session, one "payment received" message and
//! each deadline fired once; three workers hold a step's `rate_limit:` together (the sandbox
//! never sees more than the rate in any second); a database that cannot be reached is refused
//! at start, naming it without its password.
//!
//! Without the Postgres binaries the tests that need a server pass without running, after one
//! loud line; `FLOWSTEP_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes that a failure.

use crate::batch::{per_second, within};
use crate::raw_http::try_request;
use crate::serve_crash::far_end::{TO, delay, distinct, messages_path, requests_to, session_keys};
use crate::serve_crash::load::feed_faults;
use crate::serve_support::{Serve, TOKEN, json_of};
use crate::support::{Scratch, TestSandbox, flowstep};
use flowstep_sandbox::{
    SANDBOX_SECRET_KEY, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN,
};
use flowstep_server::webhooks::stripe;
use flowstep_test_postgres::TestPostgres;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STRIPE_SECRET: &str = "whsec_test_flowstep_postgres_0123456789";

/// Messages held at the sandbox when a worker is killed: enough that every worker is in the
/// middle of sending some.
const HELD: usize = 45;

/// A conversation: the payment link (the Stripe preset: a Checkout Session and a WhatsApp
/// message), then a wait for the payment (or its deadline), then one message saying which.
const CONVERSATION: &str = r#"flow: conversation
inputs:
  client_reference_id: { type: string }
  ttl: { type: string, default: 10m }
steps:
  - id: pay
    type: flow
    use: stripe-checkout
    with:
      product_name: Blue T-shirt
      amount_paise: 50000
      success_url: https://shop.example/thanks
      client_reference_id: <<client_reference_id>>
  - id: await_payment
    type: wait
    for: stripe.checkout.session.completed
    match: { data.object.id: <<steps.pay.outputs.session_id>> }
    timeout: <<ttl>>
    map: { amount: $.data.object.amount_total }
    on_timeout: expired
  - id: thanks
    type: message
    text: Payment received for <<steps.pay.outputs.session_id>> (<<amount>> paise)
    next: done
  - id: expired
    type: message
    text: Link expired for <<steps.pay.outputs.session_id>>
  - id: done
    type: set
    values: { finished: true }
"#;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `DIR/flows` with the conversation.
fn flows(dir: &Scratch) -> String {
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    dir.write("flows/conversation.yaml", CONVERSATION);
    dir.path().join("flows").to_str().unwrap().to_owned()
}

/// A worker: `flowstep serve --db URL` with Stripe and WhatsApp routed to `sandbox`, a lease
/// of 1 s (a killed worker's runs are claimed again a second later), and the webhook secret.
fn worker(dir: &Scratch, db: &str, flows: &str, sandbox: &TestSandbox) -> Serve {
    let stripe = format!("https://api.stripe.com={}", sandbox.url());
    let graph = format!("https://graph.facebook.com={}", sandbox.url());
    Serve::start(
        dir.path(),
        &[
            "--db",
            db,
            "--flows",
            flows,
            "--route",
            &stripe,
            "--route",
            &graph,
            "--lease",
            "1s",
            "--channel",
            "whatsapp",
            "--max-concurrent-runs",
            "64",
        ],
        &[
            ("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY),
            ("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN),
            ("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
            // The worker says when it fires a deadline (counted below).
            ("RUST_LOG", "error,flowstep_server::worker=info"),
        ],
    )
}

/// The signed Stripe event that says `session` was paid.
fn paid(event_id: &str, session: &str) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now(),
        "type": "checkout.session.completed",
        "data": {"object": {"id": session, "object": "checkout.session", "payment_status": "paid", "amount_total": 50000}},
        "livemode": false,
    })
    .to_string()
}

/// Posts a signed Stripe event to the worker at `url`: its status and body, or `None` when no
/// worker answered there (it was killed).
fn deliver(url: &str, body: &str) -> Option<(u16, Value)> {
    let signature = stripe::sign(body.as_bytes(), STRIPE_SECRET, now());
    try_request(
        "POST",
        &format!("{url}/webhooks/stripe"),
        &[
            ("Content-Type", "application/json"),
            ("Stripe-Signature", &signature),
        ],
        body.as_bytes(),
    )
    .map(json_of)
}

/// `METHOD path` with the token at the worker at `url`, or `None` when none answered there.
fn call(url: &str, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let auth = format!("Bearer {TOKEN}");
    let body = body.map(Value::to_string).unwrap_or_default();
    try_request(
        method,
        &format!("{url}{path}"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
    .map(json_of)
}

/// Waits (at most 30 s) until `serve` shows run `run_id` waiting; the run.
fn until_waiting(serve: &Serve, run_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let run = serve.run(run_id);
        if run["status"] == "waiting" {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "run {run_id} is not waiting: {run}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn texts(run: &Value) -> Vec<String> {
    run["outcome"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages: {run}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn serve_postgres_a_database_that_cannot_be_reached_is_refused_naming_it_without_its_password() {
    let dir = Scratch::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for scheme in ["postgres", "postgresql"] {
        let db = format!("{scheme}://flowstep:hunter2-pw@127.0.0.1:{port}/runs");
        let out = flowstep(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--db", &db])
            .env("FLOWSTEP_API_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: the run store {scheme}://flowstep@127.0.0.1:{port}/runs is unavailable: cannot reach the Postgres server: Connection refused (os error 111) (is it running, and listening there?)\n"
            )
        );
    }
}

#[test]
fn serve_postgres_a_webhook_to_one_worker_resumes_the_run_another_started() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let db = pg.create_database("flowstep");
    let dir = Scratch::new();
    let flows = flows(&dir);
    let sandbox = TestSandbox::start();
    let a = worker(&dir, &db, &flows, &sandbox);
    let b = worker(&dir, &db, &flows, &sandbox);
    // The start line names the store (the line is logged just after the address is read).
    let named = format!(
        "(store postgres://postgres@127.0.0.1:{}/flowstep, at most 64 runs at once)",
        pg.port()
    );
    let since = Instant::now();
    while !b.log().contains(&named) && since.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(b.log().contains(&named), "{}", b.log());
    for w in [&a, &b] {
        let (status, body) = w.call("GET", "/readyz", None);
        assert_eq!(status, 200, "{body}");
    }
    // B starts the run and parks it at its wait (A sees it waiting: one database).
    let (status, body) = b.start_run(&json!({
        "flow": "conversation", "run_id": "order-1", "to": TO,
        "inputs": {"client_reference_id": "order-1"},
    }));
    assert_eq!(status, 201, "{body}");
    let waiting = until_waiting(&a, "order-1");
    let session = waiting["waiting_for"]["match"]["data.object.id"]
        .as_str()
        .unwrap_or_else(|| panic!("{waiting}"))
        .to_owned();
    // The payment's webhook goes to A, which records it and wakes the run.
    let event = paid("evt_paid_1", &session);
    assert_eq!(
        deliver(&a.url, &event).unwrap(),
        (200, json!({"stored": 1, "duplicates": 0}))
    );
    let run = a.wait_for_end("order-1", Duration::from_secs(30));
    assert_eq!(run["status"], "succeeded", "{run}");
    let said = texts(&run);
    assert_eq!(said.len(), 2, "{run}");
    assert!(
        said[0].starts_with("Please complete your payment here: "),
        "{run}"
    );
    assert_eq!(
        said[1],
        format!("Payment received for {session} (50000 paise)")
    );
    assert_eq!(
        run["attempt"], 2,
        "claimed once before the wait, once after"
    );
    // The same event at B is a duplicate: nothing is woken or sent again.
    assert_eq!(
        deliver(&b.url, &event).unwrap(),
        (200, json!({"stored": 0, "duplicates": 1}))
    );
    std::thread::sleep(Duration::from_millis(500));
    let received: Vec<String> = sandbox
        .sandbox
        .whatsapp_messages()
        .iter()
        .map(|m| m.text.clone())
        .filter(|t| t.starts_with("Payment received"))
        .collect();
    assert_eq!(
        received,
        [format!("Payment received for {session} (50000 paise)")],
        "sent once"
    );
    let (_, events) = b.call("GET", "/v1/events", None);
    assert_eq!(events["events"][0]["event_id"], "evt_paid_1", "{events}");
}

/// How many conversations the three-worker test carries: the issue's 1,000 (about 70 s in a
/// debug build on 2 cores, see docs/server.md), or `FLOWSTEP_PG_CONVERSATIONS`.
fn conversations() -> usize {
    std::env::var("FLOWSTEP_PG_CONVERSATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

/// The workers' addresses, updated when one is restarted, and their logs (a killed worker's
/// kept).
struct Workers {
    urls: RwLock<Vec<String>>,
    serves: Mutex<Vec<Option<Serve>>>,
    dead_logs: Mutex<Vec<String>>,
}

impl Workers {
    fn url(&self, i: usize) -> String {
        let urls = self.urls.read().unwrap();
        urls[i % urls.len()].clone()
    }

    /// Tries each worker from the `i`th on until one answers `METHOD path`.
    fn call_any(&self, i: usize, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let started = Instant::now();
        for k in i.. {
            if let Some(answer) = call(&self.url(k), method, path, body) {
                return answer;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no worker answered {method} {path}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        unreachable!()
    }

    /// Every worker's log so far, the killed ones' included.
    fn logs(&self) -> String {
        let mut all = self.dead_logs.lock().unwrap().join("\n");
        for s in self.serves.lock().unwrap().iter().flatten() {
            all.push_str(&s.log());
        }
        all
    }
}

/// Ids of the runs in `status`, through any worker.
fn ids_in(workers: &Workers, status: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/runs?status={status}&limit=1000&cursor={c}"),
            None => format!("/v1/runs?status={status}&limit=1000"),
        };
        let (code, page) = workers.call_any(ids.len(), "GET", &path, None);
        assert_eq!(code, 200, "{page}");
        for r in page["runs"].as_array().unwrap() {
            ids.push(r["run_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

#[test]
fn serve_postgres_three_workers_carry_conversations_through_faults_and_two_kills() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let n = conversations();
    let started = Instant::now();
    let db = pg.create_database("flowstep");
    let dir = Scratch::new();
    let flows = flows(&dir);
    let sandbox = TestSandbox::start();
    let serves: Vec<Serve> = (0..3)
        .map(|_| worker(&dir, &db, &flows, &sandbox))
        .collect();
    let workers = Workers {
        urls: RwLock::new(serves.iter().map(|s| s.url.clone()).collect()),
        serves: Mutex::new(serves.into_iter().map(Some).collect()),
        dead_logs: Mutex::default(),
    };
    // One in ten is never paid: its 4 s deadline ends it.
    let expires = |i: usize| i % 10 == 7;
    let ids: Vec<String> = (0..n).map(|i| format!("conv-{i:04}")).collect();
    let ended = AtomicUsize::new(0);
    let paid_events = AtomicUsize::new(0);
    let twice = AtomicUsize::new(0);
    let running = AtomicBool::new(true);
    let kills = Mutex::new(Vec::new());
    let payments: Mutex<BTreeMap<String, String>> = Mutex::default();
    let (_, faults) = std::thread::scope(|s| {
        let feeder = s.spawn(|| feed_faults(&sandbox, &running));
        // Starts, from four clients at once, each to the next worker (any that answers).
        let starters: Vec<_> = (0..4)
            .map(|client| {
                let (ids, workers) = (&ids, &workers);
                s.spawn(move || {
                    for (i, id) in ids.iter().enumerate().skip(client).step_by(4) {
                        let ttl = if expires(i) { "4s" } else { "10m" };
                        let body = json!({
                            "flow": "conversation", "run_id": id, "to": TO,
                            "inputs": {"client_reference_id": id, "ttl": ttl},
                        });
                        let (status, answer) = workers.call_any(i, "POST", "/v1/runs", Some(&body));
                        assert!(matches!(status, 200 | 201), "POST {id}: {status} {answer}");
                    }
                })
            })
            .collect();
        // The customer: pays each waiting conversation (but the expiring ones) with a signed
        // webhook to some worker; one in eight is delivered twice, to two workers.
        let payer = s.spawn(|| {
            let mut k = 0usize;
            while running.load(Ordering::Relaxed) {
                for id in ids_in(&workers, "waiting") {
                    let i: usize = id[5..].parse().unwrap();
                    if expires(i) || payments.lock().unwrap().contains_key(&id) {
                        continue;
                    }
                    let (_, run) = workers.call_any(i, "GET", &format!("/v1/runs/{id}"), None);
                    let Some(session) = run["waiting_for"]["match"]["data.object.id"].as_str()
                    else {
                        continue;
                    };
                    let event = paid(&format!("evt_{id}"), session);
                    let copies = if i % 8 == 3 { 2 } else { 1 };
                    for copy in 0..copies {
                        loop {
                            k += 1;
                            if let Some((status, answer)) = deliver(&workers.url(k), &event) {
                                assert_eq!(status, 200, "{answer}");
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        if copy == 1 {
                            twice.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    paid_events.fetch_add(1, Ordering::Relaxed);
                    payments.lock().unwrap().insert(id, session.to_owned());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // The operator's bad day: kill -9 a random worker once a third of the runs have
        // ended, and again at two thirds; each is restarted at once on a new port.
        let killer = s.spawn(|| {
            for (k, at) in [n / 3, 2 * n / 3].into_iter().enumerate() {
                while ended.load(Ordering::Relaxed) < at {
                    std::thread::sleep(Duration::from_millis(50));
                }
                // Some "payment received" messages held at the sandbox, so that the kill
                // surely catches runs in the middle of sending one (sent or not, it must not be
                // sent again by the worker that resumes the run).
                let before = requests_to(&sandbox, "POST", &messages_path());
                delay(&sandbox, &messages_path(), HELD, 1500);
                let held = Instant::now();
                while requests_to(&sandbox, "POST", &messages_path()) < before + HELD * 2 / 3
                    && held.elapsed() < Duration::from_secs(10)
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let victim = (rand_index(k) + k) % 3;
                let old = workers.serves.lock().unwrap()[victim].take().unwrap();
                workers.dead_logs.lock().unwrap().push(old.log());
                old.kill9();
                kills
                    .lock()
                    .unwrap()
                    .push((victim, ended.load(Ordering::Relaxed)));
                let fresh = worker(&dir, &db, &flows, &sandbox);
                workers.urls.write().unwrap()[victim] = fresh.url.clone();
                workers.serves.lock().unwrap()[victim] = Some(fresh);
            }
        });
        for starter in starters {
            starter.join().unwrap();
        }
        // Until every run has ended.
        let limit = Duration::from_secs(60 + n as u64 / 2);
        let wait_started = Instant::now();
        loop {
            let done = ids_in(&workers, "succeeded").len() + ids_in(&workers, "failed").len();
            ended.store(done, Ordering::Relaxed);
            if done == n {
                break;
            }
            assert!(
                wait_started.elapsed() < limit,
                "{done} of {n} runs ended after {limit:?}; kills {:?}\n{}",
                kills.lock().unwrap(),
                workers.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        killer.join().unwrap();
        running.store(false, Ordering::Relaxed);
        payer.join().unwrap();
        ((), feeder.join().unwrap())
    });
    let elapsed = started.elapsed();

    // What every run came to, against what the sandbox saw.
    let keys = session_keys(&sandbox);
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    let mut expired: BTreeMap<String, usize> = BTreeMap::new();
    for m in sandbox.sandbox.whatsapp_messages() {
        if let Some(rest) = m.text.strip_prefix("Payment received for ") {
            let session = rest.split(' ').next().unwrap().to_owned();
            *received.entry(session).or_default() += 1;
        } else if let Some(session) = m.text.strip_prefix("Link expired for ") {
            *expired.entry(session.to_owned()).or_default() += 1;
        }
    }
    let logs = workers.logs();
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    for line in logs.lines().filter(|l| l.contains("wait deadline passed")) {
        if let Some(id) = line
            .split("run_id=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
        {
            *fired.entry(id.to_owned()).or_default() += 1;
        }
    }
    let mut sessions = BTreeSet::new();
    let (mut succeeded, mut failed, mut timed_out, mut resumed, mut unknown) = (0, 0, 0, 0, 0);
    for (i, id) in ids.iter().enumerate() {
        let (_, run) = workers.call_any(i, "GET", &format!("/v1/runs/{id}"), None);
        let sent = keys.get(id.as_str()).cloned().unwrap_or_default();
        assert!(
            distinct(&sent).len() <= 1,
            "{id}: one idempotency key for its session: {sent:?}"
        );
        // Claimed once before its wait and once after: more is a run resumed after a kill.
        if run["attempt"].as_u64().unwrap() > 2 {
            resumed += 1;
        }
        match run["status"].as_str() {
            Some("succeeded") => {
                succeeded += 1;
                let session = session_of(&run);
                assert!(sessions.insert(session.clone()), "{id}: {session} twice");
                let last = run["outcome"]["messages"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap();
                let maybe = last["delivery_unknown"] == true;
                unknown += usize::from(maybe);
                let (book, what) = if expires(i) {
                    timed_out += 1;
                    // Fired at most once (its "Link expired" message, counted below, says
                    // that it fired): a worker killed between firing a deadline and logging
                    // it leaves no line.
                    assert!(
                        fired.get(id).copied().unwrap_or(0) <= 1,
                        "{id}: its deadline fired more than once"
                    );
                    (&expired, "Link expired")
                } else {
                    assert_eq!(fired.get(id), None, "{id} was paid: no deadline fired");
                    (&received, "Payment received")
                };
                assert!(
                    last["text"].as_str().unwrap().starts_with(what),
                    "{id}: {run}"
                );
                let got = book.get(&session).copied().unwrap_or(0);
                match maybe {
                    true => assert!(got <= 1, "{id}: {got} × {what}"),
                    false => assert_eq!(got, 1, "{id}: {got} × {what}: {run}"),
                }
            }
            // Only a run whose every attempt at its session met a fault may fail.
            Some("failed") => {
                failed += 1;
                eprintln!("{id} failed: {}", run["outcome"]["steps"]);
            }
            other => panic!("{id} has not ended ({other:?}): {run}"),
        }
    }
    let created = sandbox.sandbox.sessions_created();
    assert!(
        created >= succeeded && created <= succeeded + failed,
        "{created} sessions for {succeeded} succeeded and {failed} failed runs"
    );
    assert!(failed * 50 <= n, "{failed} of {n} failed");
    assert_eq!(kills.lock().unwrap().len(), 2);
    assert!(
        resumed >= 1,
        "the kills caught runs under way, which other workers resumed"
    );
    eprintln!(
        "{n} conversations on 3 workers over Postgres in {elapsed:?}: {succeeded} succeeded ({timed_out} by their deadline), {failed} failed, {resumed} claimed more than twice; {faults} faults at the sandbox, {} webhooks ({} delivered twice), kills (worker, runs ended then) {:?}; {created} sessions, {} payment messages, {unknown} of unknown delivery",
        paid_events.load(Ordering::Relaxed),
        twice.load(Ordering::Relaxed),
        kills.lock().unwrap(),
        received.values().sum::<usize>(),
    );
}

/// The session a run's payment link names (`.../c/pay/<id>#...`).
fn session_of(run: &Value) -> String {
    let first = texts(run).into_iter().next().unwrap_or_default();
    first
        .split("/c/pay/")
        .nth(1)
        .and_then(|r| r.split('#').next())
        .unwrap_or_else(|| panic!("no link in {run}"))
        .to_owned()
}

/// A pseudo-random worker index for kill `k`, from the clock (the test needs no seed: any
/// victim must do).
fn rand_index(k: usize) -> usize {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as usize;
    nanos / 1000 + k
}

/// A WhatsApp text sent by an http step limited to 20 requests a second to Graph.
fn limited_flow() -> String {
    format!(
        r#"flow: notify
inputs:
  n: {{ type: string }}
secrets:
  - name: WHATSAPP_TOKEN
    hosts: [graph.facebook.com]
steps:
  - id: send
    type: http
    method: POST
    url: https://graph.facebook.com/{version}/{SANDBOX_WHATSAPP_PHONE_NUMBER_ID}/messages
    auth: {{ type: bearer, token: "<<secrets.WHATSAPP_TOKEN>>" }}
    rate_limit: 20/s
    body_type: json
    body:
      messaging_product: whatsapp
      to: "{TO}"
      type: text
      text: {{ body: "Your order <<n>> has shipped" }}
"#,
        version = flowstep_whatsapp::DEFAULT_API_VERSION
    )
}

#[test]
fn serve_postgres_three_workers_hold_a_steps_rate_limit_together() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let db = pg.create_database("flowstep");
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("limited")).unwrap();
    dir.write("limited/notify.yaml", &limited_flow());
    let flows = dir.path().join("limited").to_str().unwrap().to_owned();
    let sandbox = TestSandbox::start();
    let workers: Vec<Serve> = (0..3)
        .map(|_| worker(&dir, &db, &flows, &sandbox))
        .collect();
    // 120 runs started through the three workers in turn: each worker alone would send its
    // share at 20 a second (60 a second in all) if the limit were not shared.
    const RUNS: usize = 120;
    for i in 0..RUNS {
        let body =
            json!({"flow": "notify", "inputs": {"n": i.to_string()}, "run_id": format!("n-{i}")});
        let (code, answer) = workers[i % 3].start_run(&body);
        assert_eq!(code, 201, "{answer}");
    }
    let started = Instant::now();
    loop {
        let (code, page) = workers[0].call("GET", "/v1/runs?status=succeeded&limit=1000", None);
        assert_eq!(code, 200, "{page}");
        if page["runs"].as_array().unwrap().len() == RUNS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not every run succeeded: {page}\n{}",
            workers
                .iter()
                .map(Serve::log)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let path = messages_path();
    let mut seen: Vec<_> = sandbox
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    seen.sort_by_key(|r| r.received_at_ms);
    assert_eq!(seen.len(), RUNS, "one message a run");
    let counts = per_second(&seen);
    assert!(
        within(&counts, 20),
        "requests per second at the sandbox: {counts:?}"
    );
    let span = seen.last().unwrap().received_at_ms - seen[0].received_at_ms;
    assert!(
        span >= 5_500,
        "{RUNS} requests at 20/s took only {span} ms: {counts:?}"
    );
}

#[test]
fn serve_postgres_connects_over_tls_when_the_url_asks_and_refuses_an_untrusted_server() {
    let ca = crate::tls_server::Ca::new("flowstep test Postgres CA");
    let server = ca.issue(&["localhost", "127.0.0.1"]);
    let Some(pg) = TestPostgres::start_with_tls(&server.cert, &server.key) else {
        return;
    };
    pg.create_database("flowstep");
    let dir = Scratch::new();
    std::fs::write(dir.path().join("ca.pem"), &ca.cert).unwrap();
    let other = crate::tls_server::Ca::new("someone else's CA");
    std::fs::write(dir.path().join("other.pem"), &other.cert).unwrap();
    let url = |query: &str| {
        format!(
            "postgres://postgres@localhost:{}/flowstep?{query}",
            pg.port()
        )
    };
    // Verified against the CA that signed the server's certificate: the server starts.
    let ca_path = dir.path().join("ca.pem");
    let verified = url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca_path.display()
    ));
    let serve = Serve::start(dir.path(), &["--db", &verified], &[]);
    let (code, body) = serve.call("GET", "/readyz", None);
    assert_eq!(code, 200, "{body}");
    drop(serve);
    // Another CA: refused at start, exit code 2, saying why.
    let other_path = dir.path().join("other.pem");
    let untrusted = url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        other_path.display()
    ));
    let out = flowstep(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--db", &untrusted])
        .env("FLOWSTEP_API_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is unavailable"), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}
