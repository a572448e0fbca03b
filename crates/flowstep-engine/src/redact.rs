//! Redaction by value: every secret, and every credential a step sends, is replaced in every
//! string that leaves the engine (outcomes, messages, errors, logs), in every form it travels
//! in: the text is decoded once into canonical form (`canonical`), and one Aho-Corasick pass
//! finds every form of every secret in it (`secret_forms`).
//!
//! State is per run: [`Redactor::for_run`] makes the redactor of one run, which lives as long
//! as the run; the shared redactor it came from (the log writer's) hides the secrets of every
//! run that is still going and forgets them when it ends, so it does not grow with the number
//! of runs.

use crate::canonical::Canonical;
use crate::searcher_cache::Cache;
use crate::secret_forms::{self, Kind, Part};
use aho_corasick::{AhoCorasick, Input, MatchKind};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, Mutex, RwLock, Weak};

pub use crate::secret_forms::{SHORT_SECRET_CHARS, TRUNCATED_MIN_CHARS, is_short};

mod value;

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
    /// Dry-run stand-ins for secrets that are not set (`<NAME>`), shown as they are.
    stand_ins: Vec<String>,
    /// Built on the first redaction after a value was added.
    compiled: Option<Arc<Compiled>>,
}

/// Searchers already built, by the needles they find: runs that hide the same secrets (every
/// run of a server or a batch) share one instead of each building its own.
static COMPILED: Cache<Vec<NeedleKey>, Compiled> = Cache::new();

/// What a searcher is built from: each needle's value, kind and mask.
type NeedleKey = (String, Kind, String);

#[derive(Debug)]
struct Needle {
    value: String,
    kind: Kind,
    shown: String,
}

#[derive(Debug)]
struct Compiled {
    /// Every pattern of every needle, in canonical form.
    searcher: AhoCorasick,
    /// Per pattern: its needle (an index into `needles`) and the part of it that it is.
    patterns: Vec<(usize, Part)>,
    /// The values that contain a character an escape starts with, as they are, searched in the
    /// text as it is, with the needle of each: decoding the text can join such a character with
    /// what follows the value into an escape (`abc\` before a `"`), which the canonical search
    /// would then miss.
    raw: Option<(AhoCorasick, Vec<usize>)>,
    needles: Vec<CompiledNeedle>,
    /// The needles it was built from, for [`Compiled::within`].
    keys: Vec<NeedleKey>,
    /// The length in bytes of the shortest pattern, canonical or raw. Decoding never makes a
    /// text longer (every escape is at least as long as what it stands for), so a text
    /// shorter than this holds no match and is not decoded or searched: most of a JSON
    /// document's keys and many of its values.
    min_len: usize,
    /// Whether a pattern holds a NUL (a secret with one in it).
    has_nul: bool,
}

#[derive(Debug)]
struct CompiledNeedle {
    /// The value in canonical form.
    canonical: Vec<char>,
    shown: String,
    /// Masked only as a whole token, and never in a JSON key.
    short: bool,
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

    /// Registers a dry run's stand-in for a secret that is not set
    /// ([`Secret::placeholder`](crate::Secret::placeholder), `<NAME>`): it holds nothing
    /// secret, so a credential that is exactly it is shown as it is, to say where the secret
    /// would go. A credential that only contains it (with other text or another secret) is
    /// hidden as usual.
    pub fn add_stand_in(&self, value: &str) {
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        if !own.stand_ins.iter().any(|s| s == value) {
            own.stand_ins.push(value.to_owned());
        }
    }

    fn is_stand_in(&self, value: &str) -> bool {
        let mut at = Some(self);
        while let Some(r) = at {
            let own = r.own.read().unwrap_or_else(|e| e.into_inner());
            if own.stand_ins.iter().any(|s| s == value) {
                return true;
            }
            at = r.parent.as_deref();
        }
        false
    }

    fn push(&self, value: &str, kind: Kind, shown: String) {
        if value.is_empty() || (kind == Kind::Secret && self.is_stand_in(value)) {
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

    /// How many values this redactor and those it was made from hide. It only grows, so a
    /// caller that redacted something when it was `n` knows that nothing newer is hidden while
    /// it is still `n`.
    pub fn generation(&self) -> usize {
        let mut n = 0;
        let mut at = Some(self);
        while let Some(r) = at {
            n += r.own.read().map(|o| o.needles.len()).unwrap_or_default();
            at = r.parent.as_deref();
        }
        n
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
        self.pass().apply(text, place)
    }

    /// The searchers a redaction goes through, taken once for a whole text or value: each
    /// takes a lock to read, which a walk over every string of a response would otherwise
    /// take for each string.
    ///
    /// A redactor up the chain whose values this one hides too is not searched again: a run's
    /// redactor made from a shared one that keeps the same secrets (the CLI's, for every run
    /// of a batch) would otherwise decode and search every string twice. One pass with all the
    /// values is what a single redactor holding them gives. The live runs made from this one
    /// come after.
    fn pass(&self) -> Pass {
        let mut searchers: Vec<Arc<Compiled>> = Vec::new();
        let mut first: Option<Arc<Compiled>> = None;
        let mut at = Some(self);
        while let Some(r) = at {
            if let Some(c) = r.compiled() {
                match &first {
                    Some(f) if c.within(f) => {}
                    _ => searchers.push(c.clone()),
                }
                first.get_or_insert(c);
            }
            at = r.parent.as_deref();
        }
        self.push_runs(&mut searchers);
        Pass(searchers)
    }

    /// Adds the searchers of the live runs made from this redactor, and of theirs.
    fn push_runs(&self, searchers: &mut Vec<Arc<Compiled>>) {
        let live: Vec<Arc<Redactor>> = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|r| r.strong_count() > 0);
            runs.iter().filter_map(Weak::upgrade).collect()
        };
        for run in live {
            searchers.extend(run.compiled());
            run.push_runs(searchers);
        }
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
            let key: Vec<NeedleKey> = own
                .needles
                .iter()
                .map(|n| (n.value.clone(), n.kind, n.shown.clone()))
                .collect();
            own.compiled = Some(COMPILED.get_or_build(key, || compile(&own.needles)));
        }
        own.compiled.clone()
    }

    /// Redacts every string in a JSON value, in place, leaving its shape alone. Object keys are
    /// kept as they are unless they hold a secret of at least [`SHORT_SECRET_CHARS`]
    /// characters (a server that echoes a key as a field name); a short secret never changes a
    /// key.
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        let pass = self.pass();
        if !pass.0.is_empty() {
            pass.apply_value(value);
        }
    }
}

/// The searchers of one redaction, in the order they are applied ([`Redactor::pass`]).
struct Pass(Vec<Arc<Compiled>>);

impl Pass {
    fn apply<'t>(&self, text: Cow<'t, str>, place: Place) -> Cow<'t, str> {
        self.0.iter().fold(text, |out, c| c.apply(out, place))
    }
}

fn next_char(s: &str, at: usize) -> usize {
    s[at..]
        .chars()
        .next()
        .map_or(s.len(), |c| at + c.len_utf8())
}

fn compile(needles: &[Needle]) -> Compiled {
    let mut patterns = Vec::new();
    let mut texts = Vec::new();
    let mut compiled = Vec::new();
    for (i, n) in needles.iter().enumerate() {
        let forms = secret_forms::forms(&n.value, n.kind);
        for (text, part) in forms.patterns {
            texts.push(text);
            patterns.push((i, part));
        }
        compiled.push(CompiledNeedle {
            canonical: forms.canonical,
            shown: n.shown.clone(),
            short: secret_forms::is_short(&n.value),
        });
    }
    let (raw_texts, raw_needles): (Vec<&str>, Vec<usize>) = needles
        .iter()
        .enumerate()
        .filter(|(_, n)| n.value.contains(['%', '\\', '&', '\'', '+']))
        .map(|(i, n)| (n.value.as_str(), i))
        .unzip();
    let min_len = texts
        .iter()
        .map(String::len)
        .chain(raw_texts.iter().map(|t| t.len()))
        .min()
        .unwrap_or(0);
    let raw = (!raw_texts.is_empty()).then(|| (searcher(&raw_texts), raw_needles));
    Compiled {
        min_len,
        has_nul: texts.iter().any(|t| t.contains('\0')),
        searcher: searcher(&texts),
        patterns,
        raw,
        needles: compiled,
        keys: needles
            .iter()
            .map(|n| (n.value.clone(), n.kind, n.shown.clone()))
            .collect(),
    }
}

fn searcher<P: AsRef<[u8]>>(patterns: &[P]) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(patterns)
        .unwrap_or_else(|e| {
            // Only a pattern set too large for memory fails to build; continuing without
            // redaction is not an option.
            panic!("the redaction patterns do not build: {e}")
        })
}

impl Compiled {
    /// `text` with every value of this searcher masked.
    fn apply<'t>(&self, text: Cow<'t, str>, place: Place) -> Cow<'t, str> {
        if text.len() < self.min_len {
            return text;
        }
        let spans = self.find(&text, place);
        if spans.is_empty() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (range, shown) in spans {
            out.push_str(&text[copied..range.start]);
            out.push_str(shown);
            copied = range.end;
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }

    /// Whether the strings of a value can be searched joined with a NUL between them (see
    /// `redact/value.rs`): no pattern holds a NUL, and no value is searched as it is.
    fn joinable(&self) -> bool {
        self.raw.is_none() && !self.has_nul
    }

    /// Whether every value this searcher hides (with the same mask) `other` hides too.
    fn within(&self, other: &Compiled) -> bool {
        std::ptr::eq(self, other) || self.keys.iter().all(|k| other.keys.contains(k))
    }

    /// The ranges of `text` to mask, in order and not overlapping, each with its mask.
    fn find(&self, text: &str, place: Place) -> Vec<(Range<usize>, &str)> {
        let canon = Canonical::of(text);
        let c: &str = &canon.text;
        // (range of `text`, needle)
        let mut found: Vec<(Range<usize>, usize)> = Vec::new();
        let mut at = 0;
        while at < c.len() {
            let Some(m) = self.searcher.find(Input::new(c).span(at..c.len())) else {
                break;
            };
            let (needle, part) = self.patterns[m.pattern().as_usize()];
            let n = &self.needles[needle];
            if n.short && (place == Place::Key || !stands_alone(c, m.start(), m.end())) {
                // Look again from the next character: a longer secret may start inside.
                at = next_char(c, m.start());
                continue;
            }
            let range = match part {
                Part::Whole => m.start()..m.end(),
                Part::Beginning => {
                    m.start()..extend_forward(c, m.end(), &n.canonical, m.end() - m.start())
                }
                Part::End => extend_back(c, m.start(), &n.canonical, m.end() - m.start())..m.end(),
            };
            at = range.end;
            found.push((canon.source_range(range.start, range.end), needle));
        }
        if let Some((raw, needles)) = &self.raw {
            for m in raw.find_iter(text) {
                let needle = needles[m.pattern().as_usize()];
                let n = &self.needles[needle];
                if !(n.short && (place == Place::Key || !stands_alone(text, m.start(), m.end()))) {
                    found.push((m.start()..m.end(), needle));
                }
            }
        }
        // Matches can overlap (a secret's end reaching back into the match before it, a value
        // found both as it is and decoded): overlapping ones are masked as one, so that no
        // piece of either is left between.
        found.sort_by_key(|(r, _)| r.start);
        let mut merged: Vec<(Range<usize>, usize)> = Vec::new();
        for (r, needle) in found {
            match merged.last_mut() {
                Some((last, _)) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push((r, needle)),
            }
        }
        merged
            .into_iter()
            .map(|(r, needle)| (r, self.needles[needle].shown.as_str()))
            .collect()
    }
}

/// Whether `text[start..end]` is not part of a longer run of letters, digits and `_`: the rule
/// for short secrets.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let inner_first = text[start..end].chars().next().is_some_and(word);
    let inner_last = text[start..end].chars().next_back().is_some_and(word);
    let before = text[..start].chars().next_back().is_some_and(word);
    let after = text[end..].chars().next().is_some_and(word);
    !((inner_first && before) || (inner_last && after))
}

/// How far past `at` the text goes on like `value` does past its first `matched` bytes.
fn extend_forward(text: &str, at: usize, value: &[char], matched: usize) -> usize {
    let done = value
        .iter()
        .scan(0, |bytes, c| {
            *bytes += c.len_utf8();
            Some(*bytes)
        })
        .take_while(|b| *b <= matched)
        .count();
    let mut end = at;
    for (expected, got) in value[done..].iter().zip(text[at..].chars()) {
        if *expected != got {
            break;
        }
        end += got.len_utf8();
    }
    end
}

/// How far before `at` the text goes back like `value` does before its last `matched` bytes.
fn extend_back(text: &str, at: usize, value: &[char], matched: usize) -> usize {
    let done = value
        .iter()
        .rev()
        .scan(0, |bytes, c| {
            *bytes += c.len_utf8();
            Some(*bytes)
        })
        .take_while(|b| *b <= matched)
        .count();
    let mut start = at;
    for (expected, got) in value[..value.len() - done]
        .iter()
        .rev()
        .zip(text[..at].chars().rev())
    {
        if *expected != got {
            break;
        }
        start -= got.len_utf8();
    }
    start
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
    fn a_shared_redactor_whose_values_the_run_hides_is_not_searched_again() {
        let shared = Arc::new(Redactor::new());
        shared.add("sk_test_4eC39HqLyjWDarjtT1zdp7dc");
        let run = shared.for_run();
        run.add("sk_test_4eC39HqLyjWDarjtT1zdp7dc");
        run.add_derived("dXNlcjpzZWNyZXRwYXNzd29yZA==");
        let (s, r) = (shared.compiled().unwrap(), run.compiled().unwrap());
        // The run's searcher covers the shared one's, so the shared one is skipped ...
        assert!(s.within(&r));
        assert!(!r.within(&s));
        assert_eq!(
            run.redact(
                "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc, Basic dXNlcjpzZWNyZXRwYXNzd29yZA=="
            ),
            "Bearer sk_test_...p7dc, Basic [redacted]"
        );
        // ... but a value only the shared one holds is still hidden in the run's text.
        shared.add("whsec_only0the0shared0one0knows");
        assert!(!shared.compiled().unwrap().within(&r));
        assert_eq!(
            run.redact("sk_test_4eC39HqLyjWDarjtT1zdp7dc whsec_only0the0shared0one0knows"),
            "sk_test_...p7dc whsec_...nows"
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

    /// What `secret` leaves of each text in `texts`.
    fn redacted(secret: &str, texts: &[&str]) -> Vec<String> {
        let r = Redactor::new();
        r.add(secret);
        texts.iter().map(|t| r.redact(t).into_owned()).collect()
    }

    #[test]
    fn every_mix_of_percent_encodings_is_found() {
        let echoes = [
            "sk_test_a/b+c d'e",
            "sk_test_a%2Fb%2Bc%20d%27e",
            "sk_test_a%2fb%2bc+d%27e",
            "sk_test_a/b+c%20d'e",
            "sk_test_a%2Fb+c+d'e",
            "sk%5Ftest%5Fa%252Fb%252Bc%2520d%2527e",
            // The space written as `+` by a form, and that `+` encoded again.
            "sk_test_a%2Fb%2Bc%2Bd%27e",
        ];
        let texts: Vec<String> = echoes.iter().map(|e| format!("key={e}&x=1")).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        for (echo, got) in echoes.iter().zip(redacted("sk_test_a/b+c d'e", &texts)) {
            assert_eq!(got, "key=sk_test_... d'e&x=1", "{echo}");
        }
    }

    #[test]
    fn json_shell_html_rust_and_latin1_forms_are_found() {
        let key = "sk_live_\"q\"/é'x\\y";
        let echoes = [
            r#"sk_live_\"q\"\/é'x\\y"#,
            r"sk_live_\u0022q\u0022\u002Fé\u0027x\u005cy",
            r"sk_live_\u0022q\u0022/\u00e9'x\\y",
            r#"sk_live_"q"/é'\''x\y"#,
            r#"sk_live_&quot;q&#34;&#x2f;&#233;&#39;x\y"#,
            r#"sk_live_\x22q\x22/\xC3\xA9'x\\y"#,
            r#"sk_live_"q"/Ã©'x\y"#,
        ];
        let texts: Vec<String> = echoes.iter().map(|e| format!("echo: {e} end")).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        for (echo, got) in echoes.iter().zip(redacted(key, &texts)) {
            assert_eq!(got, "echo: sk_live_...'x\\y end", "{echo}");
        }
    }

    #[test]
    fn base64_is_found_alone_and_inside_longer_base64() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let key = "sk_test_51Hb>?x~~~zzzz1234";
        let texts = [
            STANDARD.encode(key),
            URL_SAFE.encode(key),
            STANDARD.encode(format!("{key}:")),
            STANDARD.encode(format!("u:{key}")),
            STANDARD.encode(format!("us:{key}")),
            STANDARD.encode(format!("{{\"key\":\"{key}\",\"n\":1}}")),
        ];
        let texts: Vec<String> = texts.iter().map(|t| format!("Basic {t}")).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        // What is left beside a mask is the base64 of what was beside the key, and at most
        // 4 bits of its first and last byte.
        assert_eq!(
            redacted(key, &texts),
            [
                "Basic sk_test_...1234=",
                "Basic sk_test_...1234=",
                "Basic sk_test_...12346",
                "Basic dTpsk_test_...1234A==",
                "Basic dXM6sk_test_...1234=",
                "Basic eyJrZXkiOiJsk_test_...1234CIsIm4iOjF9",
            ]
        );
    }

    #[test]
    fn a_long_secret_is_found_cut_short_at_either_end() {
        let key = "sk_test_SENTINEL0secret0value0ZZZ9";
        assert_eq!(
            redacted(
                key,
                &[
                    "Invalid key sk_test_SENT...",
                    "Invalid key sk_test_SENTINEL0se…",
                    "Invalid key sk_test_SEN...",
                    "...ecret0value0ZZZ9 was refused",
                    "...value0ZZZ9 was refused",
                    // A middle no encoder here writes: both ends are found, and all between.
                    "sk_test_SENTINEL0s%%%et0value0ZZZ9"
                ]
            ),
            [
                "Invalid key sk_test_...ZZZ9...",
                "Invalid key sk_test_...ZZZ9…",
                "Invalid key sk_test_SEN...",
                "...sk_test_...ZZZ9 was refused",
                "...value0ZZZ9 was refused",
                "sk_test_...ZZZ9%%%sk_test_...ZZZ9",
            ]
        );
    }

    #[test]
    fn short_secrets_are_found_only_as_whole_tokens() {
        assert_eq!(
            redacted(
                "1234",
                &["order-1234 and 12345 and x1234 and %31234 and 1234"]
            ),
            ["order-[redacted] and 12345 and x1234 and [redacted] and [redacted]"]
        );
        assert_eq!(
            redacted("u", &["request url https://127.0.0.1/ok, user u."]),
            ["request url https://127.0.0.1/ok, user [redacted]."]
        );
        // Its base64 is a whole token too: Basic auth of `u:p`.
        assert_eq!(
            redacted("u:p", &["Basic dTpw, not xdTpw"]),
            ["Basic [redacted], not xdTpw"]
        );
    }

    #[test]
    fn a_value_is_found_even_where_decoding_would_join_it_with_what_follows() {
        // Decoded, `\"` after the key is a quote, and the key's own `\` is gone with it.
        assert_eq!(
            redacted(r"pass\", &[r#"pw="pass\" and "pass\\""#]),
            [r#"pw="[redacted]" and "[redacted]""#]
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
