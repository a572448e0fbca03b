//! Bodies read from files and responses that are not text, through the real binary against a
//! loopback stub: a multipart upload (a text field and a binary file) and a raw binary body
//! received byte for byte; a binary response saved to a file, and one held as base64 with its
//! size; neither ever printed. Dry runs show curl's `-F`/`--data-binary` and no file bytes, and
//! `flowstep check` points at a path that is missing, not a regular file or outside the flow's
//! directory.

use crate::stub_api::{PNG, StubApi};
use crate::support::{Scratch, run, step_record};
use serde_json::json;

/// A file with every byte value, CR LF and what looks like a boundary line.
fn receipt() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.extend_from_slice(b"\r\n--not-the-boundary\r\n%PDF-1.7\r\n");
    bytes
}

fn upload_flow(base: &str) -> String {
    format!(
        r#"flow: upload
steps:
  - id: send
    type: http
    method: POST
    url: {base}/upload
    body_type: multipart
    body:
      purpose: dispute_evidence
      note: '@not-a-file; "quoted"'
      file: {{ file: ./docs/receipt.pdf }}
    response: {{ map: {{ sent: $.received }} }}
  - id: raw
    type: http
    method: PUT
    url: {base}/upload
    body_type: binary
    body: {{ file: docs/logo.png }}
    content_type: image/png
    response: {{ map: {{ received: $.received }} }}
"#
    )
}

fn scratch_with_files() -> Scratch {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/receipt.pdf"), receipt()).unwrap();
    std::fs::write(dir.path().join("docs/logo.png"), PNG).unwrap();
    dir
}

#[test]
fn a_multipart_upload_and_a_binary_body_arrive_byte_for_byte() {
    let api = StubApi::start();
    let dir = scratch_with_files();
    dir.write("upload.yaml", &upload_flow(&api.url()));
    let out = run(dir.path(), &["run", "upload.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let uploads = api.uploads();
    assert_eq!(uploads.len(), 2);

    let multipart = &uploads[0];
    let boundary = multipart
        .content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{}", multipart.content_type));
    let expected = [
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\ndispute_evidence\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n@not-a-file; \"quoted\"\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"receipt.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes(),
        receipt(),
        format!("\r\n--{boundary}--\r\n").into_bytes(),
    ]
    .concat();
    assert_eq!(multipart.body, expected);

    assert_eq!(uploads[1].content_type, "image/png");
    assert_eq!(uploads[1].body, PNG);

    let v = out.json();
    assert_eq!(v["variables"]["sent"], expected.len());
    assert_eq!(v["variables"]["received"], PNG.len());
    // The record shows the body's parts and the file's size, never its bytes.
    let shown = &step_record(&v, "send")["request"]["body"];
    assert_eq!(
        shown,
        &json!({"multipart": [
            {"name": "purpose", "value": "dispute_evidence"},
            {"name": "note", "value": "@not-a-file; \"quoted\""},
            {"name": "file", "file": "docs/receipt.pdf", "filename": "receipt.pdf",
             "content_type": "application/pdf", "bytes": receipt().len()}
        ]})
    );
    assert_eq!(
        step_record(&v, "raw")["request"]["body"],
        json!({"file": "docs/logo.png", "bytes": PNG.len()})
    );
}

#[test]
fn a_dry_run_shows_the_files_as_curl_options_and_never_their_bytes() {
    let api = StubApi::start();
    let dir = scratch_with_files();
    dir.write("upload.yaml", &upload_flow(&api.url()));
    let out = run(dir.path(), &["run", "upload.yaml", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    let base = api.url();
    assert!(
        out.stdout.contains(&format!(
            "curl -X POST '{base}/upload' -H 'User-Agent: flowstep/{}' -H 'Accept: application/json' \
             --form-string 'purpose=dispute_evidence' --form-string 'note=@not-a-file; \"quoted\"' \
             -F 'file=@docs/receipt.pdf;type=application/pdf;filename=receipt.pdf'\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "curl -X PUT '{base}/upload' -H 'User-Agent: flowstep/{}' -H 'Accept: application/json' \
             -H 'Content-Type: image/png' --data-binary '@docs/logo.png'\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains("PNG"), "{out:?}");
    assert!(!out.all_output().contains("%PDF"), "{out:?}");
    assert!(api.uploads().is_empty());
}

#[test]
fn a_binary_response_is_saved_or_held_as_base64_and_never_printed() {
    let api = StubApi::start();
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    dir.write(
        "download.yaml",
        &format!(
            r#"flow: download
steps:
  - id: logo
    type: http
    url: {base}/image.png
    response:
      save_to: out/logo.png
      map: {{ logo_bytes: $.bytes, logo_type: $.content_type }}
  - id: blob
    type: http
    url: {base}/octets
    response:
      map: {{ blob: $.base64, blob_bytes: $.bytes }}
  - id: tell
    type: message
    text: "logo <<logo_bytes>> <<logo_type>> at <<steps.logo.body.saved_to>>; blob <<blob_bytes>> <<blob>>"
"#,
            base = api.url()
        ),
    );
    let out = run(dir.path(), &["run", "download.yaml", "--output", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read(dir.path().join("out/logo.png")).unwrap(), PNG);
    let v = out.json();
    assert_eq!(
        v["messages"][0]["text"],
        format!(
            "logo {} image/png at out/logo.png; blob 7 AJ+Slv8AAQ==",
            PNG.len()
        )
    );
    assert_eq!(
        step_record(&v, "logo")["response"]["body"],
        json!({"content_type": "image/png", "bytes": PNG.len(), "saved_to": "out/logo.png"})
    );
    assert_eq!(
        step_record(&v, "blob")["response"]["body"],
        json!({"content_type": "application/octet-stream", "bytes": 7, "base64": "AJ+Slv8AAQ=="})
    );

    // Neither the report nor -vv shows the bytes.
    for args in [
        &["run", "download.yaml"][..],
        &["run", "download.yaml", "-vv"][..],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.code, 0, "{out:?}");
        let all = out.all_output();
        assert!(!all.contains("PNG"), "{all}");
        assert!(!all.contains('\u{fffd}'), "{all}");
        if args.len() == 3 {
            assert!(
                all.contains(&format!("< [{} bytes of image/png, not shown]", PNG.len())),
                "{all}"
            );
            assert!(
                all.contains("< [7 bytes of application/octet-stream, not shown]"),
                "{all}"
            );
        }
    }
}

#[test]
fn check_points_at_a_path_that_cannot_be_sent() {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    let fifo = dir.path().join("pipe");
    let has_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    dir.write(
        "bad.yaml",
        r#"flow: bad
steps:
  - id: send
    type: http
    method: POST
    url: https://files.example/upload
    body_type: multipart
    body:
      missing: { file: docs/missing.pdf }
      folder: { file: docs }
      pipe: { file: pipe }
      away: { file: ../elsewhere.pdf }
    response:
      save_to: nowhere/out.json
"#,
    );
    let out = run(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    let heads: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error[") || l.trim_start().starts_with("-->"))
        .collect();
    let mut expected = vec![
        "error[E016]: cannot read docs/missing.pdf: does not exist".to_owned(),
        " --> bad.yaml:9:24".to_owned(),
        "error[E016]: docs is a directory; only regular files can be sent".to_owned(),
        "  --> bad.yaml:10:23".to_owned(),
    ];
    if has_fifo {
        expected.push(
            "error[E016]: pipe is a named pipe (FIFO); only regular files can be sent".to_owned(),
        );
        expected.push("  --> bad.yaml:11:21".to_owned());
    }
    expected.extend([
        "error[E016]: `../elsewhere.pdf` is outside the flow's directory; a file a flow reads or writes must be in the flow file's directory or below it".to_owned(),
        "  --> bad.yaml:12:21".to_owned(),
        "error[E016]: cannot write nowhere/out.json: its directory nowhere does not exist".to_owned(),
        "  --> bad.yaml:14:16".to_owned(),
    ]);
    if has_fifo {
        assert_eq!(heads, expected, "{}", out.stderr);
    } else {
        assert!(heads.len() >= 8, "{}", out.stderr);
    }
}

#[test]
fn a_templated_path_is_checked_when_rendered_and_a_file_over_the_cap_is_refused() {
    let api = StubApi::start();
    let dir = scratch_with_files();
    // One byte over the 10 MiB a body may read.
    std::fs::write(
        dir.path().join("docs/huge.bin"),
        vec![7u8; flowstep_http::MAX_FILE_BYTES + 1],
    )
    .unwrap();
    dir.write(
        "templated.yaml",
        &format!(
            r#"flow: templated
inputs:
  name: {{ type: string }}
steps:
  - id: send
    type: http
    method: POST
    url: {}/upload
    body_type: binary
    body: {{ file: "docs/<<name>>" }}
"#,
            api.url()
        ),
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "templated.yaml",
            "--var",
            "name=gone.pdf",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    let e = &step_record(&v, "send")["error"];
    assert_eq!(e["message"], "cannot read docs/gone.pdf: does not exist");
    assert_eq!(e["kind"], "invalid");
    let out = run(
        dir.path(),
        &[
            "run",
            "templated.yaml",
            "--var",
            "name=huge.bin",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = out.json();
    assert_eq!(
        step_record(&v, "send")["error"]["message"],
        format!(
            "docs/huge.bin is {} bytes, more than the 10 MiB a request body may read",
            flowstep_http::MAX_FILE_BYTES + 1
        )
    );
    assert!(api.uploads().is_empty(), "nothing was sent");
}

/// A `save_to` path known only at run time is checked before the request is sent: outside the
/// flow's directory, or the flow file itself, nothing is sent.
#[test]
fn a_save_to_path_that_cannot_be_written_stops_the_step_before_anything_is_sent() {
    let api = StubApi::start();
    let dir = Scratch::new();
    dir.write(
        "save.yaml",
        &format!(
            r#"flow: save
inputs:
  to: {{ type: string }}
steps:
  - id: fetch
    type: http
    method: POST
    url: {}/image.png
    response:
      save_to: "<<to>>"
"#,
            api.url()
        ),
    );
    for (to, says) in [
        (
            "../../etc/evil",
            "response.save_to: `../../etc/evil` is outside the flow's directory",
        ),
        (
            "save.yaml",
            "is the flow file itself; save the response elsewhere",
        ),
    ] {
        let out = run(
            dir.path(),
            &["run", "save.yaml", "--var", &format!("to={to}")],
        );
        assert_eq!(out.code, 1, "{to}: {out:?}");
        assert!(out.stdout.contains(says), "{to}: {}", out.stdout);
        assert!(
            out.stdout.contains("nothing was sent"),
            "{to}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("--> save.yaml:10:16"),
            "{to}: {}",
            out.stdout
        );
    }
    assert!(api.requests().is_empty(), "{:?}", api.requests());
    assert!(
        std::fs::read_to_string(dir.path().join("save.yaml"))
            .unwrap()
            .starts_with("flow: save")
    );
}
