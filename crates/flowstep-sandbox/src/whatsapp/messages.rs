//! Validation of a Cloud API "send message" body: text messages, interactive messages with a
//! call-to-action URL button (`cta_url`) or reply buttons (`button`), and template messages.
//!
//! Rules and texts follow Meta's Cloud API reference and the error texts it answers with
//! (quoted in public reports and in emulators built from recorded answers); inferred
//! wordings are marked. Other message types (media, location, lists, ...) are refused with a
//! message that says so, which is stricter than Meta but never more lenient. Keys Meta does not
//! take are refused with code 100, as Meta does ("(#100) Unexpected key \"policystring\" on
//! param \"template['language']\"", WhatsApp/WhatsApp-Nodejs-SDK issue #21).

use serde_json::{Map, Value};

use super::errors::GraphError;
use super::templates::SandboxTemplate;

/// Meta's limit for `text.body`.
pub(crate) const MAX_BODY: usize = 4096;

/// Meta's limit for an interactive message's `body.text` (Interactive messages reference).
pub(crate) const MAX_INTERACTIVE_BODY: usize = 1024;
/// Meta's limit for a button title or a CTA's display text.
pub(crate) const MAX_TITLE: usize = 20;
/// Meta's limit for reply buttons in one message.
pub(crate) const MAX_BUTTONS: usize = 3;

/// A message that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextMessage {
    /// `to` exactly as the request gave it.
    pub(crate) to: String,
    /// `to` without its `+`: the recipient's WhatsApp id.
    pub(crate) wa_id: String,
    /// What the customer reads: `text.body`, an interactive message's `body.text`, or the
    /// template's body with its parameters filled in.
    pub(crate) body: String,
    /// `text`, `interactive` or `template`.
    pub(crate) kind: &'static str,
}

impl TextMessage {
    /// Whether WhatsApp delivers it only inside the 24-hour customer service window (everything
    /// but a template).
    pub(crate) fn is_free_form(&self) -> bool {
        self.kind != "template"
    }
}

/// The message types the Cloud API lists; only `text` is modelled.
#[rustfmt::skip]
const TYPES: &[&str] = &[
    "audio", "contacts", "document", "image", "interactive", "location", "reaction", "sticker",
    "template", "text", "video",
];

/// `"sms"` as Graph quotes a bad value in "must be one of" errors.
fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A recipient number: digits with an optional leading `+`, 7 to 15 digits (E.164 has at
/// most 15). Spaces, dashes and a `00` international prefix are refused: Meta stopped
/// taking `00`-prefixed numbers in 2023 (reported against a .NET client), and the sandbox
/// does not guess which separators Meta tolerates.
pub(crate) fn wa_id(to: &str) -> Option<String> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then(|| digits.to_string())
}

/// Keys a send-message body may have besides the one named by its type.
const TOP_KEYS: &[&str] = &[
    "messaging_product",
    "recipient_type",
    "to",
    "type",
    "context",
    "biz_opaque_callback_data",
];

/// `(#100) Unexpected key "k" on param "where".`: Meta's wording for a key it does not take
/// (WhatsApp/WhatsApp-Nodejs-SDK issue #21).
fn unexpected(key: &str, param: &str) -> GraphError {
    GraphError::param(format!(
        "(#100) Unexpected key \"{key}\" on param \"{param}\"."
    ))
}

/// The first key of `map` not in `known`, as Meta's error.
fn only(map: &Map<String, Value>, known: &[&str], param: &str) -> Result<(), GraphError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unexpected(k, param)),
        None => Ok(()),
    }
}

/// `map[key]` as an object, or Meta's error naming `param`.
fn object<'m>(
    map: &'m Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<&'m Map<String, Value>, GraphError> {
    match map.get(key) {
        Some(Value::Object(o)) => Ok(o),
        None | Some(Value::Null) => Err(GraphError::required(param)),
        // Inferred wording.
        Some(_) => Err(GraphError::param(format!(
            "(#100) Param {param} must be an object."
        ))),
    }
}

/// `map[key]` as a non-empty string of at most `max` UTF-16 units, or Meta's error naming
/// `param`.
fn string<'m>(
    map: &'m Map<String, Value>,
    key: &str,
    param: &str,
    max: usize,
) -> Result<&'m str, GraphError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(GraphError::required(param)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(GraphError::required(param)),
        // Inferred wording, in the form of text.body's.
        Some(Value::String(s)) if s.encode_utf16().count() > max => Err(GraphError::param(
            format!("(#100) Param {param} must be at most {max} characters long."),
        )),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(GraphError::param(format!(
            "(#100) Param {param} must be a string."
        ))),
    }
}

/// `map[key]` as an array, or Meta's error naming `param`.
fn array<'m>(
    map: &'m Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<&'m [Value], GraphError> {
    match map.get(key) {
        Some(Value::Array(a)) => Ok(a),
        None | Some(Value::Null) => Err(GraphError::required(param)),
        Some(_) => Err(GraphError::param(format!(
            "(#100) Param {param} must be an array."
        ))),
    }
}

/// Validates a parsed body (an empty map when the body was not JSON); `templates` are the
/// approved templates a template message must name.
pub(crate) fn validate(
    body: &Map<String, Value>,
    templates: &[SandboxTemplate],
) -> Result<TextMessage, GraphError> {
    // messaging_product: Meta's texts ("is required" quoted in many reports; "must be one
    // of" as recorded by a Cloud API emulator).
    match body.get("messaging_product") {
        None | Some(Value::Null) => return Err(GraphError::required("messaging_product")),
        Some(Value::String(s)) if s == "whatsapp" => {}
        Some(v) => {
            return Err(GraphError::param(format!(
                "(#100) Param messaging_product must be one of {{WHATSAPP}} - got {}.",
                quoted(v)
            )));
        }
    }
    match body.get("recipient_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "individual" => {}
        Some(v) => {
            // Inferred wording, in the same form. Group messaging is not modelled.
            return Err(GraphError::param(format!(
                "(#100) Param recipient_type must be one of {{INDIVIDUAL}} - got {}.",
                quoted(v)
            )));
        }
    }
    let to = match body.get("to") {
        None | Some(Value::Null) => return Err(GraphError::required("to")),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(GraphError::required("to")),
        Some(v) => {
            // Inferred wording.
            return Err(GraphError::param(format!(
                "(#100) Param to must be a string - got {}.",
                quoted(v)
            )));
        }
    };
    // A malformed number: Meta answered "(#100) Invalid parameter" with details "Parameter
    // Invalid" for a `00`-prefixed number (gabrieldwight/Whatsapp-Business-Cloud-Api-Net
    // issue #31).
    let wa_id = wa_id(&to).ok_or_else(|| {
        GraphError::param("(#100) Invalid parameter").details("Parameter Invalid")
    })?;
    let kind = match body.get("type") {
        // The Cloud API's default type is text.
        None | Some(Value::Null) => "text",
        Some(Value::String(t)) if t == "text" => "text",
        Some(Value::String(t)) if t == "interactive" => "interactive",
        Some(Value::String(t)) if t == "template" => "template",
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {
            return Err(GraphError::param("(#100) Invalid parameter").details(format!(
                "The flowstep sandbox models text, interactive (cta_url, button) and template messages; type '{t}' is not supported here."
            )));
        }
        Some(v) => {
            // Inferred wording, in the "must be one of" form.
            return Err(GraphError::param(format!(
                "(#100) Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}} - got {}.",
                quoted(v)
            )));
        }
    };
    let mut known = TOP_KEYS.to_vec();
    known.push(kind);
    // Inferred wording for a top-level key: the nested form Meta uses, naming the message.
    only(body, &known, "message")?;
    let text = match kind {
        "interactive" => interactive(object(body, "interactive", "interactive")?)?,
        "template" => template(object(body, "template", "template")?, templates)?,
        _ => text(body)?,
    };
    Ok(TextMessage {
        to,
        wa_id,
        body: text,
        kind,
    })
}

/// A text message's `text`: its body.
fn text(body: &Map<String, Value>) -> Result<String, GraphError> {
    let text = match body.get("text") {
        Some(Value::Object(t)) => t,
        // As recorded by a Cloud API emulator.
        None | Some(Value::Null) => {
            return Err(GraphError::param("(#100) Invalid parameter")
                .details("Parameter 'text' is mandatory for type 'text'"));
        }
        Some(_) => {
            // Inferred wording.
            return Err(GraphError::param("(#100) Param text must be an object."));
        }
    };
    let message = match text.get("body") {
        None | Some(Value::Null) => return Err(GraphError::required("text['body']")),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(GraphError::required("text['body']"));
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            // Inferred wording.
            return Err(GraphError::param(
                "(#100) Param text['body'] must be a string.",
            ));
        }
    };
    // Counted in UTF-16 units, which is never fewer than characters: stricter where Meta's
    // unit is unknown. Wording inferred (public logs quote "Param text.body must be at
    // most 4096 characters").
    if message.encode_utf16().count() > MAX_BODY {
        return Err(GraphError::param(format!(
            "(#100) Param text['body'] must be at most {MAX_BODY} characters long."
        )));
    }
    match text.get("preview_url") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(_) => {
            // Inferred wording.
            return Err(GraphError::param(
                "(#100) Param text['preview_url'] must be a boolean.",
            ));
        }
    }
    only(text, &["body", "preview_url"], "text")?;
    Ok(message)
}

/// An interactive message: a call-to-action URL button or reply buttons. Returns the body
/// text.
fn interactive(i: &Map<String, Value>) -> Result<String, GraphError> {
    only(i, &["type", "body", "action"], "interactive")?;
    let kind = string(i, "type", "interactive['type']", usize::MAX)?;
    if !["cta_url", "button"].contains(&kind) {
        return Err(GraphError::param("(#100) Invalid parameter").details(format!(
            "The flowstep sandbox models interactive messages of type cta_url and button; '{kind}' is not supported here."
        )));
    }
    let body = object(i, "body", "interactive['body']")?;
    only(body, &["text"], "interactive['body']")?;
    let text = string(
        body,
        "text",
        "interactive['body']['text']",
        MAX_INTERACTIVE_BODY,
    )?;
    let action = object(i, "action", "interactive['action']")?;
    if kind == "cta_url" {
        only(action, &["name", "parameters"], "interactive['action']")?;
        match string(action, "name", "interactive['action']['name']", usize::MAX)? {
            "cta_url" => {}
            other => {
                // Inferred wording, in the "must be one of" form.
                return Err(GraphError::param(format!(
                    "(#100) Param interactive['action']['name'] must be one of {{CTA_URL}} - got \"{other}\"."
                )));
            }
        }
        let params = object(action, "parameters", "interactive['action']['parameters']")?;
        only(
            params,
            &["display_text", "url"],
            "interactive['action']['parameters']",
        )?;
        string(
            params,
            "display_text",
            "interactive['action']['parameters']['display_text']",
            MAX_TITLE,
        )?;
        let url = string(
            params,
            "url",
            "interactive['action']['parameters']['url']",
            2000,
        )?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(GraphError::param("(#100) Invalid parameter")
                .details("interactive['action']['parameters']['url'] must be an http(s) URL"));
        }
    } else {
        only(action, &["buttons"], "interactive['action']")?;
        let buttons = array(action, "buttons", "interactive['action']['buttons']")?;
        if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
            // Inferred wording.
            return Err(GraphError::param(format!(
                "(#100) Param interactive['action']['buttons'] must have 1 to {MAX_BUTTONS} buttons - got {}.",
                buttons.len()
            )));
        }
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (n, b) in buttons.iter().enumerate() {
            let param = format!("interactive['action']['buttons'][{n}]");
            let Value::Object(b) = b else {
                return Err(GraphError::param(format!(
                    "(#100) Param {param} must be an object."
                )));
            };
            only(b, &["type", "reply"], &param)?;
            if string(b, "type", &format!("{param}['type']"), usize::MAX)? != "reply" {
                return Err(GraphError::param(format!(
                    "(#100) Param {param}['type'] must be one of {{REPLY}}."
                )));
            }
            let reply = object(b, "reply", &format!("{param}['reply']"))?;
            only(reply, &["id", "title"], &format!("{param}['reply']"))?;
            let id = string(reply, "id", &format!("{param}['reply']['id']"), 256)?;
            let title = string(
                reply,
                "title",
                &format!("{param}['reply']['title']"),
                MAX_TITLE,
            )?;
            if seen.iter().any(|(i, t)| *i == id || *t == title) {
                // Inferred wording: Meta requires unique ids and titles.
                return Err(GraphError::param("(#100) Invalid parameter")
                    .details("Buttons must have unique ids and titles"));
            }
            seen.push((id, title));
        }
    }
    Ok(text.to_owned())
}

/// A template message: the template must be approved (known to the sandbox), and its
/// parameters must match its placeholders. Returns the body as the customer reads it.
fn template(t: &Map<String, Value>, templates: &[SandboxTemplate]) -> Result<String, GraphError> {
    only(t, &["name", "language", "components"], "template")?;
    let name = string(t, "name", "template['name']", 512)?;
    let language = object(t, "language", "template['language']")?;
    only(language, &["code", "policy"], "template['language']")?;
    let code = string(language, "code", "template['language']['code']", 16)?;
    let mut body_params: Vec<String> = Vec::new();
    let mut button_params: Vec<String> = Vec::new();
    let components = match t.get("components") {
        None | Some(Value::Null) => &[][..],
        Some(_) => array(t, "components", "template['components']")?,
    };
    for (n, c) in components.iter().enumerate() {
        let param = format!("template['components'][{n}]");
        let Value::Object(c) = c else {
            return Err(GraphError::param(format!(
                "(#100) Param {param} must be an object."
            )));
        };
        let kind = string(c, "type", &format!("{param}['type']"), usize::MAX)?;
        let target = match kind {
            "body" => {
                only(c, &["type", "parameters"], &param)?;
                &mut body_params
            }
            "button" => {
                only(c, &["type", "sub_type", "index", "parameters"], &param)?;
                let sub = string(c, "sub_type", &format!("{param}['sub_type']"), usize::MAX)?;
                let index = c.get("index");
                let index_ok = matches!(index, Some(Value::String(s)) if s == "0")
                    || matches!(index, Some(Value::Number(n)) if n.as_u64() == Some(0));
                if sub != "url" || !index_ok {
                    return Err(GraphError::param("(#100) Invalid parameter").details(format!(
                        "The flowstep sandbox's templates have one URL button: {param} must be sub_type \"url\", index \"0\""
                    )));
                }
                &mut button_params
            }
            other => {
                return Err(GraphError::param("(#100) Invalid parameter").details(format!(
                    "The flowstep sandbox's templates have a body and a URL button; component type '{other}' is not supported here."
                )));
            }
        };
        for (k, p) in array(c, "parameters", &format!("{param}['parameters']"))?
            .iter()
            .enumerate()
        {
            let pparam = format!("{param}['parameters'][{k}]");
            let Value::Object(p) = p else {
                return Err(GraphError::param(format!(
                    "(#100) Param {pparam} must be an object."
                )));
            };
            only(p, &["type", "text"], &pparam)?;
            if string(p, "type", &format!("{pparam}['type']"), usize::MAX)? != "text" {
                return Err(
                    GraphError::param("(#100) Invalid parameter").details(format!(
                        "The flowstep sandbox models text parameters only ({pparam})"
                    )),
                );
            }
            target.push(string(p, "text", &format!("{pparam}['text']"), MAX_BODY)?.to_owned());
        }
    }
    let Some(approved) = templates
        .iter()
        .find(|a| a.name == name && a.language == code)
    else {
        return Err(GraphError::no_template(name, code));
    };
    let (want_body, want_button) = (approved.body_params(), approved.button_params());
    if body_params.len() != want_body {
        return Err(GraphError::param_count(
            "body",
            body_params.len(),
            want_body,
        ));
    }
    if button_params.len() != want_button {
        return Err(GraphError::param_count(
            "button",
            button_params.len(),
            want_button,
        ));
    }
    Ok(approved.fill(&body_params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<TextMessage, GraphError> {
        validate(
            v.as_object().unwrap(),
            &super::super::templates::builtin_templates(),
        )
    }

    #[test]
    fn numbers() {
        assert_eq!(wa_id("+919000090000").as_deref(), Some("919000090000"));
        assert_eq!(wa_id("16505551234").as_deref(), Some("16505551234"));
        for bad in [
            "",
            "+",
            "abc",
            "0033612345678",
            "+91 90000 90000",
            "91-9000",
            "123",
        ] {
            assert!(wa_id(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn text_rules() {
        let ok = check(
            json!({"messaging_product": "whatsapp", "to": "+919000090000", "text": {"body": "hi"}}),
        )
        .unwrap();
        assert_eq!(ok.wa_id, "919000090000");
        assert_eq!(ok.to, "+919000090000");
        let e = check(json!({"to": "1"})).unwrap_err();
        assert_eq!(
            e.message,
            "(#100) The parameter messaging_product is required."
        );
        let e = check(json!({"messaging_product": "sms"})).unwrap_err();
        assert_eq!(
            e.message,
            "(#100) Param messaging_product must be one of {WHATSAPP} - got \"sms\"."
        );
        // 4096 UTF-16 units pass, one more does not; an emoji counts two.
        let body = "a".repeat(4094) + "😀";
        assert!(check(json!({"messaging_product": "whatsapp", "to": "919000090000", "text": {"body": body}})).is_ok());
        let body = "a".repeat(4095) + "😀";
        assert!(check(json!({"messaging_product": "whatsapp", "to": "919000090000", "text": {"body": body}})).is_err());
    }
}
