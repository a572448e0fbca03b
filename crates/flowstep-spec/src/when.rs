//! Reading a step's `when:`: it must be one `<< >>` expression. Any other text would be a
//! non-empty string, which counts as true, so the step would always run whatever was meant
//! (`when: status == "paid"`, `when: "{{ status == 'paid' }}"`); that is an error whose help
//! shows the condition in the form flowstep reads.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::expected;
use crate::source::SourceFile;
use crate::template::{Template, TemplateEnv};
use crate::value_template::compile_string;
use crate::yaml::{Node, NodeKind, Style};

/// The example every help falls back to.
const EXAMPLE: &str = "when: <<eq status \"paid\">>";

/// Reads `when:`, recording an error and returning `None` when it is not one expression.
pub(crate) fn read(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Template> {
    let text = match &node.kind {
        NodeKind::Scalar(text, _) if !node.is_null() => text,
        _ => {
            diags.push(expected(
                node,
                "a condition like `<<eq status \"open\">>`",
                "`when`",
            ));
            return None;
        }
    };
    // Spaces and line breaks around the expression (a block scalar's last line break) are not
    // text the condition means.
    let trimmed = text.trim();
    if trimmed.starts_with("<<") {
        let template = compile_string(trimmed, node, file, env, diags);
        if template.is_one_expression() {
            return Some(template);
        }
        if template.as_literal() == Some("") {
            // It did not compile: the template's own error says why.
            return None;
        }
    }
    diags.push(not_an_expression(node, trimmed));
    None
}

fn not_an_expression(node: &Node, text: &str) -> Diagnostic {
    let plain = matches!(&node.kind, NodeKind::Scalar(_, Style::Plain));
    let boolean = plain && matches!(text, "true" | "false" | "True" | "False" | "TRUE" | "FALSE");
    // What the author wrote, named as YAML reads it: `when: false` is a boolean, `when: 1` a
    // number, `when: ''` empty text; anything else is text.
    let found = if boolean {
        "a boolean"
    } else if text.is_empty() {
        "empty text"
    } else {
        node.kind_name()
    };
    let found = if found == "a string" { "text" } else { found };
    let d = Diagnostic::error(
        "E004",
        format!("`when` must be one expression in `<< >>`, found {found}"),
        node.span,
    );
    if boolean || found == "a number" || text.is_empty() {
        let label = if text.is_empty() {
            "empty text counts as false: the step would never run"
        } else {
            "a constant condition"
        };
        return d.with_label(label).with_help(format!(
            "a step that always runs needs no `when:`; one that never runs can be removed; a condition reads a value: `{EXAMPLE}`"
        ));
    }
    let d = d.with_label("text is not empty, so it counts as true: the step would always run");
    // `{{ status == 'paid' }}` is another tool's template: translate what is inside.
    let inner = text
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .unwrap_or(text)
        .trim();
    match crate::operators::translate(inner) {
        Some(call) => d.with_help(format!("write `when: <<{call}>>`")),
        None => d.with_help(format!(
            "write the condition as one expression calling a helper, like `{EXAMPLE}` (see docs/templating.md)"
        )),
    }
}
