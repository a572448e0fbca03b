//! One regression test per way secrets leaked before (issue 8, faults 4 to 10), through the
//! real binary or the public API: helpers that wrapped a secret past the placement check, an
//! API's echo delivered to WhatsApp by the apology pattern, shell quoting in the dry-run curl
//! line, short secrets that garbled the report, `.env` values that were variable-expanded, and a
//! shared redactor that grew with every run.

use crate::echo_server::{EchoServer, PAY};
use crate::secret_matrix::{SENTINEL, SHOWN, assert_hidden};
use crate::support::{Run, Scratch, TestSandbox, flowstep};
use flowstep_engine::{
    Engine, RecordingChannel, Redactor, RunMode, RunRequest, Secret, Step, StepContext, StepError,
};
use flowstep_sandbox::{SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN};
use flowstep_spec::steps::StepDecl;
use flowstep_spec::{Diagnostic, Flow, SourceFile};
use serde_json::{Value, json};
use std::sync::Arc;

fn run_env(dir: &Scratch, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = flowstep(dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap().into()
}

/// Fault 4: `<<default secrets.K "x">>` passed the check and handed the raw key to the channel;
/// `this` and `lookup` read the whole scope. Now the check refuses every such read, and the
/// scope a message (or any non-credential position) renders against has no secrets at all.
#[test]
fn fault4_no_helper_can_read_a_secret_outside_credentials() {
    let dir = Scratch::new();
    for text in [
        r#"<<default secrets.K "x">>"#,
        "<<json this>>",
        r#"<<lookup (lookup this "secrets") "K">>"#,
        r#"<<lookup secrets "K">>"#,
    ] {
        let path = dir.write(
            "f.yaml",
            &format!(
                "flow: f\nsecrets: [K]\nsteps:\n  - id: m\n    type: message\n    text: '{text}'\n"
            ),
        );
        let out = run_env(&dir, &[("K", SENTINEL)], &["run", path.to_str().unwrap()]);
        assert_eq!(out.code, 2, "{text}: {out:?}");
        assert!(out.stderr.contains("error[E012]"), "{text}: {}", out.stderr);
        assert!(!out.stdout.contains("message from"), "{text}: nothing sent");
        assert_hidden(SENTINEL, text, &out.all_output());
    }
}

/// A plugin step that records which top-level names its two scopes hold.
struct ScopeProbe;

#[async_trait::async_trait]
impl Step for ScopeProbe {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let names = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
        let public = names(cx.scope().value());
        let credentials = names(cx.credential_scope().value());
        let key_len = cx.credential_scope().value()["secrets"]["K"]
            .as_str()
            .map_or(0, str::len);
        cx.record("public", json!(public));
        cx.record("credentials", json!(credentials));
        cx.record("key_len", json!(key_len));
        Ok(())
    }
}

#[test]
fn fault4_the_scope_of_non_credential_positions_holds_no_secrets() {
    let mut engine = Engine::new();
    engine.register(
        "probe",
        |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> {
            Ok(Box::new(ScopeProbe))
        },
    );
    let yaml = "flow: f\ninputs:\n  name: { type: string, default: Asha }\nsecrets: [K]\nsteps:\n  - id: p\n    type: probe\n";
    let (plan, _) = engine
        .compile_source(SourceFile::new("f.yaml", yaml))
        .unwrap();
    let channel = RecordingChannel::new();
    let inputs = flowstep_engine::resolve_inputs(plan.flow(), Vec::new()).unwrap();
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest {
            inputs,
            secrets: [("K".to_owned(), Secret::new(SENTINEL))].into(),
            run_id: Some("r1".into()),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }))
        .unwrap();
    let details = &outcome.steps[0].details;
    assert_eq!(details["public"], json!(["name", "steps", "run"]));
    assert_eq!(
        details["credentials"],
        json!(["name", "steps", "run", "secrets"])
    );
    assert_eq!(details["key_len"], SENTINEL.len());
}

/// Fault 5: a 401 that repeated the key, and the documented apology pattern, delivered the raw
/// key on WhatsApp; a body built from the error carried it to another host. Every text a
/// channel is handed is redacted first, and what a step brings into the scope is redacted
/// before any later step can read it.
#[test]
fn fault5_the_apology_pattern_never_delivers_an_echoed_key() {
    let sb = TestSandbox::start();
    let api = EchoServer::start();
    let other = EchoServer::start();
    let dir = Scratch::new();
    let flow = format!(
        "flow: sorry\nsecrets: [K]\nsteps:\n  - id: call\n    type: http\n    url: {}/echo/key\n    auth: {{ type: bearer, token: \"<<secrets.K>>\" }}\n    on_error: sorry\n  - id: done\n    type: message\n    text: Paid\n    next: end\n  - id: sorry\n    type: message\n    text: \"Sorry (<<steps.call.error.message>>)\"\n  - id: report\n    type: http\n    method: POST\n    url: {}/collect\n    body_type: json\n    body: {{ note: \"<<steps.call.error.message>>\" }}\n  - id: end\n    type: set\n    values: {{ finished: true }}\n",
        api.url(),
        other.url()
    );
    let path = dir.write("sorry.yaml", &flow);
    let out = run_env(
        &dir,
        &[
            ("K", SENTINEL),
            ("WHATSAPP_PHONE_NUMBER_ID", SANDBOX_WHATSAPP_PHONE_NUMBER_ID),
            ("WHATSAPP_TOKEN", SANDBOX_WHATSAPP_TOKEN),
        ],
        &[
            "run",
            path.to_str().unwrap(),
            "--route",
            &format!("https://graph.facebook.com={}", sb.url()),
            "--channel",
            "whatsapp",
            "--to",
            "+919000090000",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let received = sb.sandbox.whatsapp_messages();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].text,
        format!("Sorry (Invalid API Key provided: Bearer {SHOWN})")
    );
    assert_eq!(out.json()["messages"][0]["text"], received[0].text);
    // The other host got the redacted text, and nothing else of the key.
    let body = other.received();
    assert!(
        body.ends_with(&format!(
            "{{\"note\":\"Invalid API Key provided: Bearer {SHOWN}\"}}"
        )),
        "{body}"
    );
    assert_hidden(SENTINEL, "the other host", &body);
    assert_hidden(SENTINEL, "the run's output", &out.all_output());
    // The API itself did get the key: it was meant to.
    assert!(api.received().contains(&format!("Bearer {SENTINEL}")));
}

/// Fault 5, for an embedder's channel: whatever a plugin step sends, the channel is handed
/// redacted text.
#[test]
fn fault5_any_channel_is_handed_redacted_text() {
    struct Leaky;
    #[async_trait::async_trait]
    impl Step for Leaky {
        async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
            let key = cx.secrets()[0].value.expose().to_owned();
            cx.send_message(format!("key={key} / {}", key.replace('/', "\\/")))
                .await?;
            Ok(())
        }
    }
    let mut engine = Engine::new();
    engine.register(
        "leaky",
        |_: &StepDecl, _: &Flow| -> Result<Box<dyn Step>, Vec<Diagnostic>> { Ok(Box::new(Leaky)) },
    );
    let (plan, _) = engine
        .compile_source(SourceFile::new(
            "f.yaml",
            "flow: f\nsecrets: [K]\nsteps:\n  - id: l\n    type: leaky\n",
        ))
        .unwrap();
    let channel = RecordingChannel::new();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan.run(RunRequest {
            inputs: Default::default(),
            secrets: [("K".to_owned(), Secret::new(SENTINEL))].into(),
            run_id: None,
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }))
        .unwrap();
    assert_eq!(channel.sent()[0].text, format!("key={SHOWN} / {SHOWN}"));
}

/// Fault 6: the dry-run curl line printed a key containing `'` whole, because it is written
/// there as `'\''`.
#[test]
fn fault6_the_dry_run_curl_line_hides_a_shell_quoted_key() {
    let dir = Scratch::new();
    let path = dir.write(
        "f.yaml",
        "flow: f\nsecrets: [K]\nsteps:\n  - id: call\n    type: http\n    url: http://127.0.0.1:9/x\n    auth: { type: bearer, token: \"<<secrets.K>>\" }\n",
    );
    let out = run_env(
        &dir,
        &[("K", SENTINEL)],
        &["run", path.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let curl = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("curl "))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        curl,
        format!(
            "curl 'http://127.0.0.1:9/x' -H 'User-Agent: flowstep/{}' -H 'Accept: application/json' -H 'Authorization: Bearer {SHOWN}'",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_hidden(SENTINEL, "the dry run", &out.all_output());
}

/// Fault 7: with `API_USER=u API_PASS=p` the report's keys became `"req[redacted]est"` and the
/// summary line lost its URL; `PIN=1234` turned a link into `.../order-[redacted]`. Secrets
/// under 8 characters are now masked only as whole tokens, never in keys, with a warning.
#[test]
fn fault7_short_secrets_never_garble_the_report() {
    let api = EchoServer::start();
    let dir = Scratch::new();
    let flow = format!(
        "flow: short\nsecrets: [API_USER, API_PASS, PIN]\nsteps:\n  - id: call\n    type: http\n    method: POST\n    url: {}/pay\n    auth: {{ type: basic, username: \"<<secrets.API_USER>>\", password: \"<<secrets.API_PASS>>\" }}\n    headers: {{ X-Pin: \"<<secrets.PIN>>\" }}\n    response: {{ map: {{ link: $.link, pin: $.pin }} }}\n  - id: tell\n    type: message\n    text: \"Pay at <<link>> (PIN <<pin>>)\"\noutputs:\n  link: <<link>>\n",
        api.url()
    );
    let path = dir.write("short.yaml", &flow);
    let env = [("API_USER", "u"), ("API_PASS", "p"), ("PIN", "1234")];
    let text = run_env(&dir, &env, &["run", path.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{text:?}");
    let warnings: Vec<&str> = text
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: secret"))
        .collect();
    let rule = "a secret shorter than 8 characters is hidden only where it stands as a whole word, so text that merely contains it is shown as it is (see docs/security.md)";
    assert_eq!(
        warnings,
        [
            format!("warning: secret API_PASS is only 1 character long: {rule}"),
            format!("warning: secret API_USER is only 1 character long: {rule}"),
            format!("warning: secret PIN is only 4 characters long: {rule}"),
        ]
    );
    assert!(
        text.stdout.contains(&format!(
            "  ok   call (http) POST {}/pay -> 200 [",
            api.url()
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "message from tell:\n  │ Pay at https://pay.example/order-912345/pay (PIN [redacted])\n"
        ),
        "{}",
        text.stdout
    );
    let json = run_env(
        &dir,
        &env,
        &["run", path.to_str().unwrap(), "--output", "json"],
    );
    let v = json.json();
    let call = &v["steps"][0];
    assert_eq!(call["request"]["url"], format!("{}/pay", api.url()));
    assert_eq!(
        call["request"]["headers"]["Authorization"],
        "Basic [redacted]"
    );
    assert_eq!(call["request"]["headers"]["X-Pin"], "[redacted]");
    let mut body: Value = serde_json::from_str(PAY).unwrap();
    body["pin"] = json!("[redacted]");
    assert_eq!(call["response"]["body"], body);
    assert_eq!(v["outputs"]["link"], "https://pay.example/order-912345/pay");
    let keys: Vec<&String> = call.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "status",
            "attempts",
            "duration_ms",
            "request",
            "response"
        ]
    );
    // The API got the real values.
    let got = api.received();
    assert!(got.contains("authorization: Basic dTpw\r\n"), "{got}");
    assert!(got.contains("x-pin: 1234\r\n"), "{got}");
}

/// Fault 9: `K="pa$$word-${PATH}"` in `.env` was sent as `pa-/root/...`. Values are literal,
/// a malformed line is an error naming the file and line, and `-v` and the missing-secret help
/// name the file.
#[test]
fn fault9_dotenv_values_are_taken_literally() {
    let api = EchoServer::start();
    let dir = Scratch::new();
    let path = dir.write(
        "f.yaml",
        &format!(
            "flow: f\nsecrets: [K]\nsteps:\n  - id: call\n    type: http\n    url: {}/ok\n    auth: {{ type: bearer, token: \"<<secrets.K>>\" }}\n",
            api.url()
        ),
    );
    let dotenv = dir.path().join(".env");
    dir.write(".env", "# test key\nK=\"pa$$word-${PATH}\"\n");
    let out: Run = flowstep(dir.path())
        .env_remove("K")
        .args(["-v", "run", path.to_str().unwrap()])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        api.received()
            .contains("authorization: Bearer pa$$word-${PATH}\r\n"),
        "{}",
        api.received()
    );
    assert!(
        out.stderr
            .contains(&format!("reading secrets from {}", dotenv.display())),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("secret K: from {}:2", dotenv.display())),
        "{}",
        out.stderr
    );

    dir.write(".env", "K=ok\nexport\nL=1\n");
    let out: Run = flowstep(dir.path())
        .env_remove("K")
        .args(["run", path.to_str().unwrap()])
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: {}:2: expected NAME=value, and this line has no `=` (its text is not shown, since it may hold a secret)\n",
            dotenv.display()
        )
    );

    dir.write(".env", "OTHER=1\n");
    let missing = |out: &Run, state: &str| {
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains(&format!(
                "error: missing secret K: set the environment variable K (or add K=... to {}, {state})",
                dotenv.display()
            )),
            "{}",
            out.stderr
        );
    };
    let cmd = || {
        let out: Run = flowstep(dir.path())
            .env_remove("K")
            .args(["run", path.to_str().unwrap()])
            .output()
            .unwrap()
            .into();
        out
    };
    missing(&cmd(), "which does not set it");
    std::fs::remove_file(&dotenv).unwrap();
    missing(&cmd(), "which does not exist");
}
