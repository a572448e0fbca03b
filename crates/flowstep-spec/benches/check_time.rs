//! Check time against file size: `cargo bench -p flowstep-spec --bench check_time`.
//!
//! For each shape of flow (many steps, one step with many keys, a flow written on one line,
//! many variables), it times reading and checking (`check`), then drawing every diagnostic
//! (`draw`), for a small baseline (64 KiB) and for 1 MiB, in the same run. It warns when checking
//! 1 MiB takes a second or more (the target), fails at three seconds, and fails when 16 times the text takes more than 40 times as long to
//! check and draw (both must stay near-linear in the size of the file). The shapes stay under
//! the YAML reader's node limit, so that the whole file is checked.

use flowstep_spec::check::check_variables;
use flowstep_spec::{SourceFile, read_partial, render_all};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const BASELINE: usize = 64 * 1024;
const LARGE: usize = 1024 * 1024;
/// 16 times the text may take at most this many times as long.
const MAX_RATIO: f64 = 40.0;
/// The target: 1 MiB checked well under a second (measured 0.1–0.5 s on the 2-core CI machine).
const TARGET_LARGE: Duration = Duration::from_secs(1);
/// The hard limit: three times the target, so that a noisy machine does not fail CI while a
/// quadratic check (40,000 keys took 116 s before) still does; the ratio below is the real test.
const MAX_LARGE: Duration = Duration::from_secs(3);

/// A flow of about `size` bytes in the given shape.
fn flow(shape: &str, size: usize) -> String {
    let mut text = String::from("flow: big\ninputs:\n  name: { type: string }\nsteps:\n");
    let mut i = 0;
    match shape {
        "many steps" => {
            while text.len() < size {
                let _ = write!(
                    text,
                    "  - id: s{i}\n    type: http\n    method: POST\n    url: https://api.example.com/v1/customers/<<name>>/items/{i}/reservations\n    body_type: json\n    body: {{ note: \"Reserved for <<name>> by the nightly batch, item {i} of the catalogue\" }}\n    response: {{ map: {{ v{i}: $.id }} }}\n  - id: m{i}\n    type: message\n    when: <<eq steps.s{i}.status \"succeeded\">>\n    text: \"Hello <<name>>, item <<v{i}>> is reserved for you; reply STOP to cancel the reservation.\"\n"
                );
                i += 1;
            }
        }
        "one step with many keys" => {
            text.push_str("  - id: a\n    type: message\n    text: hi\n");
            while text.len() < size {
                let _ = writeln!(text, "    unknown_key_{i}: value");
                i += 1;
            }
        }
        "one line" => {
            text = String::from("{flow: big, steps: [{id: a, type: message, text: hi");
            while text.len() < size {
                let _ = write!(text, ", unknown_key_{i}: value");
                i += 1;
            }
            text.push_str("}]}\n");
        }
        "many variables" => {
            text.push_str("  - id: s0\n    type: set\n    values: { v0: <<name>> }\n");
            i = 1;
            while text.len() < size {
                let _ = write!(
                    text,
                    "  - id: s{i}\n    type: set\n    values: {{ v{i}: \"<<v{}>> and <<undefined_{i}>>, with some text to read around them\" }}\n",
                    i - 1
                );
                i += 1;
            }
        }
        _ => unreachable!("unknown shape {shape}"),
    }
    text
}

/// How long reading and checking took, how long drawing the diagnostics took (the best of three
/// runs each), and how many diagnostics there were.
fn time(text: &str) -> (Duration, Duration, usize) {
    let mut best_check = Duration::MAX;
    let mut best_draw = Duration::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let file = SourceFile::new("big.yaml", text);
        let partial = read_partial(file.clone());
        let mut diagnostics = partial.diagnostics;
        if let Some(flow) = &partial.flow {
            diagnostics.extend(check_variables(flow, &[]));
        }
        best_check = best_check.min(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(render_all(&diagnostics, &file));
        best_draw = best_draw.min(started.elapsed());
        count = diagnostics.len();
    }
    (best_check, best_draw, count)
}

fn main() {
    let mut failed = false;
    for shape in [
        "many steps",
        "one step with many keys",
        "one line",
        "many variables",
    ] {
        let small = flow(shape, BASELINE);
        let large = flow(shape, LARGE);
        let (check_small, draw_small, n_small) = time(&small);
        let (check_large, draw_large, n_large) = time(&large);
        let size_ratio = large.len() as f64 / small.len() as f64;
        let time_ratio = (check_large + draw_large).as_secs_f64()
            / (check_small + draw_small).as_secs_f64().max(1e-6);
        println!("{shape}:");
        println!(
            "  {:>8} bytes: check {check_small:>9.2?}, draw {draw_small:>9.2?} ({n_small} diagnostics)",
            small.len()
        );
        println!(
            "  {:>8} bytes: check {check_large:>9.2?}, draw {draw_large:>9.2?} ({n_large} diagnostics)",
            large.len()
        );
        println!("  {size_ratio:.1}x the text took {time_ratio:.1}x as long");
        if n_large > 0 && n_large < n_small {
            println!(
                "  FAIL: {shape}: the large flow was not checked whole ({n_large} diagnostics)"
            );
            failed = true;
        }
        if check_large >= TARGET_LARGE && check_large < MAX_LARGE {
            println!(
                "  WARN: {shape}: checking 1 MiB took {check_large:.2?}, over the {TARGET_LARGE:?} target"
            );
        }
        if check_large >= MAX_LARGE {
            println!(
                "  FAIL: {shape}: checking 1 MiB took {check_large:.2?}, more than {MAX_LARGE:?}"
            );
            failed = true;
        }
        if time_ratio > MAX_RATIO {
            println!(
                "  FAIL: {shape}: {size_ratio:.1}x the text took {time_ratio:.1}x as long (at most {MAX_RATIO}x): not near-linear"
            );
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
