//! Secret values: a type that never prints what it holds.

use std::fmt;

/// A secret value (an API key, a token). `Debug` and `Display` print it redacted; only
/// [`Secret::expose`] gives the value, and only code that must send it calls that.
///
/// ```
/// use flowstep_engine::Secret;
///
/// let key = Secret::new("sk_live_51Hxyzxyzxyzxyzxyz9876");
/// assert_eq!(key.to_string(), "sk_live_...9876");
/// assert_eq!(format!("{key:?}"), "Secret(sk_live_...9876)");
/// assert_eq!(key.expose(), "sk_live_51Hxyzxyzxyzxyzxyz9876");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", crate::redact::mask(&self.0))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::mask(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_redacted() {
        let s = Secret::new("sk_test_51Habcdefghijklmnop1234");
        assert_eq!(format!("{s}"), "sk_test_...1234");
        assert_eq!(format!("{s:?}"), "Secret(sk_test_...1234)");
        assert_eq!(s.expose(), "sk_test_51Habcdefghijklmnop1234");
    }
}
