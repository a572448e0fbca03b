//! Fuzzes reading a response: arbitrary bytes as the body (JSON or not, any depth), arbitrary
//! JSONPaths (the input's first line) and the presets' paths, under every status class, with
//! the bounds on what a mapping may select.
#![no_main]

use flowstep_spec::jsonpath::CompiledPath;
use flowstep_spec::response_map::{ResponseMapping, ResponseSource};
use flowstep_spec::{Span, Spanned};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &["$.url", "$.id", "$..id", "$.data[*].id", "$.error.message", "$..*", "$[0]", "$.a.b[-1]", "$..[?@.id]"];

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let mut map = Vec::new();
    let mut add = |source: &str| {
        if let Ok(path) = CompiledPath::compile(source, Span::new(0, source.len())) {
            map.push(ResponseMapping {
                var: Spanned::new(format!("v{}", map.len()), Span::new(0, 0)),
                source: ResponseSource::Body(path),
                default: None,
            });
        }
    };
    if let Ok(source) = std::str::from_utf8(first) {
        add(source);
    }
    for source in PATHS {
        add(source);
    }
    let status = match body.first() {
        Some(b) if b % 7 == 0 => 429,
        Some(b) if b % 5 == 0 => 500,
        _ => 200,
    };
    // Each mapping alone, so that one that matches nothing does not hide the others.
    for one in map.chunks(1) {
        if let Ok(values) = flowstep_http::fuzzing::map_response(one, body, status) {
            for (_, v) in &values {
                assert!(v.to_string().len() <= flowstep_spec::jsonpath::MAX_SELECTED_BYTES + 2);
            }
        }
    }
});
