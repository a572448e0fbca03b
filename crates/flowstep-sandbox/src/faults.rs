//! Injected faults: what they are (public API) and the queue that hands them out.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// A fault to inject into the next matching requests (see `Sandbox::inject` and
/// `POST /__sandbox/faults`).
///
/// JSON form: `{"path_prefix": "/v1/checkout/sessions", "count": 1, "action": {"action":
/// "status", "status": 503, "headers": [["Stripe-Should-Retry", "true"]]}}`. For
/// hand-written JSON the flat form `{"count": 1, "action": "delay", "ms": 500}` is accepted
/// too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "FaultJson")]
pub struct Fault {
    /// Only requests whose path starts with this are hit; `None` means any non-admin path.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// How many matching requests the fault hits before it is used up.
    pub count: usize,
    /// What happens to a hit request.
    pub action: FaultAction,
}

/// Both JSON spellings of a [`Fault`]: the derived (nested) one and a flat one.
#[derive(Deserialize)]
#[serde(untagged)]
enum FaultJson {
    Nested {
        #[serde(default)]
        path_prefix: Option<String>,
        count: usize,
        action: FaultAction,
    },
    Flat {
        #[serde(default)]
        path_prefix: Option<String>,
        count: usize,
        #[serde(flatten)]
        action: FaultAction,
    },
}

impl From<FaultJson> for Fault {
    fn from(j: FaultJson) -> Self {
        match j {
            FaultJson::Nested {
                path_prefix,
                count,
                action,
            }
            | FaultJson::Flat {
                path_prefix,
                count,
                action,
            } => Fault {
                path_prefix,
                count,
                action,
            },
        }
    }
}

/// What a [`Fault`] does to a request it hits.
///
/// In JSON the variant is named by an `action` tag: `{"action": "delay", "ms": 500}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (and optional JSON body, default a Stripe `api_error`
    /// envelope, or for 429 Stripe's `rate_limit` envelope, and extra headers, e.g.
    /// Retry-After, Stripe-Should-Retry) without processing the request. Not stored for
    /// idempotency (it is as if a proxy in front of the API answered).
    Status {
        /// The HTTP status to answer with.
        status: u16,
        /// The JSON body; `None` means a Stripe error envelope suited to the status.
        #[serde(default)]
        body: Option<serde_json::Value>,
        /// Extra response headers (name, value).
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
    /// Wait this long, then process normally. For an idempotent POST the wait happens after
    /// the idempotency key is claimed, so a concurrent request with the same key sees 409.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Read the whole request, then close the connection without processing it.
    CloseBeforeProcessing,
    /// Process the request normally (a session IS created and the idempotent response IS
    /// stored), then close the connection without sending the response: the "lost
    /// response" case.
    DropResponse,
}

/// The queue of pending faults, consumed in FIFO order among those that match.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: VecDeque<Fault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        // A fault that hits nothing would only confuse whoever reads the queue later.
        if fault.count > 0 {
            self.pending.push_back(fault);
        }
    }

    /// Takes one hit from the first fault matching `path`, if any.
    pub(crate) fn take(&mut self, path: &str) -> Option<FaultAction> {
        let idx = self.pending.iter().position(|f| match &f.path_prefix {
            Some(prefix) => path.starts_with(prefix.as_str()),
            None => true,
        })?;
        let fault = &mut self.pending[idx];
        fault.count -= 1;
        let action = fault.action.clone();
        if fault.count == 0 {
            self.pending.remove(idx);
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut q = FaultQueue::default();
        q.push(Fault {
            path_prefix: Some("/v1/".into()),
            count: 2,
            action: FaultAction::Delay { ms: 1 },
        });
        q.push(Fault {
            path_prefix: None,
            count: 1,
            action: FaultAction::DropResponse,
        });
        assert!(matches!(
            q.take("/c/pay/x"),
            Some(FaultAction::DropResponse)
        ));
        assert!(matches!(q.take("/v1/a"), Some(FaultAction::Delay { .. })));
        assert!(matches!(q.take("/v1/a"), Some(FaultAction::Delay { .. })));
        assert!(q.take("/v1/a").is_none());
    }

    #[test]
    fn fault_json_shape() {
        let f: Fault = serde_json::from_str(
            r#"{"count":1,"action":"status","status":503,"headers":[["Retry-After","1"]]}"#,
        )
        .unwrap();
        assert!(f.path_prefix.is_none());
        assert!(matches!(f.action, FaultAction::Status { status: 503, .. }));
        let f: Fault =
            serde_json::from_str(r#"{"path_prefix":"/v1","count":2,"action":"drop_response"}"#)
                .unwrap();
        assert!(matches!(f.action, FaultAction::DropResponse));
        // The derived (nested) form round-trips.
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            json.contains(r#""action":{"action":"drop_response"}"#),
            "{json}"
        );
        let back: Fault = serde_json::from_str(&json).unwrap();
        assert_eq!(back.count, 2);
    }
}
