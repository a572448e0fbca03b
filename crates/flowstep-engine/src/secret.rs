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
pub struct Secret {
    value: String,
    placeholder: bool,
}

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            placeholder: false,
        }
    }

    /// A stand-in for secret `name` that is not set, for a dry run, where nothing is sent:
    /// it renders as `<NAME>` where the secret would go, holds nothing secret, and is shown
    /// as it is rather than redacted. A live run refuses it as a missing secret
    /// ([`crate::RunError::MissingSecrets`]).
    ///
    /// ```
    /// use flowstep_engine::Secret;
    ///
    /// let stand_in = Secret::placeholder("STRIPE_SECRET_KEY");
    /// assert_eq!(stand_in.expose(), "<STRIPE_SECRET_KEY>");
    /// assert_eq!(stand_in.to_string(), "<STRIPE_SECRET_KEY>");
    /// assert!(stand_in.is_placeholder());
    /// ```
    pub fn placeholder(name: &str) -> Self {
        Secret {
            value: format!("<{name}>"),
            placeholder: true,
        }
    }

    /// Whether this is a dry run's stand-in ([`Secret::placeholder`]).
    pub fn is_placeholder(&self) -> bool {
        self.placeholder
    }

    /// The value itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.value
    }

    fn shown(&self) -> String {
        if self.placeholder {
            self.value.clone()
        } else {
            crate::redact::mask(&self.value)
        }
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.shown())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
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
