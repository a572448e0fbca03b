//! Fuzzes vars files (`--vars inputs.yaml`): the YAML reader, then every value read by the one
//! typing rule against inputs of every type and rule, and every problem drawn at its position.
#![no_main]

use flowstep_spec::{Diagnostic, Flow, SourceFile, read_flow, render_all, yaml};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const FLOW: &str = r#"flow: fuzz-inputs
inputs:
  amount_paise: {type: integer, minimum: 100, maximum: 99999999}
  count: {type: integer}
  ratio: {type: number, minimum: -1.5, maximum: 1e6}
  price: {type: decimal}
  name: {type: string, min_length: 1, max_length: 40}
  phone: {type: string, pattern: '^\+[0-9]{8,15}$'}
  currency: {type: string, enum: [inr, usd]}
  flag: {type: boolean}
  note: {type: string, default: null}
steps:
  - id: hi
    type: message
    text: "<<name>>"
"#;

static INPUTS: LazyLock<Flow> =
    LazyLock::new(|| read_flow(SourceFile::new("inputs.yaml", FLOW)).expect("the fuzz flow is valid"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("vars.yaml", text);
    let root = match yaml::parse(&file) {
        Ok(root) => root,
        Err(d) => {
            std::hint::black_box(d.render(&file));
            return;
        }
    };
    let Some(entries) = root.as_map() else {
        return;
    };
    let mut problems = Vec::new();
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        let decls: Vec<_> = match INPUTS.input(name) {
            Some(decl) => vec![decl],
            None => INPUTS.inputs.iter().collect(),
        };
        for decl in decls {
            if let Err(e) = decl.read_node(value) {
                problems.push(Diagnostic::error("E011", format!("invalid input {e}"), value.span));
            }
        }
    }
    std::hint::black_box(render_all(&problems, &file));
});
