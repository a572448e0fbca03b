//! The API token every `/v1` request carries (`Authorization: Bearer ...`): read from the
//! environment, or generated for a server bound to loopback, and compared in constant time.

use rand::Rng;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// Fewer characters than this make a token an attacker can guess.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The bearer token the API accepts.
#[derive(Clone)]
pub struct ApiToken(String);

/// Why the server has no usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token and an address others can reach.
    #[error(
        "FLOWSTEP_API_TOKEN is not set and the server would listen on {0}, which is not a loopback address: set FLOWSTEP_API_TOKEN to a random string of at least {MIN_TOKEN_CHARS} characters (for example `openssl rand -hex 32`), or listen on 127.0.0.1"
    )]
    MissingForNonLoopback(SocketAddr),
    /// A token too short.
    #[error(
        "FLOWSTEP_API_TOKEN must be at least {MIN_TOKEN_CHARS} characters of printable ASCII without spaces (it is {0} characters)"
    )]
    Weak(usize),
    /// A token with a character a header cannot carry. The character itself is not shown:
    /// it is part of a secret.
    #[error(
        "FLOWSTEP_API_TOKEN may hold only printable ASCII without spaces, and its character {position} is {kind}"
    )]
    Unusable {
        /// 1-based, in characters.
        position: usize,
        /// `a space`, `a control character` or `not ASCII`.
        kind: &'static str,
    },
}

impl ApiToken {
    /// The token from the environment (`FLOWSTEP_API_TOKEN`), checked.
    pub fn new(token: impl Into<String>) -> Result<Self, TokenError> {
        let token = token.into();
        if let Some((i, c)) = token
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic())
        {
            let kind = match c {
                ' ' => "a space",
                c if c.is_ascii() => "a control character",
                _ => "not ASCII",
            };
            return Err(TokenError::Unusable {
                position: i + 1,
                kind,
            });
        }
        if token.len() < MIN_TOKEN_CHARS {
            return Err(TokenError::Weak(token.len()));
        }
        Ok(ApiToken(token))
    }

    /// The token a server uses: `configured` when set, else a fresh random one when `addr` is
    /// loopback (`true` in the pair: print it once), else an error.
    pub fn for_addr(
        configured: Option<String>,
        addr: SocketAddr,
    ) -> Result<(Self, bool), TokenError> {
        match configured.filter(|t| !t.is_empty()) {
            Some(t) => Ok((ApiToken::new(t)?, false)),
            None if addr.ip().is_loopback() => Ok((ApiToken::generate(), true)),
            None => Err(TokenError::MissingForNonLoopback(addr)),
        }
    }

    /// 32 random bytes as 64 hex digits.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::rng().random();
        ApiToken(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The token, to print once or hand to a client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value of the runs page's session cookie (`/ui`): a SHA-256 of the token under a
    /// label of its own, as 64 hex digits. Every process with the same token accepts it, a
    /// new token ends every session, and the cookie never carries the token itself.
    pub fn session_value(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("flowstep runs page session 1\n{}", self.0));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `given` is the session cookie's value, in constant time.
    pub fn matches_session(&self, given: &[u8]) -> bool {
        self.session_value().as_bytes().ct_eq(given).into()
    }

    /// Whether `given` is the token, in time that does not depend on where they differ.
    pub fn matches(&self, given: &[u8]) -> bool {
        // `ct_eq` on slices of different lengths is false at once; the length is no secret.
        self.0.as_bytes().ct_eq(given).into()
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_required_off_loopback_and_generated_on_it() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            ApiToken::for_addr(None, public).unwrap_err(),
            TokenError::MissingForNonLoopback(public)
        );
        let (token, generated) = ApiToken::for_addr(None, local).unwrap();
        assert!(generated);
        assert_eq!(token.expose().len(), 64);
        assert!(token.matches(token.expose().as_bytes()));
        assert!(!token.matches(b"nope"));
        assert_eq!(
            ApiToken::for_addr(Some("short".into()), public).unwrap_err(),
            TokenError::Weak(5)
        );
        // A long token with a character a header cannot carry is not called short, and the
        // character (part of a secret) is not shown.
        let e = ApiToken::new("aaaaaaaaaaaaaaaa\u{e9}bbbbb").unwrap_err();
        assert_eq!(
            e.to_string(),
            "FLOWSTEP_API_TOKEN may hold only printable ASCII without spaces, and its character 17 is not ASCII"
        );
        assert_eq!(
            ApiToken::new("aaaaaaaa bbbbbbbbbb").unwrap_err(),
            TokenError::Unusable {
                position: 9,
                kind: "a space"
            }
        );
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    }
}
