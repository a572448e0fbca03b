//! Fuzzes what an API answers that the http step reads beyond the body mapping: a `Link`
//! header (pagination: the input's first line, with the relation `next` and another taken from
//! the second line) and an OAuth2 token endpoint's answer (the rest, under a 200 and a 400).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let header = lines.next().unwrap_or_default();
    let rel = lines.next().unwrap_or("next");
    let rest = lines.next().unwrap_or_default();
    for rel in ["next", rel] {
        if let Some(target) = flowstep_http::fuzzing::link_target(header, rel) {
            // A target is what stood between `<` and `>` in the header, without the whitespace
            // around it.
            assert!(header.contains(&target), "{target:?} not in {header:?}");
            assert_eq!(target.trim(), target, "{header:?}");
            assert!(!target.contains('>'), "{target:?} from {header:?}");
        }
    }
    for status in [200, 400, 503] {
        if let Ok(token) = flowstep_http::fuzzing::token_answer(status, rest.as_bytes()) {
            assert_eq!(status, 200);
            assert!(!token.is_empty());
        }
    }
});
