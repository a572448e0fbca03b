//! Redaction by value: every secret, and every credential a step sends, is replaced in every
//! string that leaves the engine (outcomes, messages, errors, logs), in every form it travels
//! in (see `secret_forms`).
//!
//! State is per run: [`Redactor::for_run`] makes the redactor of one run, which lives as long
//! as the run; the shared redactor it came from (the log writer's) hides the secrets of every
//! run that is still going and forgets them when it ends, so it does not grow with the number
//! of runs.

use crate::secret_forms::{self, Kind};
use regex_automata::Input;
use regex_automata::meta::Regex;
use std::borrow::Cow;
use std::sync::{Arc, Mutex, RwLock, Weak};

pub use crate::secret_forms::{SHORT_SECRET_CHARS, TRUNCATED_MIN_CHARS, is_short};

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

/// The values to hide. One is shared by the embedder's log writer and every run; each run
/// hides its secrets in a redactor of its own made with [`Redactor::for_run`].
///
/// ```
/// use flowstep_engine::Redactor;
/// use std::sync::Arc;
///
/// let shared = Arc::new(Redactor::new());
/// let run = shared.for_run();
/// run.add("sk_test_51Habcdefghijklmnop1234");
/// assert_eq!(
///     run.redact("401: Invalid API Key provided: sk_test_51Habcdefghijklmnop1234"),
///     "401: Invalid API Key provided: sk_test_...1234"
/// );
/// // The forms a secret travels in are hidden too: percent-encoded in a form body, JSON
/// // escaped, shell-quoted, base64.
/// run.add("p@ss word/with+symbols'");
/// assert_eq!(run.redact("password=p%40ss+word%2Fwith%2Bsymbols%27"), "password=...ols'");
/// assert_eq!(run.redact(r#"{"pw":"p@ss word\/with+symbols'"}"#), r#"{"pw":"...ols'"}"#);
/// // While the run is live, the shared redactor (the log writer's) hides its secrets too ...
/// assert_eq!(shared.redact("key sk_test_51Habcdefghijklmnop1234"), "key sk_test_...1234");
/// // ... and once the run is over, it has forgotten them.
/// drop(run);
/// assert_eq!(shared.redact("x"), "x");
/// ```
#[derive(Debug, Default)]
pub struct Redactor {
    own: RwLock<Own>,
    /// The redactor this run's was made from: its own values are hidden here too.
    parent: Option<Arc<Redactor>>,
    /// Run redactors made from this one; those still alive are hidden here too.
    runs: Mutex<Vec<Weak<Redactor>>>,
}

#[derive(Debug, Default)]
struct Own {
    needles: Vec<Needle>,
    /// Built on the first redaction after a value was added.
    compiled: Option<Arc<Compiled>>,
}

#[derive(Debug)]
struct Needle {
    value: String,
    kind: Kind,
    shown: String,
}

#[derive(Debug)]
struct Compiled {
    /// One pattern per needle, longest value first.
    regex: Regex,
    /// Per pattern: what it is replaced by, and whether it is short (whole tokens only, and
    /// never in a JSON key).
    shown: Vec<(String, bool)>,
}

/// Where a text is: JSON object keys are masked only by secrets long enough to be found
/// without touching anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Text,
    Key,
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor for one run. It hides what is added to it and what `self` hides itself;
    /// while it is alive, `self` hides its values too (so a log writer holding `self` redacts
    /// every live run), and when it is dropped they are gone, so `self` does not grow with the
    /// number of runs.
    pub fn for_run(self: &Arc<Self>) -> Arc<Redactor> {
        let run = Arc::new(Redactor {
            parent: Some(self.clone()),
            ..Redactor::default()
        });
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.retain(|r| r.strong_count() > 0);
        runs.push(Arc::downgrade(&run));
        run
    }

    /// Hides `value` from now on, in every form it travels in, each shown as [`mask`] of the
    /// value. A value shorter than [`SHORT_SECRET_CHARS`] is hidden only where it stands as a
    /// whole token (not inside a longer run of letters, digits and `_`).
    pub fn add(&self, value: &str) {
        self.push(value, Kind::Secret, mask(value));
    }

    /// Hides a credential that is sent in a derived form (a Basic auth header's base64), shown
    /// as `[redacted]`.
    pub fn add_derived(&self, value: &str) {
        self.push(value, Kind::Derived, "[redacted]".to_owned());
    }

    fn push(&self, value: &str, kind: Kind, shown: String) {
        if value.is_empty() {
            return;
        }
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        if own
            .needles
            .iter()
            .any(|n| n.value == value && n.kind == kind)
        {
            return;
        }
        own.needles.push(Needle {
            value: value.to_owned(),
            kind,
            shown,
        });
        own.compiled = None;
    }

    /// Whether this redactor hides nothing of its own.
    pub fn is_empty(&self) -> bool {
        self.own
            .read()
            .map(|o| o.needles.is_empty())
            .unwrap_or(true)
    }

    /// How many run redactors made from this one are alive.
    pub fn live_runs(&self) -> usize {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.retain(|r| r.strong_count() > 0);
        runs.len()
    }

    /// `text` with every hidden value replaced: this redactor's, those of the redactors it was
    /// made from, and those of the live runs made from it.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.redact_in(Cow::Borrowed(text), Place::Text)
    }

    fn redact_in<'t>(&self, text: Cow<'t, str>, place: Place) -> Cow<'t, str> {
        let mut out = text;
        let mut at = Some(self);
        while let Some(r) = at {
            out = r.redact_own(out, place);
            at = r.parent.as_deref();
        }
        self.redact_runs(out, place)
    }

    fn redact_runs<'t>(&self, text: Cow<'t, str>, place: Place) -> Cow<'t, str> {
        let live: Vec<Arc<Redactor>> = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|r| r.strong_count() > 0);
            runs.iter().filter_map(Weak::upgrade).collect()
        };
        let mut out = text;
        for run in live {
            out = run.redact_own(out, place);
            out = run.redact_runs(out, place);
        }
        out
    }

    fn compiled(&self) -> Option<Arc<Compiled>> {
        {
            let own = self.own.read().unwrap_or_else(|e| e.into_inner());
            if own.needles.is_empty() {
                return None;
            }
            if let Some(c) = &own.compiled {
                return Some(c.clone());
            }
        }
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        if own.compiled.is_none() && !own.needles.is_empty() {
            own.compiled = Some(Arc::new(compile(&own.needles)));
        }
        own.compiled.clone()
    }

    fn redact_own<'t>(&self, text: Cow<'t, str>, place: Place) -> Cow<'t, str> {
        let Some(compiled) = self.compiled() else {
            return text;
        };
        let haystack: &str = &text;
        let mut out = String::new();
        let mut changed = false;
        let mut copied = 0;
        let mut from = 0;
        while from < haystack.len() {
            let input = Input::new(haystack).span(from..haystack.len());
            let Some(m) = compiled.regex.search(&input) else {
                break;
            };
            let (shown, short) = &compiled.shown[m.pattern().as_usize()];
            if *short && place == Place::Key {
                // Look again from the next character: a longer secret may start inside.
                from = next_char(haystack, m.start());
                continue;
            }
            out.push_str(&haystack[copied..m.start()]);
            out.push_str(shown);
            changed = true;
            copied = m.end();
            from = m.end().max(next_char(haystack, m.start()));
        }
        if !changed {
            return text;
        }
        out.push_str(&haystack[copied..]);
        Cow::Owned(out)
    }

    /// Redacts every string in a JSON value, in place, leaving its shape alone. Object keys are
    /// kept as they are unless they hold a secret of at least [`SHORT_SECRET_CHARS`]
    /// characters (a server that echoes a key as a field name); a short secret never changes a
    /// key.
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
                    let key = self
                        .redact_in(Cow::Borrowed(k.as_str()), Place::Key)
                        .into_owned();
                    map.insert(key, v);
                }
            }
            _ => {}
        }
    }
}

fn next_char(s: &str, at: usize) -> usize {
    s[at..]
        .chars()
        .next()
        .map_or(s.len(), |c| at + c.len_utf8())
}

fn compile(needles: &[Needle]) -> Compiled {
    let mut order: Vec<&Needle> = needles.iter().collect();
    // Where one value begins another at the same place, the longer one is masked whole.
    order.sort_by_key(|n| std::cmp::Reverse(n.value.len()));
    let patterns: Vec<String> = order
        .iter()
        .map(|n| secret_forms::pattern(&n.value, n.kind))
        .collect();
    let regex = Regex::builder()
        .configure(Regex::config().nfa_size_limit(None))
        .build_many(&patterns)
        .unwrap_or_else(|e| {
            // The patterns are built from escaped characters only; a failure here is a bug in
            // `secret_forms`, and continuing without redaction is not an option.
            panic!("the redaction patterns do not compile: {e}")
        });
    let shown = order
        .iter()
        .map(|n| (n.shown.clone(), secret_forms::is_short(&n.value)))
        .collect();
    Compiled { regex, shown }
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

    #[test]
    fn short_secrets_never_change_keys_or_words() {
        let r = Redactor::new();
        for short in ["u", "p", "1234"] {
            r.add(short);
        }
        let mut v = json!({
            "request": {"url": "http://127.0.0.1:8080/ok", "user": "u", "pin": "1234"},
            "link": "https://pay.example/order-91234567",
            "u": "p",
        });
        r.redact_value(&mut v);
        assert_eq!(
            v,
            json!({
                "request": {"url": "http://127.0.0.1:8080/ok", "user": "[redacted]", "pin": "[redacted]"},
                "link": "https://pay.example/order-91234567",
                "u": "[redacted]",
            })
        );
        assert_eq!(
            r.redact("GET http://127.0.0.1:8080/ok -> 200, user u"),
            "GET http://127.0.0.1:8080/ok -> 200, user [redacted]"
        );
    }

    #[test]
    fn a_run_redactor_is_forgotten_by_the_shared_one_when_it_ends() {
        let shared = Arc::new(Redactor::new());
        shared.add("EAAGchannel0token0xyz");
        for i in 0..1000 {
            let run = shared.for_run();
            run.add(&format!("sk_test_run{i:04}_abcdefghijkl"));
            assert_eq!(shared.live_runs(), 1);
            if i % 250 == 0 {
                // The run hides its own secret and the shared one's; the shared one hides both.
                let text = format!("sk_test_run{i:04}_abcdefghijkl EAAGchannel0token0xyz");
                assert_eq!(run.redact(&text), "sk_test_...ijkl ...0xyz");
                assert_eq!(shared.redact(&text), "sk_test_...ijkl ...0xyz");
            }
        }
        assert_eq!(shared.live_runs(), 0);
        // Only what was added to it directly is left.
        assert_eq!(
            shared.redact("sk_test_run0001_abcdefghijkl EAAGchannel0token0xyz"),
            "sk_test_run0001_abcdefghijkl ...0xyz"
        );
    }

    #[test]
    fn overlapping_secrets_are_masked_whole() {
        let r = Redactor::new();
        r.add("12");
        r.add("2345678900abcdef");
        assert_eq!(r.redact("x12345678900abcdefx"), "x1...cdefx");
        let mut v = json!({"12345678900abcdef": 1});
        r.redact_value(&mut v);
        assert_eq!(v, json!({"1...cdef": 1}));
    }
}
