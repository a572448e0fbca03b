//! How a value reads when it ends up inside text (messages, query values, headers).

use serde_json::Value;

/// How a value reads inside text: strings as they are, numbers and booleans as written, null as
/// nothing, and lists or objects as compact JSON.
pub fn value_to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}
