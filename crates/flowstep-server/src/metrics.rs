//! [`Metrics`]: what `GET /metrics` shows, in the OpenMetrics text format Prometheus scrapes
//! (prometheus-client). Counters and histograms are fed by the API (runs started, cancelled,
//! webhooks), the run loop (runs finished, and each step's record when a run stops: its
//! duration and its HTTP attempts) and the timed store (`timed_store.rs`); the run
//! gauges are read from the store when scraped. docs/server.md lists every metric.
//!
//! Everything is taken from what the engine already returns (its step records), so the
//! engine stays free of I/O and of metrics.

use flowstep_engine::{StepRecord, StepStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// The most distinct hosts `flowstep_http_attempts_total` names; requests to others count
/// under `host="other"`, so that a flow whose URL comes from its inputs cannot grow the
/// series without bound.
pub const MAX_HOSTS: usize = 100;

/// The `Content-Type` of `GET /metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowLabels {
    flow: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FinishLabels {
    flow: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    #[prometheus(flatten)]
    kind: StepType,
    status: String,
}

/// `type` is a keyword: the label is spelled out by hand.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct StepType(String);

impl EncodeLabelSet for StepType {
    fn encode(
        &self,
        encoder: &mut prometheus_client::encoding::LabelSetEncoder,
    ) -> Result<(), std::fmt::Error> {
        prometheus_client::encoding::EncodeLabel::encode(
            &("type", self.0.as_str()),
            encoder.encode_label(),
        )
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    host: String,
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    provider: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

/// Every metric of one server.
pub struct Metrics {
    registry: Registry,
    runs_started: Family<FlowLabels, Counter>,
    runs_finished: Family<FinishLabels, Counter>,
    step_duration: Family<StepLabels, Histogram>,
    http_attempts: Family<HttpLabels, Counter>,
    webhooks_received: Family<ProviderLabels, Counter>,
    webhooks_rejected: Family<RejectLabels, Counter>,
    store_latency: Family<OperationLabels, Histogram>,
    runs_queued: Gauge,
    runs_waiting: Gauge,
    runs_running: Gauge,
    hosts: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under `flowstep_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("flowstep");
        let runs_started = Family::<FlowLabels, Counter>::default();
        registry.register(
            "runs_started",
            "Runs started through the API (a repeated start of the same run id counts once)",
            runs_started.clone(),
        );
        let runs_finished = Family::<FinishLabels, Counter>::default();
        registry.register(
            "runs_finished",
            "Runs that ended: succeeded, failed or cancelled",
            runs_finished.clone(),
        );
        // 5 ms to about 82 s.
        let step_duration = Family::<StepLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 15))
        });
        registry.register_with_unit(
            "step_duration",
            "How long each step took, by step type and how it ended, observed when the run stops (ends or parks at a wait)",
            Unit::Seconds,
            step_duration.clone(),
        );
        let http_attempts = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_attempts",
            "HTTP attempts of http steps by host and class of the answer (2xx, 3xx, 4xx, 5xx, error: no answer; retried: an attempt the step tried again after)",
            http_attempts.clone(),
        );
        let webhooks_received = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "webhooks_received",
            "Webhook deliveries verified and recorded",
            webhooks_received.clone(),
        );
        let webhooks_rejected = Family::<RejectLabels, Counter>::default();
        registry.register(
            "webhooks_rejected",
            "Webhook deliveries refused, by the error code answered",
            webhooks_rejected.clone(),
        );
        // 0.1 ms to about 3.3 s.
        let store_latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        registry.register_with_unit(
            "store_latency",
            "How long each call to the run store took, by operation",
            Unit::Seconds,
            store_latency.clone(),
        );
        let runs_queued = Gauge::default();
        registry.register(
            "runs_queued",
            "Runs waiting for a worker (the queue depth), read from the store when scraped",
            runs_queued.clone(),
        );
        let runs_waiting = Gauge::default();
        registry.register(
            "runs_waiting",
            "Runs parked at a wait step until an event or a deadline, read from the store when scraped",
            runs_waiting.clone(),
        );
        let runs_running = Gauge::default();
        registry.register(
            "runs_running",
            "Runs claimed by a worker, read from the store when scraped",
            runs_running.clone(),
        );
        Metrics {
            registry,
            runs_started,
            runs_finished,
            step_duration,
            http_attempts,
            webhooks_received,
            webhooks_rejected,
            store_latency,
            runs_queued,
            runs_waiting,
            runs_running,
            hosts: Mutex::new(HashSet::new()),
        }
    }

    /// A run of `flow` was stored by `POST /v1/runs`.
    pub fn run_started(&self, flow: &str) {
        self.runs_started
            .get_or_create(&FlowLabels { flow: flow.into() })
            .inc();
    }

    /// A run of `flow` ended `status` (`succeeded`, `failed`, `cancelled`).
    pub fn run_finished(&self, flow: &str, status: &str) {
        self.runs_finished
            .get_or_create(&FinishLabels {
                flow: flow.into(),
                status: status.into(),
            })
            .inc();
    }

    /// The records of the steps a worker took while it held a run (each record once: those
    /// saved before the claim are left out by the caller).
    pub fn steps_taken(&self, records: &[StepRecord]) {
        for record in records {
            let status = match record.status {
                StepStatus::Succeeded => "succeeded",
                StepStatus::Failed => "failed",
                StepStatus::Skipped => continue,
            };
            self.step_duration
                .get_or_create(&StepLabels {
                    kind: StepType(record.kind.clone()),
                    status: status.into(),
                })
                .observe(Duration::from_millis(record.duration_ms).as_secs_f64());
            if record.kind == "http" && record.attempts > 0 {
                self.http_step(record);
            }
        }
    }

    /// An http step's attempts: the last by its answer's class, the ones before it as
    /// `retried` (the record keeps only the last answer; the step retries only a 429, a 5xx
    /// or no answer).
    fn http_step(&self, record: &StepRecord) {
        let host = record
            .details
            .get("request")
            .and_then(|r| r.get("url"))
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<axum::http::Uri>().ok())
            .and_then(|u| u.host().map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned());
        let host = self.bounded_host(host);
        let class = match record
            .details
            .get("response")
            .and_then(|r| r.get("status"))
            .and_then(Value::as_u64)
        {
            Some(s @ 100..=599) => format!("{}xx", s / 100),
            _ => "error".to_owned(),
        };
        self.http_attempts
            .get_or_create(&HttpLabels {
                host: host.clone(),
                class,
            })
            .inc();
        if record.attempts > 1 {
            self.http_attempts
                .get_or_create(&HttpLabels {
                    host,
                    class: "retried".into(),
                })
                .inc_by(u64::from(record.attempts - 1));
        }
    }

    /// `host`, or `other` once [`MAX_HOSTS`] others are named.
    fn bounded_host(&self, host: String) -> String {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.contains(&host) {
            return host;
        }
        if hosts.len() >= MAX_HOSTS {
            return "other".to_owned();
        }
        hosts.insert(host.clone());
        host
    }

    /// A webhook delivery was verified and recorded.
    pub fn webhook_received(&self, provider: &str) {
        self.webhooks_received
            .get_or_create(&ProviderLabels {
                provider: provider.into(),
            })
            .inc();
    }

    /// A webhook delivery was refused with the error code `reason`.
    pub fn webhook_rejected(&self, provider: &str, reason: &str) {
        self.webhooks_rejected
            .get_or_create(&RejectLabels {
                provider: provider.into(),
                reason: reason.into(),
            })
            .inc();
    }

    /// A call to the store's `operation` took `took`.
    pub fn store_call(&self, operation: &'static str, took: Duration) {
        self.store_latency
            .get_or_create(&OperationLabels {
                operation: operation.into(),
            })
            .observe(took.as_secs_f64());
    }

    /// Sets the run gauges to what the store counts now.
    pub fn set_run_counts(&self, queued: u64, waiting: u64, running: u64) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.runs_queued.set(gauge(queued));
        self.runs_waiting.set(gauge(waiting));
        self.runs_running.set(gauge(running));
    }

    /// Every metric in the OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Writing to a String cannot fail; say so rather than panic.
            tracing::error!("the metrics could not be encoded: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn http_record(url: &str, status: Option<u16>, attempts: u32) -> StepRecord {
        let mut details = Map::new();
        details.insert("request".into(), json!({"method": "POST", "url": url}));
        if let Some(s) = status {
            details.insert("response".into(), json!({"status": s}));
        }
        StepRecord {
            id: "charge".into(),
            kind: "http".into(),
            status: if status.is_some_and(|s| s < 300) {
                StepStatus::Succeeded
            } else {
                StepStatus::Failed
            },
            attempts,
            duration_ms: 12,
            details,
            error: None,
        }
    }

    #[test]
    fn step_records_become_durations_and_http_attempts() {
        let m = Metrics::new();
        m.steps_taken(&[
            http_record("https://api.stripe.com/v1/x", Some(200), 3),
            http_record("https://api.stripe.com/v1/x", Some(402), 1),
            http_record("http://127.0.0.1:9/x", None, 2),
        ]);
        let text = m.encode();
        for line in [
            r#"flowstep_http_attempts_total{host="api.stripe.com",class="2xx"} 1"#,
            r#"flowstep_http_attempts_total{host="api.stripe.com",class="retried"} 2"#,
            r#"flowstep_http_attempts_total{host="api.stripe.com",class="4xx"} 1"#,
            r#"flowstep_http_attempts_total{host="127.0.0.1",class="error"} 1"#,
            r#"flowstep_http_attempts_total{host="127.0.0.1",class="retried"} 1"#,
            r#"flowstep_step_duration_seconds_count{type="http",status="succeeded"} 1"#,
            r#"flowstep_step_duration_seconds_count{type="http",status="failed"} 2"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn hosts_past_the_bound_count_as_other() {
        let m = Metrics::new();
        for i in 0..=MAX_HOSTS {
            m.steps_taken(&[http_record(&format!("https://h{i}.example/"), Some(200), 1)]);
        }
        let text = m.encode();
        assert!(
            text.contains(r#"flowstep_http_attempts_total{host="other",class="2xx"} 1"#),
            "{text}"
        );
        assert!(!text.contains(&format!("h{MAX_HOSTS}.example")), "{text}");
    }
}
