//! `multipart/form-data` (RFC 7578) and raw `binary` bodies, built from rendered fields and
//! file bytes into an [`Upload`]: the bytes sent and how they are shown instead.

use crate::shell::shell_quote;
use crate::upload::Upload;
use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

/// One rendered part.
#[derive(Debug, Clone)]
pub enum Part {
    /// A text field.
    Text {
        /// The field name.
        name: String,
        /// Its value.
        value: String,
    },
    /// A file.
    File {
        /// The field name.
        name: String,
        /// The file's path as a person at the runner's directory names it.
        path: String,
        /// The file name sent.
        filename: String,
        /// The part's content type.
        content_type: String,
        /// The file's bytes.
        bytes: Vec<u8>,
    },
}

/// The content type of a file by its extension; `application/octet-stream` when unknown.
pub fn guess_type(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

/// A name or file name inside a quoted `Content-Disposition` parameter, escaped as the HTML
/// standard's form encoder does (`"` as `%22`, CR as `%0D`, LF as `%0A`), so that no value can
/// end the header or start another.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn boundary() -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("flowstep-{tail}")
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A value as curl's `-F` reads it: quoted when it holds `;`, `,`, `"`, `\` or a space.
fn curl_value(s: &str) -> String {
    if s.contains([';', ',', '"', '\\', ' ']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_owned()
    }
}

/// The multipart body of `parts` and its `Content-Type` header value. The boundary is random
/// and appears in no part.
pub fn build(parts: &[Part]) -> (Upload, String) {
    let mut boundary = boundary();
    while parts.iter().any(|p| match p {
        Part::Text { value, .. } => value.contains(&boundary),
        Part::File { bytes, .. } => holds(bytes, boundary.as_bytes()),
    }) {
        boundary = self::boundary();
    }
    let mut body = Vec::new();
    let mut shown = Vec::new();
    let mut curl = Vec::new();
    let mut texts = Vec::new();
    let (mut fields, mut files) = (0, 0);
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text { name, value } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                        quoted(name)
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
                shown.push(json!({"name": name, "value": value}));
                // --form-string: a value that starts with `@` or `<` is text, not a file.
                curl.push("--form-string".to_owned());
                curl.push(shell_quote(&format!("{name}={value}")));
                texts.push(value.clone());
                fields += 1;
            }
            Part::File {
                name,
                path,
                filename,
                content_type,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n",
                        quoted(name),
                        quoted(filename)
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                shown.push(json!({
                    "name": name,
                    "file": path,
                    "filename": filename,
                    "content_type": content_type,
                    "bytes": bytes.len(),
                }));
                curl.push("-F".to_owned());
                curl.push(shell_quote(&format!(
                    "{name}=@{};type={content_type};filename={}",
                    curl_value(path),
                    curl_value(filename)
                )));
                files += 1;
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let summary = format!(
        "multipart body: {}, {}, {} bytes",
        plural(fields, "field"),
        plural(files, "file"),
        body.len()
    );
    let upload = Upload {
        bytes: Bytes::from(body),
        shown: json!({"multipart": Value::Array(shown)}),
        curl,
        texts,
        summary,
    };
    (upload, format!("multipart/form-data; boundary={boundary}"))
}

/// A `binary` body: the file's bytes as they are.
pub fn binary(path: &str, bytes: Vec<u8>) -> Upload {
    let n = bytes.len();
    Upload {
        bytes: Bytes::from(bytes),
        shown: json!({"file": path, "bytes": n}),
        curl: vec!["--data-binary".to_owned(), shell_quote(&format!("@{path}"))],
        texts: Vec::new(),
        summary: format!("binary body: {path}, {n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_encoded_with_a_boundary_none_of_them_holds() {
        let parts = vec![
            Part::Text {
                name: "purpose".into(),
                value: "dispute_evidence".into(),
            },
            Part::File {
                name: "file".into(),
                path: "docs/r e.pdf".into(),
                filename: "r\"e\r\n.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: vec![0, 255, b'\r', b'\n'],
            },
        ];
        let (upload, content_type) = build(&parts);
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let expected = [
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\ndispute_evidence\r\n").into_bytes(),
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r%22e%0D%0A.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes(),
            vec![0, 255, b'\r', b'\n'],
            format!("\r\n--{boundary}--\r\n").into_bytes(),
        ]
        .concat();
        assert_eq!(upload.bytes.as_ref(), expected.as_slice());
        assert_eq!(
            upload.curl,
            [
                "--form-string",
                "'purpose=dispute_evidence'",
                "-F",
                "'file=@\"docs/r e.pdf\";type=application/pdf;filename=\"r\\\"e\r\n.pdf\"'",
            ]
        );
        assert_eq!(
            upload.summary,
            format!("multipart body: 1 field, 1 file, {} bytes", expected.len())
        );
    }

    #[test]
    fn types_are_guessed_from_the_extension() {
        assert_eq!(guess_type("Receipt.PDF"), "application/pdf");
        assert_eq!(guess_type("photo.jpeg"), "image/jpeg");
        assert_eq!(guess_type("blob"), "application/octet-stream");
    }
}
