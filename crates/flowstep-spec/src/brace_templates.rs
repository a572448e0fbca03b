//! A warning for `{{name}}` in a flow's text: flowstep templates are written `<<name>>`, and
//! `{{ }}` passes through as literal text, so a `{{customer_name}}` copied from another tool
//! would reach the customer as written. A warning, not an error: the braces may be meant for
//! another system (`{{1}}` placeholders of a WhatsApp template are left alone).

use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::yaml::{Node, NodeKind};

/// The longest `{{ ... }}` quoted whole in the warning.
const SHOWN_CHARS: usize = 60;

/// One warning for each `{{ ... }}` in any scalar of the tree, keys included.
pub(crate) fn warnings(root: &Node, file: &SourceFile) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match &node.kind {
            NodeKind::Scalar(text, _) => scan(text, node.span, file, &mut out),
            NodeKind::Seq(items) => stack.extend(items.iter().rev()),
            NodeKind::Map(entries) => {
                for (k, v) in entries.iter().rev() {
                    stack.push(v);
                    stack.push(k);
                }
            }
        }
    }
    out
}

fn scan(text: &str, span: Span, file: &SourceFile, out: &mut Vec<Diagnostic>) {
    // Almost every scalar has no brace: a byte scan, not a substring searcher for each one.
    if !text.as_bytes().contains(&b'{') {
        return;
    }
    let raw = file
        .text()
        .get(span.start..span.end.min(file.text().len()))
        .unwrap_or("");
    let mut from = 0;
    let mut raw_from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            return;
        };
        from = close + 2;
        let inner = text[open + 2..close].trim();
        // Numbered placeholders (`{{1}}`) belong to message templates of other systems.
        if inner.is_empty() || inner.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let whole = &text[open..close + 2];
        // Point at the braces in the file when they are written there as in the value.
        let at = match raw[raw_from.min(raw.len())..].find(whole) {
            Some(i) => {
                let start = raw_from + i;
                raw_from = start + whole.len();
                Span::new(span.start + start, span.start + start + whole.len())
            }
            None => span,
        };
        let shown = if whole.chars().count() > SHOWN_CHARS {
            let cut: String = whole.chars().take(SHOWN_CHARS).collect();
            format!("{cut}...")
        } else {
            whole.to_owned()
        };
        let help = match crate::operators::translate(inner) {
            Some(call) => format!(
                "write `<<{call}>>` to read a value; leave the braces if they are meant as literal text"
            ),
            None => "write an expression as `<<name>>`; leave the braces if they are meant as literal text".to_owned(),
        };
        out.push(
            Diagnostic::warning(
                "W003",
                format!("`{shown}` is sent as written: flowstep templates are written `<< >>`"),
                at,
            )
            .with_help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn(yaml: &str) -> Vec<(String, String)> {
        let file = SourceFile::new("f.yaml", yaml);
        let root = crate::yaml::parse(&file).unwrap();
        warnings(&root, &file)
            .into_iter()
            .map(|d| {
                (
                    file.text()[d.span.start..d.span.end].to_owned(),
                    d.help.unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn double_braces_are_found_anywhere_and_placeholders_are_not() {
        let found = warn("a: \"Hi {{ name }}, {{1}}\"\nb: [x, \"{{steps.pay.status}}\"]\n");
        assert_eq!(
            found,
            [
                (
                    "{{ name }}".to_owned(),
                    "write `<<name>>` to read a value; leave the braces if they are meant as literal text".to_owned()
                ),
                (
                    "{{steps.pay.status}}".to_owned(),
                    "write `<<steps.pay.status>>` to read a value; leave the braces if they are meant as literal text".to_owned()
                ),
            ]
        );
        assert!(warn("a: \"{{}} and {{ 2 }}\"\n").is_empty());
    }
}
