//! The `http` step itself: render and check the request, send it with retries, record what
//! happened, turn failures into step errors a flow can act on, and map the response.

use crate::api_error;
use crate::binding;
use crate::config::{HttpConfig, route};
use crate::dry_run;
use crate::hints;
use crate::mapping;
use crate::render::Renderer;
use crate::request::{PrepareInput, PreparedRequest, prepare};
use crate::retry::{self, Attempt, Decision};
use crate::send::{self, AttemptInput, Clients, Failure, Received};
use crate::url::host_of;
use async_trait::async_trait;
use flowstep_engine::{ErrorKind, RunMode, Step, StepContext, StepError};
use flowstep_spec::Fields;
use flowstep_spec::steps::{HttpSpec, Idempotency};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;

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
}

/// One bound `type: http` step.
#[derive(Debug)]
pub struct HttpStep {
    /// Shared by every step of the engine.
    pub shared: Arc<Shared>,
    /// The step as written.
    pub spec: HttpSpec,
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

impl HttpStep {
    async fn run_inner(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        let config = &self.shared.config;
        // Until a request leaves, nothing has been attempted.
        cx.set_attempts(0);
        let flow = cx.flow();
        let step_id = cx.decl().id.value.as_str();
        let req = prepare(
            &self.spec,
            &PrepareInput {
                renderer: Renderer {
                    env: &flow.templates,
                    scope: cx.scope(),
                    file: &flow.file,
                },
                redactor: cx.redactor(),
                run_id: cx.run_id(),
                step_id,
                user_agent: &config.user_agent,
            },
        )?;
        binding::check(&req, cx.secrets())?;
        let routed = route(&config.routes, req.url.as_str());
        let target = routed.clone().unwrap_or_else(|| req.url.to_string());
        let record = req.to_record(routed.as_deref());
        tracing::trace!(
            step = step_id,
            request = %cx.redactor().redact(&record.to_string()),
            "http request"
        );
        cx.record("request", record);

        if cx.mode() == RunMode::DryRun {
            cx.record("curl", json!(dry_run::curl(&req, &target)));
            for (var, path) in &self.spec.map {
                cx.set_var(
                    var.value.clone(),
                    mapping::placeholder(&var.value, path, step_id),
                );
            }
            return Ok(());
        }

        let redactor = cx.redactor().clone();
        let input = AttemptInput {
            request: &req,
            routes: &config.routes,
            secrets: cx.secrets(),
            redactor: &redactor,
            timeout: self.spec.timeout,
            connect_timeout: self.spec.connect_timeout,
            max_bytes: config.max_response_bytes,
        };
        let replay_safe = req.replay_safe();
        let max_attempts = self.spec.retry.max_attempts.max(1);
        let mut attempts = 0;
        let result = loop {
            attempts += 1;
            let started = Instant::now();
            let result = send::attempt(&self.shared.clients, &input).await;
            let elapsed_ms = started.elapsed().as_millis();
            let seen = match &result {
                Ok(r) => Attempt::Answered {
                    status: r.status,
                    should_retry: header(r, "stripe-should-retry")
                        .map(|v| v.eq_ignore_ascii_case("true")),
                    retry_after: header(r, "retry-after").and_then(retry::parse_retry_after),
                },
                Err(Failure::NotSent { .. }) => Attempt::NotSent,
                Err(Failure::NoAnswer { .. }) => Attempt::NoAnswer,
                Err(Failure::Final(_)) => {
                    break result;
                }
            };
            tracing::debug!(
                step = step_id,
                attempt = attempts,
                method = %req.method,
                url = %redactor.redact(&target),
                status = ?result.as_ref().ok().map(|r| r.status),
                elapsed_ms,
                "http attempt"
            );
            if let Ok(r) = &result {
                tracing::trace!(
                    step = step_id,
                    body = %redactor.redact(&String::from_utf8_lossy(&r.body)),
                    "http response body"
                );
            }
            let decision = retry::decide(&seen, replay_safe);
            match decision {
                Decision::Retry { at_least } if attempts < max_attempts => {
                    let wait = retry::backoff(
                        attempts,
                        self.spec.retry.base_delay,
                        self.spec.retry.max_delay,
                    )
                    .max(at_least.unwrap_or_default());
                    tracing::debug!(step = step_id, wait_ms = wait.as_millis(), "retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => break result,
            }
        };
        cx.set_attempts(attempts);

        let received = match result {
            Ok(r) => r,
            Err(f) => return Err(self.failure_error(f, &req, routed.as_deref(), attempts, cx)),
        };
        let (record, body_json, body_value) = response_record(&received);
        cx.record("response", record);
        cx.expose("body", body_value);
        cx.expose("http_status", json!(received.status));
        cx.expose("headers", all_headers(&received));
        if !(200..300).contains(&received.status) {
            return Err(status_error(&received, body_json.as_ref()));
        }
        let content_type = header(&received, "content-type");
        let values = mapping::select_all(&self.spec.map, body_json.as_ref(), content_type)?;
        for (var, value) in values {
            cx.set_var(var, value);
        }
        Ok(())
    }

    /// The step error for an attempt that got no usable response.
    fn failure_error(
        &self,
        failure: Failure,
        req: &PreparedRequest,
        routed: Option<&str>,
        attempts: u32,
        cx: &StepContext<'_>,
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
            Failure::Final(e) => e,
            Failure::NotSent { detail } => StepError::new(
                ErrorKind::Transient,
                format!("could not connect to {place}{tries}: {detail}; nothing was sent"),
            ),
            Failure::NoAnswer {
                timeout,
                detail,
                status,
            } => {
                let what = if timeout {
                    format!(
                        "no response from {place} within {}{tries}",
                        humantime(self.spec.timeout)
                    )
                } else {
                    format!("the connection to {place} ended without a response{tries} ({detail})")
                };
                let mut e = StepError::new(
                    if timeout {
                        ErrorKind::Timeout
                    } else {
                        ErrorKind::Unknown
                    },
                    format!(
                        "{what}; the request was sent and may have taken effect. {}",
                        self.rerun_advice(req, cx.run_id())
                    ),
                );
                e.http_status = status;
                e
            }
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

/// The `response` record, the body as JSON when it parses, and the body as recorded.
fn response_record(r: &Received) -> (Value, Option<Value>, Value) {
    let body_json: Option<Value> = serde_json::from_slice(&r.body).ok();
    let body_value = body_json
        .clone()
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&r.body).into_owned()));
    let mut headers = Map::new();
    for name in RECORDED_HEADERS {
        if let Some(v) = header(r, name) {
            headers.insert((*name).to_owned(), json!(v));
        }
    }
    let record = json!({
        "status": r.status,
        "headers": headers,
        "body": body_value,
    });
    (record, body_json, body_value)
}

/// The step error for a non-2xx answer, in the API's own words where it gave some.
fn status_error(r: &Received, body: Option<&Value>) -> StepError {
    let kind = match r.status {
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Rejected,
    };
    let api = body.map(api_error::parse).unwrap_or_default();
    let message = api.message.unwrap_or_else(|| {
        let excerpt = api_error::excerpt(&String::from_utf8_lossy(&r.body), EXCERPT_CHARS);
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
