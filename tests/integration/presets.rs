//! The bundled flows: listed, shown, and every file in `flows/` passes `check`.

use crate::support::{Scratch, run};
use std::path::Path;

#[test]
fn presets_are_listed_and_shown() {
    let dir = Scratch::new();
    let out = run(dir.path(), &["presets"]);
    assert_eq!(out.code, 0);
    // One line per preset, names padded to one column, in name order.
    let expected: String = [
        "razorpay-payment-link         Create a Razorpay Payment Link and send its short URL on WhatsApp.",
        "razorpay-payment-link-status  Look up a Razorpay Payment Link by reference id and say whether it is paid, open, expired or cancelled.",
        "stripe-checkout               Create a one-time Stripe Checkout Session and send its URL on WhatsApp.",
        "stripe-checkout-status        Look up a Stripe Checkout Session and say whether it is paid, open or expired.",
        "whatsapp-send-template        Send an approved WhatsApp template message (a payment reminder) through the WhatsApp Cloud API.",
        "whatsapp-send-text            Send a WhatsApp text message through the WhatsApp Cloud API.",
    ]
    .map(|l| format!("{l}\n"))
    .concat();
    assert_eq!(out.stdout, expected);
    let out = run(dir.path(), &["presets", "show", "stripe-checkout"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("flows/stripe-checkout.yaml")
        )
        .unwrap()
    );
    let out = run(dir.path(), &["presets", "show", "stripe-chekout"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: no preset named `stripe-chekout`; did you mean `stripe-checkout`?\n"
    );
}

#[test]
fn an_unknown_flow_name_suggests_the_preset() {
    let dir = Scratch::new();
    let out = run(dir.path(), &["run", "stripe-checkot"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: no flow file or preset named `stripe-checkot`; did you mean the preset `stripe-checkout`?\n"
    );
}

#[test]
fn every_bundled_flow_passes_check() {
    let flows = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows");
    let mut files = Vec::new();
    for entry in walk(&flows) {
        if entry.extension().is_some_and(|e| e == "yaml") {
            files.push(entry.to_str().unwrap().to_owned());
        }
    }
    assert!(!files.is_empty());
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let out = run(&flows, &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout.lines().filter(|l| l.ends_with(": ok")).count(),
        files.len()
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
