//! The OAuth2 access tokens held by every step of one [`kind`](crate::kind) (the whole process
//! for `flowstep run` and `flowstep serve`): one per token URL, client, scope and audience,
//! kept until shortly before they expire and fetched by one step at a time, so that steps and
//! runs that start together ask the token endpoint once.

use flowstep_engine::Secret;
use flowstep_spec::steps::ClientAuth;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long before its `expires_in` runs out a token is no longer handed out, so that it does
/// not expire on its way to the API.
pub const EXPIRY_SKEW: Duration = Duration::from_secs(30);

/// Which token: the token URL, client, scope and audience it was asked for with. The client
/// secret is held only as a keyed hash (a token asked for with another secret is another
/// token), and `Debug` shows the URL and scope only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    token_url: String,
    client_id: String,
    secret_hash: u64,
    scope: Option<String>,
    audience: Option<String>,
    client_auth: ClientAuth,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// An access token and when it stops being handed out.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token, which never prints.
    pub value: Secret,
    /// When it is no longer used; `None` when the token endpoint gave no `expires_in`: then it
    /// is used until the API answers 401.
    pub use_until: Option<Instant>,
}

impl Token {
    /// A token received at `now` that expires `expires_in` later (RFC 6749 §5.1), used until
    /// [`EXPIRY_SKEW`] before that, or half-way for tokens valid a minute or less.
    pub fn new(value: String, expires_in: Option<Duration>, now: Instant) -> Token {
        let use_until =
            expires_in.and_then(|d| now.checked_add(d.saturating_sub(EXPIRY_SKEW.min(d / 2))));
        Token {
            value: Secret::new(value),
            use_until,
        }
    }

    /// Whether it may still be sent at `now`.
    pub fn fresh(&self, now: Instant) -> bool {
        self.use_until.is_none_or(|t| now < t)
    }
}

/// One key's token, locked while it is fetched.
pub type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// The tokens, by key.
#[derive(Debug, Default)]
pub struct TokenCache {
    hasher: RandomState,
    slots: Mutex<HashMap<TokenKey, Slot>>,
}

/// What a token is asked for with.
pub struct Asked<'a> {
    /// The token URL as written.
    pub token_url: &'a str,
    /// The client id, rendered.
    pub client_id: &'a str,
    /// The client secret, rendered.
    pub client_secret: &'a str,
    /// The scope, rendered.
    pub scope: Option<&'a str>,
    /// The audience, rendered.
    pub audience: Option<&'a str>,
    /// How the client authenticates.
    pub client_auth: ClientAuth,
}

impl TokenCache {
    /// The key for a token asked for with `asked`.
    pub fn key(&self, asked: &Asked<'_>) -> TokenKey {
        TokenKey {
            token_url: asked.token_url.to_owned(),
            client_id: asked.client_id.to_owned(),
            secret_hash: self.hasher.hash_one(asked.client_secret),
            scope: asked.scope.map(str::to_owned),
            audience: asked.audience.map(str::to_owned),
            client_auth: asked.client_auth,
        }
    }

    /// The slot of `key`. Whoever finds it empty or stale fetches a token while holding its
    /// lock; the others wait for that one.
    pub fn slot(&self, key: TokenKey) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_used_until_shortly_before_it_expires() {
        let now = Instant::now();
        let t = Token::new("tok".into(), Some(Duration::from_secs(3600)), now);
        assert!(t.fresh(now + Duration::from_secs(3569)));
        assert!(!t.fresh(now + Duration::from_secs(3570)));
        // A short-lived token is used for half its life.
        let t = Token::new("tok".into(), Some(Duration::from_secs(20)), now);
        assert!(t.fresh(now + Duration::from_secs(9)));
        assert!(!t.fresh(now + Duration::from_secs(10)));
        // No `expires_in`: until the API refuses it.
        assert!(Token::new("tok".into(), None, now).fresh(now + Duration::from_secs(86_400)));
        assert!(!Token::new("tok".into(), Some(Duration::ZERO), now).fresh(now));
    }

    #[test]
    fn keys_differ_by_every_part_and_never_print_the_secret() {
        let cache = TokenCache::default();
        let asked = |secret, scope| Asked {
            token_url: "https://auth.example/oauth/token",
            client_id: "client-1",
            client_secret: secret,
            scope,
            audience: None,
            client_auth: ClientAuth::Basic,
        };
        let a = cache.key(&asked("s3cr3t-value", Some("a b")));
        assert_eq!(a, cache.key(&asked("s3cr3t-value", Some("a b"))));
        assert_ne!(a, cache.key(&asked("other-secret", Some("a b"))));
        assert_ne!(a, cache.key(&asked("s3cr3t-value", None)));
        let shown = format!("{a:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("client-1"),
            "{shown}"
        );
        assert!(Arc::ptr_eq(&cache.slot(a.clone()), &cache.slot(a)));
    }
}
