//! Validation of a Cloud API "send message" body, for text messages.
//!
//! Rules and texts follow Meta's Cloud API reference and the error texts it answers with
//! (quoted in public reports and in emulators built from recorded answers); inferred
//! wordings are marked. Only `type: "text"` is modelled: other types are refused with a
//! message that says so, which is stricter than Meta but never more lenient.

use serde_json::{Map, Value};

use super::errors::GraphError;

/// Meta's limit for `text.body`.
pub(crate) const MAX_BODY: usize = 4096;

/// A text message that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextMessage {
    /// `to` exactly as the request gave it.
    pub(crate) to: String,
    /// `to` without its `+`: the recipient's WhatsApp id.
    pub(crate) wa_id: String,
    /// `text.body`, unchanged.
    pub(crate) body: String,
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

/// Validates a parsed body (an empty map when the body was not JSON).
pub(crate) fn validate(body: &Map<String, Value>) -> Result<TextMessage, GraphError> {
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
    match body.get("type") {
        // The Cloud API's default type is text.
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t == "text" => {}
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {
            return Err(GraphError::param("(#100) Invalid parameter").details(format!(
                "The flowstep sandbox models only text messages; type '{t}' is not supported here."
            )));
        }
        Some(v) => {
            // Inferred wording, in the "must be one of" form.
            return Err(GraphError::param(format!(
                "(#100) Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}} - got {}.",
                quoted(v)
            )));
        }
    }
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
    Ok(TextMessage {
        to,
        wa_id,
        body: message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<TextMessage, GraphError> {
        validate(v.as_object().unwrap())
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
