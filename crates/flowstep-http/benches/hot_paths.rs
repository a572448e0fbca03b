//! The per-run hot paths of the Stripe preset, one criterion bench each:
//! `cargo bench -p flowstep-http --bench hot_paths` (add a name to run one, like `-- render`).
//!
//! - `compile`: the stripe-checkout preset read, checked and bound (engine and http step);
//! - `render`: its form body rendered against a run's scope;
//! - `form_encode`: that body flattened to bracket keys and percent-encoded;
//! - `response_map`: a Checkout Session JSON (2 KB) parsed and its three fields mapped;
//! - `redact_text` and `redact_value`: the session JSON, as text and as a value, through a
//!   run's redactor holding the Stripe key (nothing to hide: the common case; `redact_value`
//!   includes cloning the value);
//! - `redactor_for_run`: what every run pays to set up its redactor: `for_run`, the key added,
//!   and a first (short) redaction, which builds the matcher;
//! - `dry_run`: a whole run of the preset with nothing sent (`RunMode::DryRun`): every step
//!   rendered and recorded, the outcome redacted; the library's cost without the network.
//!
//! What a whole run costs on the wire is `benches/throughput.rs`.

use criterion::{Criterion, criterion_group, criterion_main};
use flowstep_engine::{
    Engine, InputValue, RecordingChannel, Redactor, RunMode, RunRequest, Secret, resolve_inputs,
};
use flowstep_http::{HttpConfig, kind};
use flowstep_spec::steps::{Body, StepSpec};
use flowstep_spec::{Scope, SourceFile, read_flow};
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

/// A Checkout Session as the sandbox answers it (`id`, `url`, `expires_at` and 60 more).
const SESSION: &str = include_str!("session.json");

fn preset() -> SourceFile {
    let p = flowstep_presets::get("stripe-checkout").expect("the preset is bundled");
    SourceFile::new(p.file, p.source)
}

/// The scope `create_session` renders against in a run of the README's command.
fn scope() -> Scope {
    Scope::new(json!({
        "product_name": "Blue T-shirt",
        "amount_paise": 50000,
        "currency": "inr",
        "success_url": "https://example.com/success",
        "cancel_url": "https://example.com/cancel",
        "client_reference_id": null,
        "customer_email": null,
        "order_id": "order-1042",
        "expires_in_minutes": null,
        "steps": { "requested_expiry": { "status": "skipped", "attempts": 0, "error": null } },
        "run": { "id": "order-1042" },
    }))
}

fn benches(c: &mut Criterion) {
    let mut engine = Engine::new();
    engine.register("http", kind(HttpConfig::default()));
    c.bench_function("compile", |b| {
        b.iter(|| {
            engine
                .compile_source(black_box(preset()))
                .map(|(plan, _)| plan)
                .unwrap_or_else(|d| panic!("{d:?}"))
        })
    });

    let flow = read_flow(preset()).unwrap_or_else(|d| panic!("{d:?}"));
    let step = flow
        .steps
        .iter()
        .find(|s| s.id.value == "create_session")
        .expect("the preset creates a session");
    let StepSpec::Http(spec) = &step.spec else {
        panic!("create_session is an http step")
    };
    let Some(Body::Form(body)) = &spec.body else {
        panic!("the preset sends a form")
    };
    let scope = scope();
    c.bench_function("render", |b| {
        b.iter(|| {
            body.render_tree(&flow.templates, black_box(&scope))
                .unwrap()
        })
    });

    let rendered = body.render_tree(&flow.templates, &scope).unwrap();
    c.bench_function("form_encode", |b| {
        b.iter(|| flowstep_http::fuzzing::form_body(black_box(&rendered)))
    });

    c.bench_function("response_map", |b| {
        b.iter(|| {
            flowstep_http::fuzzing::map_response(&spec.map, black_box(SESSION.as_bytes()), 200)
                .unwrap()
        })
    });

    let shared = Arc::new(Redactor::new());
    let redactor = shared.for_run();
    redactor.add("sk_test_4eC39HqLyjWDarjtT1zdp7dc");
    c.bench_function("redact_text", |b| {
        b.iter(|| redactor.redact(black_box(SESSION)).len())
    });
    let value: Value = serde_json::from_str(SESSION).unwrap();
    c.bench_function("redact_value", |b| {
        b.iter(|| {
            let mut v = value.clone();
            redactor.redact_value(black_box(&mut v));
            v
        })
    });
    c.bench_function("redactor_for_run", |b| {
        b.iter(|| {
            let r = shared.for_run();
            r.add(black_box("sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
            r.redact(black_box("create_session")).len()
        })
    });

    let (plan, _) = engine
        .compile_source(preset())
        .unwrap_or_else(|d| panic!("{d:?}"));
    let inputs = resolve_inputs(
        plan.flow(),
        vec![
            (
                "product_name".into(),
                InputValue::Text("Blue T-shirt".into()),
            ),
            ("amount_paise".into(), InputValue::Text("50000".into())),
            (
                "success_url".into(),
                InputValue::Text("https://shop.example/thanks".into()),
            ),
        ],
    )
    .unwrap();
    let secrets: std::collections::BTreeMap<String, Secret> = [(
        "STRIPE_SECRET_KEY".to_owned(),
        Secret::new("sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    )]
    .into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    c.bench_function("dry_run", |b| {
        b.iter(|| {
            let channel = RecordingChannel::new();
            runtime
                .block_on(plan.run(RunRequest {
                    inputs: inputs.clone(),
                    secrets: secrets.clone(),
                    run_id: Some("order-1042".into()),
                    mode: RunMode::DryRun,
                    channel: &channel,
                    recipient: None,
                    redactor: shared.clone(),
                }))
                .unwrap()
        })
    });
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
