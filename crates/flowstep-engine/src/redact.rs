//! Redaction by value: every secret, and every credential a step sends, is replaced in every
//! string that leaves the engine (outcomes, messages, errors, logs).

use std::borrow::Cow;
use std::sync::RwLock;

/// Secrets shorter than this are masked whole; longer ones keep a recognisable prefix and the
/// last 4 characters, which is what a person needs to tell two keys apart.
const SHOW_TAIL_FROM: usize = 16;

/// How a secret is shown: `sk_test_...1234`, or `[redacted]` when it is short.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < SHOW_TAIL_FROM {
        return "[redacted]".to_owned();
    }
    let prefix = known_prefix(secret);
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}...{tail}")
}

/// A key-type prefix such as `sk_test_`, `rk_live_`, `whsec_`, `rzp_test_`: letters then `_`,
/// optionally `test_`/`live_`. It names the kind of key, not the key.
fn known_prefix(secret: &str) -> &str {
    let letters = secret
        .bytes()
        .take_while(|b| b.is_ascii_lowercase())
        .count();
    if !(2..=6).contains(&letters) || secret.as_bytes().get(letters) != Some(&b'_') {
        return "";
    }
    let after = &secret[letters + 1..];
    for mode in ["test_", "live_"] {
        if after.starts_with(mode) {
            return &secret[..letters + 1 + mode.len()];
        }
    }
    &secret[..letters + 1]
}

/// The set of values to hide, shared by the runner, the steps and the log writer.
///
/// ```
/// use flowstep_engine::Redactor;
///
/// let redactor = Redactor::new();
/// redactor.add("sk_test_51Habcdefghijklmnop1234");
/// assert_eq!(
///     redactor.redact("401: Invalid API Key provided: sk_test_51Habcdefghijklmnop1234"),
///     "401: Invalid API Key provided: sk_test_...1234"
/// );
/// // The forms a secret travels in are hidden too, e.g. percent-encoded in a form body.
/// redactor.add("p@ss word/with+symbols");
/// assert_eq!(redactor.redact("password=p%40ss+word%2Fwith%2Bsymbols"), "password=...bols");
/// ```
#[derive(Debug, Default)]
pub struct Redactor {
    /// (value, replacement), longest value first so that a secret containing another is
    /// replaced whole.
    needles: RwLock<Vec<(String, String)>>,
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hides `value` from now on, and the encodings it is sent in (percent-encoded in URLs and
    /// forms), each shown as [`mask`] of the value.
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let shown = mask(value);
        let mut forms = vec![value.to_owned()];
        let encoded: String = form_encode(value);
        if encoded != value {
            forms.push(encoded);
        }
        let json = serde_json::to_string(value).unwrap_or_default();
        let json_inner = json.trim_matches('"');
        if json_inner != value {
            forms.push(json_inner.to_owned());
        }
        self.add_forms(forms, &shown);
    }

    /// Hides a credential that is sent in a derived form (a Basic auth header's base64), shown
    /// as `[redacted]`.
    pub fn add_derived(&self, value: &str) {
        if !value.is_empty() {
            self.add_forms(vec![value.to_owned()], "[redacted]");
        }
    }

    fn add_forms(&self, forms: Vec<String>, shown: &str) {
        let mut needles = self.needles.write().unwrap_or_else(|e| e.into_inner());
        for f in forms {
            if !needles.iter().any(|(n, _)| *n == f) {
                needles.push((f, shown.to_owned()));
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    }

    /// Whether anything is hidden.
    pub fn is_empty(&self) -> bool {
        self.needles.read().map(|n| n.is_empty()).unwrap_or(true)
    }

    /// `text` with every hidden value replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let needles = self.needles.read().unwrap_or_else(|e| e.into_inner());
        let mut out = Cow::Borrowed(text);
        for (needle, shown) in needles.iter() {
            if out.contains(needle.as_str()) {
                out = Cow::Owned(out.replace(needle.as_str(), shown));
            }
        }
        out
    }

    /// Redacts every string (keys included) in a JSON value, in place.
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.redact_value(&mut v);
                    map.insert(self.redact(&k).into_owned(), v);
                }
            }
            _ => {}
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of one value, the form a secret takes in a
/// query string or form body.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keep_a_prefix_and_the_last_four_only_for_long_secrets() {
        assert_eq!(mask("sk_test_51HxxxxxxxxxxxxxxxxxxAbCd"), "sk_test_...AbCd");
        assert_eq!(mask("rzp_live_abcdefghijklmnop"), "rzp_live_...mnop");
        assert_eq!(mask("EAAGm0PX4ZCpsBAKZCZBZB9xyz"), "...9xyz");
        assert_eq!(mask("hunter2"), "[redacted]");
    }

    #[test]
    fn redacts_values_and_their_encodings_everywhere() {
        let r = Redactor::new();
        r.add("sk_test_abc def&ghijklmnop");
        let mut v = json!({"url": "https://x/?k=sk_test_abc+def%26ghijklmnop", "sk_test_abc def&ghijklmnop": ["Bearer sk_test_abc def&ghijklmnop"]});
        r.redact_value(&mut v);
        assert_eq!(
            v,
            json!({"url": "https://x/?k=sk_test_...mnop", "sk_test_...mnop": ["Bearer sk_test_...mnop"]})
        );
    }
}
