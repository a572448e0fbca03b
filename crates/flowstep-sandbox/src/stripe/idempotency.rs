//! Stripe's idempotency layer: the first response for a key is stored and replayed.
//!
//! Rules (from the facts file and Stripe's docs): keys are scoped to the API key; a key
//! used again with the same endpoint and the same parameters gets the stored status and
//! body back with `Idempotent-Replayed: true`; different parameters get a 400
//! `idempotency_error`; a key whose first request is still running gets a 409
//! `idempotency_key_in_use`; requests that fail parameter validation store nothing, so they
//! may be retried with the same key. Stored results are kept 24 hours.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::lock;

/// How long Stripe keeps a key ("at least 24 hours"); after that a key is fresh again.
const KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Stripe's documented maximum key length.
pub(crate) const MAX_KEY_LEN: usize = 255;

/// A response as stored for replay.
#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    pub(crate) status: u16,
    pub(crate) body: bytes::Bytes,
    /// The `Request-Id` of the request that produced it; replays send it as
    /// `Original-Request`, as Stripe does.
    pub(crate) request_id: String,
}

#[derive(Debug)]
enum Entry {
    InFlight {
        fingerprint: String,
        path: String,
    },
    Done {
        fingerprint: String,
        path: String,
        stored: StoredResponse,
        at: Instant,
    },
}

/// (API key, idempotency key).
pub(crate) type Scope = (String, String);

/// The outcome of presenting a key.
#[derive(Debug)]
pub(crate) enum Claim {
    /// First use: the caller runs the request and must complete or release the claim.
    New,
    /// A stored response to send back.
    Replay(StoredResponse),
    /// The first request with this key is still running.
    InUse,
    /// Same key, same endpoint, different parameters.
    ParamsMismatch,
    /// Same key used on another endpoint; carries the endpoint it was first used on.
    EndpointMismatch(String),
}

#[derive(Debug, Default)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<Scope, Entry>,
}

impl IdempotencyStore {
    pub(crate) fn claim(&mut self, scope: &Scope, fingerprint: &str, path: &str) -> Claim {
        let now = Instant::now();
        // Forget expired results lazily; the map stays small in a sandbox's lifetime.
        self.entries.retain(|_, e| match e {
            Entry::Done { at, .. } => now.duration_since(*at) < KEY_TTL,
            Entry::InFlight { .. } => true,
        });
        match self.entries.get(scope) {
            None => {
                self.entries.insert(
                    scope.clone(),
                    Entry::InFlight {
                        fingerprint: fingerprint.to_string(),
                        path: path.to_string(),
                    },
                );
                Claim::New
            }
            // Stripe answers 409 while the first request runs, whatever the parameters.
            Some(Entry::InFlight { .. }) => Claim::InUse,
            Some(Entry::Done {
                fingerprint: fp,
                path: p,
                stored,
                ..
            }) => {
                if p != path {
                    Claim::EndpointMismatch(p.clone())
                } else if fp != fingerprint {
                    Claim::ParamsMismatch
                } else {
                    Claim::Replay(stored.clone())
                }
            }
        }
    }

    fn complete(&mut self, scope: &Scope, stored: StoredResponse) {
        if let Some(Entry::InFlight { fingerprint, path }) = self.entries.remove(scope) {
            self.entries.insert(
                scope.clone(),
                Entry::Done {
                    fingerprint,
                    path,
                    stored,
                    at: Instant::now(),
                },
            );
        }
    }

    fn release(&mut self, scope: &Scope) {
        if let Some(Entry::InFlight { .. }) = self.entries.get(scope) {
            self.entries.remove(scope);
        }
    }
}

/// Holds a [`Claim::New`] claim. Dropping it without [`ClaimGuard::complete`] releases the
/// key: that covers validation failures and also a client that disconnects mid-request
/// (hyper drops the request future), which must not leave the key "in use" forever.
pub(crate) struct ClaimGuard {
    store: Arc<Mutex<IdempotencyStore>>,
    scope: Option<Scope>,
}

impl ClaimGuard {
    pub(crate) fn new(store: Arc<Mutex<IdempotencyStore>>, scope: Scope) -> ClaimGuard {
        ClaimGuard {
            store,
            scope: Some(scope),
        }
    }

    /// Stores the response for replay.
    pub(crate) fn complete(mut self, stored: StoredResponse) {
        if let Some(scope) = self.scope.take() {
            lock(&self.store).complete(&scope, stored);
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take() {
            lock(&self.store).release(&scope);
        }
    }
}

/// The identity of a request's parameters: method, path and the decoded pairs, sorted so
/// that the order of unrelated fields does not matter (list order is carried by the
/// indices inside the names, so sorting keeps it).
pub(crate) fn fingerprint(method: &str, pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut out = String::from(method);
    for (k, v) in sorted {
        out.push('\n');
        out.push_str(&k.replace('\\', "\\\\").replace('=', "\\="));
        out.push('=');
        out.push_str(&v.replace('\\', "\\\\").replace('\n', "\\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        ("sk_test_x".into(), "k1".into())
    }

    #[test]
    fn claim_lifecycle() {
        let mut s = IdempotencyStore::default();
        assert!(matches!(s.claim(&scope(), "a", "/p"), Claim::New));
        assert!(matches!(s.claim(&scope(), "a", "/p"), Claim::InUse));
        s.complete(
            &scope(),
            StoredResponse {
                status: 200,
                body: "{}".into(),
                request_id: "req_1".into(),
            },
        );
        assert!(matches!(s.claim(&scope(), "a", "/p"), Claim::Replay(_)));
        assert!(matches!(
            s.claim(&scope(), "b", "/p"),
            Claim::ParamsMismatch
        ));
        assert!(matches!(
            s.claim(&scope(), "a", "/q"),
            Claim::EndpointMismatch(p) if p == "/p"
        ));
        let other = ("sk_test_y".to_string(), "k1".to_string());
        assert!(matches!(s.claim(&other, "b", "/p"), Claim::New));
        s.release(&other);
        assert!(matches!(s.claim(&other, "b", "/p"), Claim::New));
    }

    #[test]
    fn fingerprint_ignores_pair_order_but_not_values() {
        let a = vec![("a".to_string(), "1".to_string()), ("b".into(), "2".into())];
        let b = vec![("b".to_string(), "2".to_string()), ("a".into(), "1".into())];
        let c = vec![("a".to_string(), "1".to_string()), ("b".into(), "3".into())];
        assert_eq!(fingerprint("POST", &a), fingerprint("POST", &b));
        assert_ne!(fingerprint("POST", &a), fingerprint("POST", &c));
    }
}
