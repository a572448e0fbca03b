//! The `http` step itself: render and check the request, send it with retries, record what
//! happened, turn failures into step errors a flow can act on, and map the response.

use crate::api_error;
use crate::auth;
use crate::binary;
use crate::binding;
use crate::config::{FileAccess, HttpConfig, route};
use crate::connection::Connection;
use crate::dry_run;
use crate::files;
use crate::hints;
use crate::history::History;
use crate::mapping;
use crate::paginate::{self, Pager};
use crate::rate_limit::Limits;
use crate::render::Renderer;
use crate::request::{PrepareInput, PreparedRequest, prepare};
use crate::retry::{self, Attempt, Decision, Wait};
use crate::secret_reads::SecretRead;
use crate::send::{self, AttemptInput, Clients, Failure, Profile, Received};
use crate::token_cache::{Asked, TokenCache};
use crate::token_request;
use crate::url::host_of;
use async_trait::async_trait;
use flowstep_engine::{
    EffectKind, ErrorKind, Redactor, RunMode, Secret, SourcePos, Step, StepContext, StepError,
};
use flowstep_spec::Fields;
use flowstep_spec::duration::MAX_DURATION;
use flowstep_spec::steps::{Auth, HttpSpec, Idempotency, OAuth2, PaginateSpec};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Response headers worth keeping in the record: the ones a person debugging a payment asks
/// for. Cookies and the like stay out.
const RECORDED_HEADERS: &[&str] = &[
    "request-id",
    "idempotent-replayed",
    "content-type",
    "retry-after",
    "stripe-should-retry",
];

/// The longest body excerpt put in an error message.
const EXCERPT_CHARS: usize = 200;

/// What every step of one `kind()` shares: the configuration and the connection pool.
#[derive(Debug)]
pub struct Shared {
    /// The embedder's settings.
    pub config: HttpConfig,
    /// reqwest clients.
    pub clients: Clients,
    /// The process-wide and per-host rate limits.
    pub limits: Limits,
    /// OAuth2 access tokens, shared by every step and run.
    pub tokens: TokenCache,
}

/// One bound `type: http` step.
#[derive(Debug)]
pub struct HttpStep {
    /// Shared by every step of the engine.
    pub shared: Arc<Shared>,
    /// The step as written.
    pub spec: HttpSpec,
    /// Which parts of the request read which secrets.
    pub reads: Vec<SecretRead>,
    /// TLS, proxy, redirects and HTTP version, settled when the step was bound.
    pub connection: Connection,
    /// The client options as interned by the shared [`Clients`].
    pub profile: Profile,
    /// An `oauth2` auth's token URL, checked when the step was bound.
    pub token_url: Option<reqwest::Url>,
    /// Which secrets an `oauth2` auth's token request reads.
    pub token_reads: Vec<SecretRead>,
}

#[async_trait]
impl Step for HttpStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        self.run_inner(cx).await.map_err(|mut e| {
            hints::attach(&self.spec.hints, &mut e);
            e
        })
    }

    /// `body` (JSON when it parses, else text), `http_status`, and `headers` by lower-case
    /// name (`<<steps.ID.headers.request-id>>`; names are matched in any case when the flow
    /// is read).
    fn fields(&self) -> Fields {
        Fields::named([
            ("body", Fields::Any),
            ("http_status", Fields::leaf()),
            ("headers", Fields::Any),
        ])
    }
}

/// What the attempts at one request came to.
struct Exchange {
    /// The last attempt's answer, or why there was none.
    result: Result<Received, Failure>,
    /// Attempts made at the request so far, this exchange's included.
    attempts: u32,
    /// A `Retry-After` past the retry budget that ended the retries.
    past_budget: Option<std::time::Duration>,
}

/// An `oauth2` auth's access token as the step's requests carry it: every page's too, since
/// a later page's request is built from the one before.
struct Bearer<'o> {
    /// The auth as written.
    auth: &'o OAuth2,
    /// The token on the request now.
    token: Secret,
}

impl HttpStep {
    async fn run_inner(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let config = &self.shared.config;
        // Until a request leaves, nothing has been attempted.
        cx.set_attempts(0);
        let flow = cx.flow();
        let step_id = cx.decl().id.value.as_str();
        let base = files::base_dir(flow.file.name());
        let mut req = prepare(
            &self.spec,
            &PrepareInput {
                renderer: Renderer {
                    env: &flow.templates,
                    scope: cx.scope(),
                    credentials: cx.credential_scope(),
                    file: &flow.file,
                },
                redactor: cx.redactor(),
                run_id: cx.run_id(),
                step_id,
                user_agent: &config.user_agent,
                files: (config.files == FileAccess::BesideFlow).then_some(base.as_path()),
            },
        )?;
        binding::check(&req, &self.reads, cx.secrets(), &flow.file)?;
        let routed = route(&config.routes, req.url.as_str());
        let target = routed.clone().unwrap_or_else(|| req.url.to_string());
        // An OAuth2 token is on the request before it is recorded (and hidden in the record),
        // except in a dry run, which asks the token endpoint nothing either.
        let mut bearer = None;
        if let Auth::OAuth2(o) = &self.spec.auth {
            if cx.mode() == RunMode::DryRun {
                req.headers.set(
                    "Authorization",
                    format!("Bearer <OAuth2 token from {}>", o.token_url.value),
                );
            } else {
                let (t, how) = self.oauth_token(cx, o, None).await?;
                auth::set_token(&mut req.headers, t.expose(), cx.redactor())?;
                cx.record(
                    "oauth2",
                    json!({"token_url": o.token_url.value, "token": how}),
                );
                bearer = Some(Bearer { auth: o, token: t });
            }
        }
        let record = req.to_record(routed.as_deref());
        tracing::trace!(
            step = step_id,
            request = %cx.redactor().redact(&record.to_string()),
            "http request"
        );
        cx.record("request", record);

        let save_to = match &self.spec.save_to {
            Some(t) => Some(self.renderer(cx).text(t)?),
            None => None,
        };
        // Where the answer is to be saved is known now: a path that cannot be written stops
        // the step before anything is sent, rather than after the request took effect.
        if let (Some(to), Some(t), RunMode::Live) = (&save_to, &self.spec.save_to, cx.mode()) {
            let refused = |why: String| {
                StepError::invalid(format!("response.save_to: {why}; nothing was sent"))
                    .located_at(self.renderer(cx).position(t.span()))
            };
            if self.shared.config.files != FileAccess::BesideFlow {
                return Err(refused(
                    "this runner does not let flows write files (`HttpConfig::files`)".into(),
                ));
            }
            let at = files::check_writable(&base, to).map_err(&refused)?;
            let flow_file = std::fs::canonicalize(flow.file.name()).ok();
            let target = at
                .parent()
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        std::path::Path::new(".")
                    } else {
                        d
                    }
                })
                .and_then(|d| std::fs::canonicalize(d).ok())
                .zip(at.file_name())
                .map(|(d, n)| d.join(n));
            if flow_file.is_some() && flow_file == target {
                return Err(refused(format!(
                    "{} is the flow file itself; save the response elsewhere",
                    at.display()
                )));
            }
        }
        if cx.mode() == RunMode::DryRun {
            let mut curl = dry_run::curl(&req, &target);
            if let Some(to) = &save_to {
                curl.push_str(&format!(
                    " -o {}",
                    dry_run::shell_quote(&files::shown(&base, to))
                ));
            }
            cx.record("curl", json!(curl));
            if let Some(p) = &self.spec.paginate {
                cx.record("pagination", paginate::planned(p));
            }
            // Stand-ins that say where the value would come from; what is computed from them
            // later is shown as depending on this response, never made up.
            let source = format!("the response of {step_id}");
            for m in &self.spec.map {
                cx.set_pending(
                    m.var.value.clone(),
                    mapping::placeholder(&m.var.value, &m.source, step_id),
                    source.clone(),
                )?;
            }
            for key in ["http_status", "headers", "body"] {
                cx.expose_pending(key, json!(format!("<{key} from {step_id}>")), &source);
            }
            return Ok(());
        }

        if self.profile.options().insecure {
            // Never silent: also drawn as warning W004 whenever the flow is checked or run.
            tracing::warn!(
                "{step_id}: TLS certificates are not checked (`insecure: true`); anyone on the \
                 network path can read and change this request and its answer"
            );
            cx.record(
                "warning",
                json!("TLS certificates were not checked (`insecure: true`)"),
            );
        }
        if let Some(spec) = &self.spec.paginate {
            return self.run_pages(cx, &req, bearer, spec).await;
        }
        let (_, received, is_json) = self.exchange(cx, &mut req, &mut bearer, 0).await?;
        if let Some(to) = &save_to {
            self.save(cx, &base, to, &received)?;
        }
        // The request succeeded: the status says so next to why its answer could not be used.
        // The body is read from the response record (`save` puts what it made of it there
        // too), and exposed as a copy of it, taken once the record is redacted.
        let response = mapping::Response {
            status: received.status,
            headers: &received.headers,
            body: &received.body,
            json: recorded_json(cx, is_json),
        };
        let values = mapping::select_all(&self.spec.map, &response);
        cx.expose_recorded("body", "response", "body");
        let values = values.map_err(|mut e| {
            e.http_status = Some(received.status);
            e
        })?;
        for (var, value) in values {
            cx.set_var(var, value)?;
        }
        Ok(())
    }

    /// `paginate:`: each page sent like a request of its own (retries, rate limit, secret
    /// bindings), its items collected, until the API has no next page or `max_pages` is
    /// reached. The mappings read the collection (`$.items`, `$.pages`, `$.capped`) and the
    /// last page's headers and status.
    async fn run_pages(
        &self,
        cx: &mut StepContext<'_>,
        req: &PreparedRequest,
        mut bearer: Option<Bearer<'_>>,
        spec: &PaginateSpec,
    ) -> Result<(), StepError> {
        let config = &self.shared.config;
        let flow = cx.flow();
        let mut pager = Pager::new(spec);
        let mut page = pager.first(req);
        let mut attempts = 0;
        let last = loop {
            if pager.pages() > 0 {
                // A later page's URL comes from the API (a cursor, a link): checked like the
                // first one's before anything is sent.
                binding::check(&page, &self.reads, cx.secrets(), &flow.file)?;
            }
            // A new OAuth2 token after a 401 goes on this page, and so on every later one.
            let exchanged = self.exchange(cx, &mut page, &mut bearer, attempts).await;
            let (total, received, is_json) = match exchanged {
                Ok(x) => x,
                Err(mut e) => {
                    if pager.pages() > 0 {
                        e.message = format!("page {}: {}", pager.pages() + 1, e.message);
                    }
                    cx.record("pagination", pager.record());
                    return Err(e);
                }
            };
            attempts = total;
            let next = pager.next(&page, &received, recorded_json(cx, is_json), &config.routes);
            let next = match next {
                Ok(n) => n,
                Err(e) => {
                    cx.record("pagination", pager.record());
                    return Err(e);
                }
            };
            match next {
                Some(n) => page = n,
                None => break received,
            }
        };
        let collected = pager.collected();
        // The report's step line says so too; `-v` shows it as it happens.
        if collected["capped"] == json!(true) {
            tracing::info!(
                "{}: stopped after max_pages ({}) pages; the API had more",
                cx.decl().id.value,
                spec.max_pages
            );
        }
        cx.record("pagination", pager.record());
        // The step's response is the last page's, with the collection as its body: what the
        // mappings read.
        let (mut record, _) = response_record(&last);
        record["body"] = collected;
        cx.record("response", record);
        let response = mapping::Response {
            status: last.status,
            headers: &last.headers,
            body: &last.body,
            json: recorded_json(cx, true),
        };
        let values = mapping::select_all(&self.spec.map, &response);
        cx.expose_recorded("body", "response", "body");
        let values = values.map_err(|mut e| {
            e.http_status = Some(last.status);
            e
        })?;
        for (var, value) in values {
            cx.set_var(var, value)?;
        }
        Ok(())
    }

    /// The renderer of the step's templates.
    fn renderer<'c>(&self, cx: &'c StepContext<'_>) -> Renderer<'c> {
        let flow = cx.flow();
        Renderer {
            env: &flow.templates,
            scope: cx.scope(),
            credentials: cx.credential_scope(),
            file: &flow.file,
        }
    }

    /// `response.save_to`: writes a 2xx body to the file (whole or not at all) and records
    /// the body the step holds then: a binary one as its type, size and where it was saved;
    /// text or JSON as it was, the record saying where it went too.
    fn save(
        &self,
        cx: &mut StepContext<'_>,
        base: &std::path::Path,
        to: &str,
        received: &Received,
    ) -> Result<(), StepError> {
        // Whether this runner lets flows write files was checked before the request was sent.
        let saved = files::save(base, to, &received.body).map_err(|e| {
            let mut e = StepError::invalid(format!(
                "response.save_to: {e}; the request succeeded (HTTP {}) and took effect; only \
                 saving its response failed",
                received.status
            ));
            e.http_status = Some(received.status);
            if let Some(t) = &self.spec.save_to {
                e = e.located_at(self.renderer(cx).position(t.span()));
            }
            e
        })?;
        let mut record = cx
            .recorded("response")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if binary::is_binary(&received.headers, &received.body) {
            record["body"] = binary::described(&received.headers, &received.body, Some(&saved));
        }
        record["saved_to"] = json!(saved);
        record["bytes"] = json!(received.body.len());
        cx.record("response", record);
        Ok(())
    }

    /// Sends `req` with the step's retries and rate limit, and records its response. With an
    /// OAuth2 token, a 401 gets one new token (put on `req`, for the pages after it too) and
    /// one more round of attempts, numbered on; a second 401 stands. A 2xx answer is recorded
    /// (its body, JSON when it parses, else text, read back with [`recorded_json`]) and comes
    /// back with whether its body is JSON and the attempts so far (`before` plus this
    /// request's); anything else fails the step.
    async fn exchange(
        &self,
        cx: &mut StepContext<'_>,
        req: &mut PreparedRequest,
        bearer: &mut Option<Bearer<'_>>,
        before: u32,
    ) -> Result<(u32, Received, bool), StepError> {
        let config = &self.shared.config;
        let step_id = cx.decl().id.value.as_str();
        let routed = route(&config.routes, req.url.as_str());
        let target = routed.clone().unwrap_or_else(|| req.url.to_string());
        let redactor = cx.redactor().clone();
        let retry = &self.spec.retry;
        let mut history = History::default();
        let mut exchange = self
            .send_with_retries(cx, req, &target, &redactor, 0, &mut history)
            .await?;
        // A 401 to an OAuth2 token: it may have been revoked or expired early. One new token
        // and one more try; a second 401 stands.
        let mut refreshed = None;
        if let Some(b) = bearer.as_mut()
            && matches!(&exchange.result, Ok(r) if r.status == 401)
        {
            let why = "the API answered 401 Unauthorized to the OAuth2 token; asking the token \
                       endpoint for a new one and trying once more";
            tracing::info!("{step_id}: {why}");
            if let Some(w) = config.wire_log.as_ref() {
                w.note(&format!("{step_id}: {why}"), &redactor);
            }
            cx.set_attempts(before + exchange.attempts);
            let (t, _) = self
                .oauth_token(cx, b.auth, Some(&b.token))
                .await
                .map_err(|mut e| {
                    // The request itself was sent: only the retry was not.
                    let said = e.message.replacen(token_request::NOT_SENT, "", 1);
                    e.message = format!(
                        "the API answered 401 Unauthorized to the OAuth2 token, and a new one \
                         could not be had, so the request was not sent again: {said}"
                    );
                    e
                })?;
            auth::set_token(&mut req.headers, t.expose(), &redactor)?;
            cx.record(
                "oauth2",
                json!({"token_url": b.auth.token_url.value, "token": "fetched again after a 401"}),
            );
            b.token = t;
            refreshed = Some(b.auth);
            exchange = self
                .send_with_retries(cx, req, &target, &redactor, exchange.attempts, &mut history)
                .await?;
        }
        let Exchange {
            result,
            attempts,
            past_budget,
        } = exchange;
        cx.set_attempts(before + attempts);
        let advice = self.rerun_advice(req, cx.run_id());
        // What the API asked for when it was more than the budget allows, for any failure.
        let asked_too_long = |mut e: StepError| {
            if let Some(asked) = past_budget {
                e.message = format!(
                    "{}; the API asked to wait {} before trying again (Retry-After), which is \
                     past the step's retry budget (retry.budget: {} from the first attempt), so \
                     it was not retried",
                    e.message.trim_end_matches('.'),
                    humantime(asked),
                    humantime(retry.budget)
                );
            }
            e
        };

        let received = match result {
            Ok(r) => r,
            Err(f) => {
                let e = self.failure_error(f, req, routed.as_deref(), attempts, &history, &advice);
                return Err(history.conclude(asked_too_long(e), attempts, &advice));
            }
        };
        let (record, is_json) = response_record(&received);
        cx.record("response", record);
        cx.expose("http_status", json!(received.status));
        cx.expose("headers", all_headers(&received));
        // With `redirects: {follow: false}` a redirect is the answer asked for.
        let kept_redirect = !self.connection.redirects.follow
            && matches!(received.status, 301 | 302 | 303 | 307 | 308);
        if !(200..300).contains(&received.status) && !kept_redirect {
            let mut e = asked_too_long(status_error(
                &received,
                recorded_json(cx, is_json),
                &redactor,
            ));
            if let (401, Some(o)) = (received.status, refreshed) {
                e.message = format!(
                    "{}; a new OAuth2 token from {} was refused too, so the client may not be \
                     allowed to call this API: check its `scope` and `audience`",
                    e.message.trim_end_matches('.'),
                    o.token_url.value
                );
            }
            cx.expose_recorded("body", "response", "body");
            return Err(history.conclude(e, attempts, &advice));
        }
        Ok((before + attempts, received, is_json))
    }

    /// Sends `req` (after `before` attempts at it), retrying as the step's rules allow, and
    /// says what came of it. Attempts are numbered on from `before`, and `history` keeps the
    /// first that may have taken effect across calls.
    async fn send_with_retries(
        &self,
        cx: &mut StepContext<'_>,
        req: &PreparedRequest,
        target: &str,
        redactor: &Redactor,
        before: u32,
        history: &mut History,
    ) -> Result<Exchange, StepError> {
        let config = &self.shared.config;
        let flow = cx.flow();
        let step_id = cx.decl().id.value.as_str();
        // Durations are at most an hour by the check; a spec built by hand is held to it too,
        // so that no deadline computed from them can overflow.
        let input = AttemptInput {
            request: req,
            routes: &config.routes,
            secrets: cx.secrets(),
            reads: &self.reads,
            redactor,
            timeout: self.spec.timeout.min(MAX_DURATION),
            connect_timeout: self.spec.connect_timeout.min(MAX_DURATION),
            max_bytes: config.max_response_bytes,
            url_at: SourcePos::new(flow.file.clone(), self.spec.url.span()),
            profile: &self.profile,
            redirects: self.connection.redirects,
        };
        let replay_safe = req.replay_safe();
        let retry = &self.spec.retry;
        let max_attempts = before + retry.max_attempts.max(1);
        let first_started = Instant::now();
        let mut past_budget = None;
        let mut attempts = before;
        // Limits are per host as the flow writes it, whatever a route sends it to.
        let host = host_of(&req.url);
        let result = loop {
            attempts += 1;
            self.shared
                .limits
                .acquire(&host, self.spec.rate_limit)
                .await;
            // The run's journal records the request before it may take effect, so that a run
            // resumed after a crash knows it may have been sent (and sends it again only when
            // that is safe: the same idempotency key, or an idempotent method).
            cx.before_effect(EffectKind::Request {
                method: req.method.clone(),
                idempotency_key: req.idempotency_key.clone(),
                replay_safe,
            })
            .await?;
            let wire = config.wire_log.as_ref();
            if let Some(w) = wire {
                w.request(step_id, (attempts, max_attempts), req, target, redactor);
            }
            let started = Instant::now();
            let result = send::attempt(&self.shared.clients, &input).await;
            let elapsed_ms = started.elapsed().as_millis();
            if let Some(w) = wire {
                send::log_attempt(w, &result, elapsed_ms, redactor);
            }
            let seen = match &result {
                Ok(r) => Attempt::Answered {
                    status: r.status,
                    should_retry: header(r, "stripe-should-retry")
                        .map(|v| v.eq_ignore_ascii_case("true")),
                    retry_after: header(r, "retry-after")
                        .and_then(|v| retry::parse_retry_after(v, SystemTime::now())),
                },
                Err(Failure::NotSent { .. }) => Attempt::NotSent,
                Err(Failure::NoAnswer {
                    timeout, detail, ..
                }) => {
                    history.may_have_executed(attempts, self.no_answer(*timeout, detail, None));
                    Attempt::NoAnswer
                }
                Err(Failure::Final(_)) => {
                    break result;
                }
            };
            if let Attempt::Answered {
                status: 429,
                retry_after,
                ..
            } = &seen
            {
                self.shared.limits.too_many_requests(&host, *retry_after);
            }
            tracing::debug!(
                step = step_id,
                attempt = attempts,
                method = %req.method,
                url = %redactor.redact(target),
                status = ?result.as_ref().ok().map(|r| r.status),
                elapsed_ms,
                "http attempt"
            );
            // Only when it is written: the body made text and redacted costs as much as the
            // rest of the step's redaction.
            if let (Ok(r), true) = (&result, tracing::enabled!(tracing::Level::TRACE)) {
                let shown = if binary::is_binary(&r.headers, &r.body) {
                    binary::not_shown(&r.headers, &r.body)
                } else {
                    redactor
                        .redact(&String::from_utf8_lossy(&r.body))
                        .into_owned()
                };
                tracing::trace!(step = step_id, body = %shown, "http response body");
            }
            let Decision::Retry { at_least } = retry::decide(&seen, replay_safe) else {
                break result;
            };
            if attempts - before >= retry.max_attempts.max(1) {
                break result;
            }
            let backoff = retry::backoff(attempts - before, retry.base_delay, retry.max_delay);
            let left = retry
                .budget
                .min(MAX_DURATION)
                .saturating_sub(first_started.elapsed());
            let got = match &seen {
                Attempt::NotSent => "could not connect".to_owned(),
                Attempt::NoAnswer => "got no answer".to_owned(),
                Attempt::Answered { status, .. } => {
                    format!("got HTTP {}", send::status_line(*status))
                }
            };
            match retry::plan_wait(backoff, at_least, left) {
                Wait::Sleep(wait) => {
                    let why = match at_least {
                        Some(asked) if asked >= wait => {
                            format!(" (the API's Retry-After: {})", humantime(asked))
                        }
                        _ => String::new(),
                    };
                    tracing::info!(
                        "{step_id}: attempt {attempts} of {max_attempts} {got}; waiting {}{why} \
                         before attempt {}",
                        humantime(wait),
                        attempts + 1
                    );
                    tokio::time::sleep(wait).await;
                }
                Wait::PastBudget { asked } => {
                    tracing::info!(
                        "{step_id}: attempt {attempts} of {max_attempts} {got}; not retrying: the \
                         API's Retry-After ({}) is past the step's retry budget",
                        humantime(asked)
                    );
                    past_budget = Some(asked);
                    break result;
                }
                Wait::Spent => {
                    tracing::info!(
                        "{step_id}: attempt {attempts} of {max_attempts} {got}; not retrying: the \
                         step's retry budget ({}) is spent",
                        humantime(retry.budget)
                    );
                    break result;
                }
            }
        };
        Ok(Exchange {
            result,
            attempts,
            past_budget,
        })
    }

    /// The OAuth2 access token for this step: the cached one while it is fresh, else a new one
    /// from the token endpoint, fetched by one step at a time for each token. `refused`: a
    /// token the API just answered 401 to, never handed out again. Says which it was
    /// (`cached`, `fetched`). Either way the token joins the run's redactor.
    async fn oauth_token(
        &self,
        cx: &StepContext<'_>,
        o: &OAuth2,
        refused: Option<&Secret>,
    ) -> Result<(Secret, &'static str), StepError> {
        let config = &self.shared.config;
        let flow = cx.flow();
        let redactor = cx.redactor();
        let r = Renderer {
            env: &flow.templates,
            scope: cx.scope(),
            credentials: cx.credential_scope(),
            file: &flow.file,
        };
        let client_id = r.credential_text(&o.client_id)?;
        let client_secret = r.credential_text(&o.client_secret)?;
        let scope = o.scope.as_ref().map(|t| r.text(t)).transpose()?;
        let audience = o.audience.as_ref().map(|t| r.text(t)).transpose()?;
        let asked = Asked {
            token_url: &o.token_url.value,
            client_id: &client_id,
            client_secret: &client_secret,
            scope: scope.as_deref(),
            audience: audience.as_deref(),
            client_auth: o.client_auth,
        };
        let tokens = &self.shared.tokens;
        let slot = tokens.slot(tokens.key(&asked));
        let mut held = slot.lock().await;
        if let Some(t) = held.as_ref()
            && t.fresh(Instant::now())
            && refused != Some(&t.value)
        {
            redactor.add(t.value.expose());
            return Ok((t.value.clone(), "cached"));
        }
        *held = None;
        let Some(url) = self.token_url.clone() else {
            return Err(StepError::invalid(
                "the OAuth2 token URL was not checked when the step was bound",
            ));
        };
        let req = token_request::build(url, &asked, &config.user_agent, redactor);
        // Checked when the flow was read; checked again on what is really sent.
        binding::check(&req, &self.token_reads, cx.secrets(), &flow.file)?;
        let token_url_at = SourcePos::new(flow.file.clone(), o.token_url.span);
        let fetch = token_request::Fetch {
            clients: &self.shared.clients,
            input: AttemptInput {
                request: &req,
                routes: &config.routes,
                secrets: cx.secrets(),
                reads: &self.token_reads,
                redactor,
                timeout: self.spec.timeout.min(MAX_DURATION),
                connect_timeout: self.spec.connect_timeout.min(MAX_DURATION),
                max_bytes: config.max_response_bytes,
                url_at: token_url_at.clone(),
                profile: &self.profile,
                redirects: self.connection.redirects,
            },
            retry: &self.spec.retry,
            wire: config.wire_log.as_ref(),
            step_id: cx.decl().id.value.as_str(),
            token_url: &o.token_url.value,
            token_url_at,
        };
        let token = token_request::fetch(&fetch).await?;
        redactor.add(token.value.expose());
        let value = token.value.clone();
        *held = Some(token);
        Ok((value, "fetched"))
    }

    /// The step error for an attempt that got no usable response. `advice` (how to re-run
    /// safely) ends every message that says the request may have taken effect.
    fn failure_error(
        &self,
        failure: Failure,
        req: &PreparedRequest,
        routed: Option<&str>,
        attempts: u32,
        history: &History,
        advice: &str,
    ) -> StepError {
        let host = host_of(&req.url);
        let place = match routed.and_then(|r| reqwest::Url::parse(r).ok()) {
            Some(u) => format!(
                "{} (routed from {host})",
                u.host_str().map_or(String::new(), |h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            ),
            None => host,
        };
        let tries = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        match failure {
            // The request was carried out (a POST answered 303, a 2xx too large to read).
            Failure::Final(mut e) if e.kind == ErrorKind::Unknown => {
                e.message = format!("{} {advice}", e.message);
                e
            }
            Failure::Final(e) => e,
            // After an attempt that may have taken effect, "nothing was sent" would mislead.
            Failure::NotSent { detail } if history.any_executed() => StepError::new(
                ErrorKind::Transient,
                format!("could not connect to {place}: {detail}"),
            ),
            Failure::NotSent { detail } => StepError::new(
                ErrorKind::Transient,
                format!("could not connect to {place}{tries}: {detail}; nothing was sent"),
            ),
            Failure::NoAnswer {
                timeout,
                detail,
                status,
            } => {
                let what = self.no_answer(timeout, &detail, Some((&place, &tries)));
                let mut e = StepError::new(
                    if timeout {
                        ErrorKind::Timeout
                    } else {
                        ErrorKind::Unknown
                    },
                    format!("{what}; the request was sent and may have taken effect. {advice}"),
                );
                e.http_status = status;
                e
            }
        }
    }

    /// What an attempt that got no answer came to: `no response from HOST within 30s` with a
    /// place (and how many attempts), or `got no response within 30s` to follow "attempt 1 was
    /// sent and".
    fn no_answer(&self, timeout: bool, detail: &str, place: Option<(&str, &str)>) -> String {
        let limit = humantime(self.spec.timeout);
        match (timeout, place) {
            (true, Some((place, tries))) => {
                format!("no response from {place} within {limit}{tries}")
            }
            (true, None) => format!("got no response within {limit}"),
            (false, Some((place, tries))) => {
                format!("the connection to {place} ended without a response{tries} ({detail})")
            }
            (false, None) => format!("the connection ended without a response ({detail})"),
        }
    }

    /// Whether running the step again is safe, and how.
    fn rerun_advice(&self, req: &PreparedRequest, run_id: &str) -> String {
        let header = &self.spec.idempotency_header;
        match (&req.idempotency_key, &self.spec.idempotency) {
            (Some(key), Idempotency::Auto) => format!(
                "It carried {header} `{key}`, so re-running with the same run id \
                 (--run-id {run_id}) is safe: the API will not do it twice."
            ),
            (Some(key), _) => format!(
                "It carried {header} `{key}`, so repeating it with the same key is safe: \
                 the API will not do it twice."
            ),
            (None, _) if req.replay_safe() => format!(
                "{} requests are idempotent, so repeating it is safe.",
                req.method
            ),
            (None, _) => "It carried no idempotency key, so check whether it took effect \
                          before running it again (set `idempotency: auto` to make re-runs safe)."
                .to_owned(),
        }
    }
}

fn header<'r>(r: &'r Received, name: &str) -> Option<&'r str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn all_headers(r: &Received) -> Value {
    let mut m = Map::new();
    for name in r.headers.keys() {
        let values: Vec<String> = r
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        m.insert(name.as_str().to_owned(), json!(values.join(", ")));
    }
    Value::Object(m)
}

/// The `response` record, with the body as recorded (its JSON when it parses, a binary body's
/// description, its text otherwise), and whether JSONPaths read that body. The body is parsed
/// once and held only there: the step reads it back ([`recorded_json`]).
fn response_record(r: &Received) -> (Value, bool) {
    // A binary body is never held as text: its type, size and base64 are, for JSONPaths to
    // read (`$.base64`, `$.bytes`).
    let binary = binary::is_binary(&r.headers, &r.body);
    let (body, is_json) = match serde_json::from_slice::<Value>(&r.body) {
        _ if binary => (binary::described(&r.headers, &r.body, None), true),
        Ok(v) => (v, true),
        Err(_) => (
            Value::String(String::from_utf8_lossy(&r.body).into_owned()),
            false,
        ),
    };
    let mut headers = Map::new();
    for name in RECORDED_HEADERS {
        if let Some(v) = header(r, name) {
            headers.insert((*name).to_owned(), Value::String(v.to_owned()));
        }
    }
    let mut record = Map::with_capacity(3);
    record.insert("status".into(), json!(r.status));
    record.insert("headers".into(), Value::Object(headers));
    record.insert("body".into(), body);
    (Value::Object(record), is_json)
}

/// The body of the step's `response` record, when JSONPaths read it (`is_json`).
fn recorded_json<'c>(cx: &'c StepContext<'_>, is_json: bool) -> Option<&'c Value> {
    is_json
        .then(|| cx.recorded("response").and_then(|r| r.get("body")))
        .flatten()
}

/// The step error for a non-2xx answer, in the API's own words where it gave some.
fn status_error(r: &Received, body: Option<&Value>, redactor: &Redactor) -> StepError {
    let kind = match r.status {
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Rejected,
    };
    let api = body.map(api_error::parse).unwrap_or_default();
    let message = api.message.unwrap_or_else(|| {
        // Redacted before it is cut, so that a cut cannot leave a piece of a secret that is
        // too short to be recognised.
        let body = redactor
            .redact(&String::from_utf8_lossy(&r.body))
            .into_owned();
        let excerpt = api_error::excerpt(&body, EXCERPT_CHARS);
        if excerpt.is_empty() {
            format!("HTTP {}", send::status_line(r.status))
        } else {
            format!("HTTP {}: {excerpt}", send::status_line(r.status))
        }
    });
    let mut e = StepError::new(kind, message);
    e.http_status = Some(r.status);
    e.code = api.code;
    e.api_type = api.api_type;
    e.param = api.param;
    e
}

/// `30s`, `1.5s`, `250ms`.
fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}
