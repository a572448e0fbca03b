//! Fuzzes template parsing and rendering: `<<expr>>` pieces, the `\<<` escape, helpers (exact
//! arithmetic, money, time, text) over variables of every JSON shape, rendered the three ways
//! the engine renders (typed value, pieces for URLs, display text for dry runs).
#![no_main]

use flowstep_spec::{Scope, Span, TemplateEnv, render_all, SourceFile};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;

static SCOPE: LazyLock<Scope> = LazyLock::new(|| {
    Scope::new(json!({
        "amount": "19.99",
        "amount_paise": 50000,
        "big": 99999999999999999999u128.to_string(),
        "huge": 1.7976931348623157e308,
        "tiny": -1e-300,
        "neg": -42,
        "zero": 0,
        "name": "Blue T-shirt",
        "phone": "+919000090000",
        "empty": "",
        "nothing": null,
        "yes": true,
        "tags": ["a", "b", "c"],
        "items": [{"price": "10.50", "qty": 3}, {"price": "0.01", "qty": 1000000}],
        "when": "2026-11-30T23:59:59Z",
        "epoch": 1764547199,
        "order": {"id": "ord_1", "lines": [[1, 2], [3]], "meta": {"k": "v"}},
        "steps": {"create_session": {"response": {"status": 200, "body": {"url": "https://x"}}}},
        "secrets": {"STRIPE_SECRET_KEY": "sk_test_fuzzfuzzfuzz1234"}
    }))
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut env = TemplateEnv::new();
    let span = Span::new(0, text.len());
    match env.compile(text, span, text) {
        Ok(template) => {
            let _ = std::hint::black_box(env.render(&template, &SCOPE));
            let _ = std::hint::black_box(env.render_pieces(&template, &SCOPE));
            std::hint::black_box(env.render_for_display(&template, &SCOPE));
            std::hint::black_box(template.source());
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a failed compile must say why");
            let file = SourceFile::new("fuzz.txt", text);
            std::hint::black_box(render_all(&diagnostics, &file));
        }
    }
});
