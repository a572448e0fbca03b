//! What the binary prints is safe for a terminal and for a pipe: control characters from a
//! flow, an input or an API's answer are shown as escapes, and a reader that goes away (`| head`)
//! ends the process quietly with exit code 141, never a panic; a full disk is an error (74).

use crate::support::{Scratch, flowstep, run};
use std::process::Stdio;

/// The Stripe preset on the built-in sandbox, with every input it needs.
const RUN_PRESET: &[&str] = &[
    "run",
    "stripe-checkout",
    "--sandbox",
    "--var",
    "product_name=Tea",
    "--var",
    "amount_paise=5000",
    "--var",
    "success_url=https://shop.example/thanks",
];

#[test]
fn a_closed_pipe_ends_the_process_quietly_with_141() {
    let dir = Scratch::new();
    for args in [
        &["schema"][..],
        &["presets", "show", "stripe-checkout"],
        &[RUN_PRESET, &["--output", "json"]].concat(),
    ] {
        let mut child = flowstep(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn output_a_full_disk_refuses_is_an_error_with_74_not_silence() {
    let dir = Scratch::new();
    for args in [&["schema"][..], RUN_PRESET] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full, which every Linux has");
        let out = flowstep(dir.path())
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(74), "{args:?}: {stderr}");
        assert!(
            stderr.ends_with(
                "error: cannot write the output to stdout: No space left on device (os error 28); what was not written is lost\n"
            ),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn control_characters_from_a_flow_and_an_input_are_shown_as_escapes() {
    let dir = Scratch::new();
    dir.write(
        "esc.yaml",
        "flow: esc\ninputs:\n  name: { type: string }\nsteps:\n  - id: say\n    type: message\n    text: \"\\e]0;pwned\\a\\e[31mHi <<name>>\"\n",
    );
    let out = run(
        dir.path(),
        &["run", "esc.yaml", "--var", "name=\u{1b}[2Jx\u{7}"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'),
        "{:?}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r"  │ \x1b]0;pwned\x07\x1b[31mHi \x1b[2Jx\x07"),
        "{}",
        out.stdout
    );
    // In a diagnostic that quotes the line: raw control bytes in the file.
    dir.write(
        "bad.yaml",
        "flow: bad\nsteps:\n  - id: say\n    type: message\n    text: \"\u{1b}]0;pwned\u{7} <<nope>>\"\n",
    );
    let out = run(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
        "{:?}",
        out.stderr
    );
    assert!(
        out.stderr.contains("undefined variable `nope`"),
        "{}",
        out.stderr
    );
}
