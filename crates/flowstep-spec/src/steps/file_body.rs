//! Bodies read from files, as data: `multipart` (text fields and file parts, Stripe's File
//! Upload shape) and `binary` (one file's bytes), with paths relative to the flow file.
//!
//! ```yaml
//! body_type: multipart
//! body:
//!   purpose: dispute_evidence
//!   file: { file: ./receipt.pdf, content_type: application/pdf }
//! ```

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::{MapReader, expected, key_text, scalar_text};
use crate::source::{SourceFile, Spanned};
use crate::template::{Template, TemplateEnv};
use crate::value_template::compile_string;
use crate::yaml::Node;

/// One part of a multipart body, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The field name (literal).
    pub name: Spanned<String>,
    /// Its value.
    pub value: PartValue,
}

/// What a part holds.
#[derive(Debug, Clone, PartialEq)]
pub enum PartValue {
    /// A text field, rendered as text.
    Text(Template),
    /// A file's bytes.
    File(FileRef),
}

/// A file a body reads: `{file: PATH, filename: NAME, content_type: TYPE}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRef {
    /// The path, relative to the flow file's directory (templated).
    pub path: Template,
    /// The file name sent in a multipart part; the path's last component by default.
    pub filename: Option<Template>,
    /// The part's `Content-Type`; guessed from the file name's extension by default.
    pub content_type: Option<Spanned<String>>,
}

impl FileRef {
    /// Every template it holds.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.path];
        out.extend(self.filename.as_ref());
        out
    }
}

/// Reads a `multipart` body: a mapping of field names to text, a file (`{file: PATH}`), or a
/// list of those (the field is sent once per item).
pub fn read_multipart(
    body: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Vec<Part>> {
    let Some(entries) = body.as_map() else {
        diags.push(expected(
            body,
            "a mapping of field names to text or `{file: PATH}`",
            "a multipart `body`",
        ));
        return None;
    };
    let mut parts = Vec::new();
    for (k, v) in entries {
        let name = key_text(k);
        if name.value.contains("<<") {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{}`: a multipart field name is literal", name.value),
                    k.span,
                )
                .with_help("write the name as the API expects it; values may be templated"),
            );
            continue;
        }
        let items: Vec<&Node> = match v.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![v],
        };
        for item in items {
            let what = format!("multipart field `{}`", name.value);
            let value = if item.as_map().is_some() {
                read_file_ref(item, &what, true, file, env, diags).map(PartValue::File)
            } else if item.is_null() || item.as_seq().is_some() {
                diags.push(expected(item, "text or `{file: PATH}`", &what));
                None
            } else {
                let text = item.as_str().map(str::to_owned).unwrap_or_else(|| {
                    item.scalar_value()
                        .map(|v| crate::template::value_to_text(&v))
                        .unwrap_or_default()
                });
                Some(PartValue::Text(compile_string(
                    &text, item, file, env, diags,
                )))
            };
            if let Some(value) = value {
                parts.push(Part {
                    name: name.clone(),
                    value,
                });
            }
        }
    }
    Some(parts)
}

/// Reads a `binary` body: `{file: PATH}`.
pub fn read_binary(
    body: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<FileRef> {
    if body.as_map().is_none() {
        diags.push(
            expected(body, "`{file: PATH}`", "a binary `body`")
                .with_help("a binary body is a file's bytes: `body: {file: ./photo.png}`"),
        );
        return None;
    }
    read_file_ref(body, "a binary `body`", false, file, env, diags)
}

fn read_file_ref(
    node: &Node,
    what: &str,
    in_part: bool,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<FileRef> {
    const PART_KEYS: &[&str] = &["file", "filename", "content_type"];
    const BINARY_KEYS: &[&str] = &["file"];
    let keys = if in_part { PART_KEYS } else { BINARY_KEYS };
    let mut m = MapReader::new(node, what, keys, diags)?;
    let text = |n: &Node, what: &str, env: &mut TemplateEnv, diags: &mut Diagnostics| match n
        .as_str()
        .filter(|_| !n.is_null())
    {
        Some(t) if !t.is_empty() => Some(compile_string(t, n, file, env, diags)),
        _ => {
            diags.push(expected(n, "a path", what));
            None
        }
    };
    let path = m
        .required("file", diags)
        .and_then(|n| text(n, &format!("{what}: `file`"), env, diags));
    let filename = if in_part {
        m.get("filename")
            .and_then(|n| text(n, &format!("{what}: `filename`"), env, diags))
    } else {
        None
    };
    let content_type = if in_part {
        m.get("content_type")
            .and_then(|n| scalar_text(n, &format!("{what}: `content_type`"), diags))
    } else {
        None
    };
    m.finish(diags);
    Some(FileRef {
        path: path?,
        filename,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> (Option<Vec<Part>>, Vec<String>) {
        let file = SourceFile::new("t.yaml", yaml);
        let node = crate::yaml::parse(&file).unwrap();
        let mut diags = Diagnostics::default();
        let mut env = TemplateEnv::default();
        let out = read_multipart(&node, &file, &mut env, &mut diags);
        (out, diags.sorted().into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn fields_files_and_lists_are_read_in_order() {
        let (parts, d) = read(
            "purpose: dispute_evidence\nfile: {file: ./r.pdf, content_type: application/pdf}\ntags: [a, {file: b.png}]\nn: 5\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let parts = parts.unwrap();
        let names: Vec<(&str, bool)> = parts
            .iter()
            .map(|p| (p.name.value.as_str(), matches!(p.value, PartValue::File(_))))
            .collect();
        assert_eq!(
            names,
            [
                ("purpose", false),
                ("file", true),
                ("tags", false),
                ("tags", true),
                ("n", false)
            ]
        );
    }

    #[test]
    fn mistakes_are_diagnosed() {
        let (_, d) = read("a: {path: x}\nb: null\nc: {file: x, size: 3}\n");
        assert_eq!(
            d,
            [
                "missing `file` in multipart field `a`",
                "unknown key `path` in multipart field `a`",
                "expected text or `{file: PATH}` for multipart field `b`, found null",
                "unknown key `size` in multipart field `c`",
            ]
        );
    }
}
