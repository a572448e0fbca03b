//! Redacting a whole JSON value: one search over all of its strings finds the few that hold a
//! match, and only those go through the string-by-string redaction.
//!
//! A response or a record has a hundred strings or more, and a search has a cost for each
//! haystack it starts on, whatever its length. So each string long enough to hold a match
//! ([`Compiled::min_len`]) is decoded as [`Compiled::find`] decodes it, and the decoded
//! strings are joined with a NUL between them, which no pattern holds ([`Compiled::joinable`]):
//! a match then lies within one string, and the first match at or after a string's start is
//! the one a search of that string alone finds first. So the strings found are exactly those
//! the string-by-string redaction would change, and the others are left as they are without
//! being searched again.

use super::{Pass, Place};
use crate::canonical::Canonical;
use serde_json::Value;
use std::borrow::Cow;

/// The strings of a value, decoded and joined, in the order [`walk_marked`] visits them.
struct Joined {
    text: String,
    /// Where each string's separator is in `text`: string `i` ends there.
    ends: Vec<usize>,
}

impl Pass {
    /// Redacts every string of `value` (keys too, by the rules for keys), as
    /// [`Pass::apply`] on each of them would.
    pub(super) fn apply_value(&self, value: &mut Value) {
        if !self.0.iter().all(|c| c.joinable()) {
            return self.apply_each(value);
        }
        let min_len = self.0.iter().map(|c| c.min_len).min().unwrap_or(0);
        let mut joined = Joined {
            text: String::new(),
            ends: Vec::new(),
        };
        join(value, min_len, &mut joined);
        if joined.ends.is_empty() {
            return;
        }
        let mut marked = vec![false; joined.ends.len()];
        let mut any = false;
        for c in &self.0 {
            for m in c.searcher.find_iter(&joined.text) {
                // The string whose separator is the first at or after the match's start.
                if let Some(found) =
                    marked.get_mut(joined.ends.partition_point(|&end| end < m.start()))
                {
                    *found = true;
                }
                any = true;
            }
        }
        if any {
            let mut at = 0;
            self.walk_marked(value, min_len, &marked, &mut at);
        }
    }

    /// Redacts the strings of `value` found by the joined search (`marked`, in visiting order;
    /// `at` is the next one's index) one at a time.
    fn walk_marked(&self, value: &mut Value, min_len: usize, marked: &[bool], at: &mut usize) {
        match value {
            Value::String(s) => {
                if s.len() < min_len {
                    return;
                }
                *at += 1;
                if marked[*at - 1]
                    && let Cow::Owned(r) = self.apply(Cow::Borrowed(s.as_str()), Place::Text)
                {
                    *s = r;
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.walk_marked(v, min_len, marked, at);
                }
            }
            Value::Object(map) => {
                for v in map.values_mut() {
                    self.walk_marked(v, min_len, marked, at);
                }
                let mut key_found = false;
                for _ in map.keys().filter(|k| k.len() >= min_len) {
                    key_found |= marked[*at];
                    *at += 1;
                }
                if key_found {
                    self.redact_keys(map);
                }
            }
            _ => {}
        }
    }

    /// Redacts every string of `value` one at a time: for searchers that cannot be joined.
    fn apply_each(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.apply(Cow::Borrowed(s.as_str()), Place::Text) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply_each(v)),
            Value::Object(map) => {
                map.values_mut().for_each(|v| self.apply_each(v));
                self.redact_keys(map);
            }
            _ => {}
        }
    }

    /// Redacts an object's keys. Keys are almost never secret: the map is rebuilt (in order)
    /// only when one is.
    fn redact_keys(&self, map: &mut serde_json::Map<String, Value>) {
        let keys_change = map.keys().any(|k| {
            matches!(
                self.apply(Cow::Borrowed(k.as_str()), Place::Key),
                Cow::Owned(_)
            )
        });
        if keys_change {
            let entries = std::mem::take(map);
            for (k, v) in entries {
                let key = self
                    .apply(Cow::Borrowed(k.as_str()), Place::Key)
                    .into_owned();
                map.insert(key, v);
            }
        }
    }
}

/// Appends the strings of `value` at least `min_len` long, decoded, each followed by a NUL,
/// in the order [`Pass::walk_marked`] visits them: an object's values, then its keys.
fn join(value: &Value, min_len: usize, joined: &mut Joined) {
    let push = |s: &str, joined: &mut Joined| {
        if s.len() >= min_len {
            joined.text.push_str(&Canonical::of(s).text);
            joined.ends.push(joined.text.len());
            joined.text.push('\0');
        }
    };
    match value {
        Value::String(s) => push(s, joined),
        Value::Array(items) => items.iter().for_each(|v| join(v, min_len, joined)),
        Value::Object(map) => {
            map.values().for_each(|v| join(v, min_len, joined));
            map.keys().for_each(|k| push(k, joined));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::Redactor;
    use serde_json::{Value, json};

    /// A response-like value with the secrets in every place a value can hold them.
    fn document(key: &str, short: &str) -> Value {
        let encoded: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        json!({
            "id": "cs_test_a1B2c3D4e5F6g7H8i9J0",
            "url": format!("https://checkout.example/pay?k={encoded}#frag"),
            "echo": format!("Invalid API Key provided: {key}"),
            "cut": &key[..14],
            "nested": {"list": ["a", "bb", format!("x {key} y"), 12, null, true], "n": 1.5},
            key: "a key that is the secret",
            "short": short,
            "inside": format!("word{short}word"),
            "alone": format!("pin {short} sent"),
            "escaped": format!("{{\"k\":\"{}\"}}", key.replace('_', "\\u005f")),
            "many": (0..40).map(|i| format!("item number {i} of the list")).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn a_value_searched_joined_is_redacted_as_string_by_string() {
        let key = "sk_test_51Habcdefghijklmnop1234";
        let short = "4321";
        for secrets in [
            vec![key],
            vec![short],
            vec![key, short],
            vec!["no such secret here"],
        ] {
            let shared = std::sync::Arc::new(Redactor::new());
            let run = shared.for_run();
            for s in &secrets {
                run.add(s);
            }
            let pass = run.pass();
            let mut joined = document(key, short);
            let mut each = joined.clone();
            pass.apply_value(&mut joined);
            pass.apply_each(&mut each);
            assert_eq!(joined, each, "secrets {secrets:?}");
            // And it did hide what it should: the key is nowhere in the text.
            let text = joined.to_string();
            if secrets.contains(&key) {
                assert!(!text.contains(key), "{text}");
                assert!(text.contains("sk_test_...1234"), "{text}");
            }
        }
    }
}
