//! Form bodies: a rendered value tree flattened into `key[sub][0]=value` pairs the way Stripe's
//! official SDKs do it, then `application/x-www-form-urlencoded`.
//!
//! The rules follow stripe-python's `_api_encode` and stripe-node's `stringifyRequestData`
//! (qs with indexed arrays): maps become `key[sub]`, lists `key[i]` from 0, booleans
//! `true`/`false`, numbers as written, an empty string stays (`key=`, Stripe's "unset this
//! field"), a `null` map value is left out (Python's `None`, JavaScript's `undefined`). Keys the
//! author wrote with brackets already (`line_items[0][price_data][currency]`) are just keys, so
//! flat and nested styles mix freely. Values are never parsed again: a key or value holding `&`,
//! `=` or a newline is percent-encoded and cannot add a field.

use flowstep_spec::Rendered;
use serde_json::Value;

/// Flattens a rendered form body into (name, value) pairs, in file order. A number written in
/// the flow is sent as written (`19.90`).
pub fn flatten(body: &Rendered) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // The spec only lets a mapping through, but a `<<expr>>` may read anything; the caller
    // refuses non-mappings, which have no field names.
    match body {
        Rendered::Map(entries) => {
            for (k, v) in entries {
                flatten_rendered(k.clone(), v, &mut out);
            }
        }
        Rendered::Value(Value::Object(map)) => {
            for (k, v) in map {
                flatten_into(k.clone(), v, &mut out);
            }
        }
        _ => {}
    }
    out
}

/// One field of a tree written in the flow (`key`, `key[sub]`, `key[i]`).
pub fn flatten_rendered(key: String, value: &Rendered, out: &mut Vec<(String, String)>) {
    match value {
        Rendered::Value(v) => flatten_into(key, v, out),
        Rendered::Number(n) => out.push((key, n.text().to_owned())),
        Rendered::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    out.push((format!("{key}[{i}]"), String::new()));
                } else {
                    flatten_rendered(format!("{key}[{i}]"), item, out);
                }
            }
        }
        Rendered::Map(entries) => {
            for (k, v) in entries {
                flatten_rendered(format!("{key}[{k}]"), v, out);
            }
        }
    }
}

fn flatten_into(key: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((key, b.to_string())),
        Value::Number(n) => out.push((key, n.to_string())),
        Value::String(s) => out.push((key, s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    // Leaving a list item out would leave a gap in the indices, which Stripe
                    // rejects; qs (stripe-node) sends `key[i]=` for it, and so do we.
                    Value::Null => out.push((format!("{key}[{i}]"), String::new())),
                    other => flatten_into(format!("{key}[{i}]"), other, out),
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten_into(format!("{key}[{k}]"), v, out);
            }
        }
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded` (WHATWG rules: space as `+`, everything
/// but `*-._` and alphanumerics percent-encoded).
pub fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::literal_number::LiteralNumber;
    use serde_json::json;

    fn flat(v: Value) -> Vec<(String, String)> {
        flatten(&Rendered::Value(v))
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    /// The expected pairs are what stripe-python's `_api_encode` yields (and stripe-node's qs
    /// produces, brackets aside) for the same dict.
    #[test]
    fn nested_maps_lists_booleans_and_nulls_flatten_like_the_stripe_sdks() {
        let body = json!({
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": "inr", "product_data": {"name": "Tea"}, "unit_amount": 50000}, "quantity": 1},
                {"price": "price_123", "quantity": 2}
            ],
            "allow_promotion_codes": true,
            "automatic_tax": {"enabled": false},
            "customer": null,
            "metadata": {"order": "A-1", "note": ""},
            "payment_method_types": ["card", "upi"],
            "amount_decimal": 12.5
        });
        assert_eq!(
            flat(body),
            pairs(&[
                ("mode", "payment"),
                ("line_items[0][price_data][currency]", "inr"),
                ("line_items[0][price_data][product_data][name]", "Tea"),
                ("line_items[0][price_data][unit_amount]", "50000"),
                ("line_items[0][quantity]", "1"),
                ("line_items[1][price]", "price_123"),
                ("line_items[1][quantity]", "2"),
                ("allow_promotion_codes", "true"),
                ("automatic_tax[enabled]", "false"),
                ("metadata[order]", "A-1"),
                ("metadata[note]", ""),
                ("payment_method_types[0]", "card"),
                ("payment_method_types[1]", "upi"),
                ("amount_decimal", "12.5"),
            ])
        );
    }

    #[test]
    fn flat_bracket_keys_and_nested_yaml_mix() {
        let body = json!({
            "line_items[0][price_data][currency]": "inr",
            "line_items[0][quantity]": 1,
            "metadata": {"k": "v"},
            "empty_list": [],
            "empty_map": {}
        });
        assert_eq!(
            flat(body),
            pairs(&[
                ("line_items[0][price_data][currency]", "inr"),
                ("line_items[0][quantity]", "1"),
                ("metadata[k]", "v"),
            ])
        );
    }

    #[test]
    fn encoding_keeps_every_character_and_never_injects_a_field() {
        let p = pairs(&[
            ("x&mode=subscription", "a&b=c+d%e?f g\nh\"i'j"),
            ("name", "चाय ☕"),
            ("metadata[note]", ""),
        ]);
        let encoded = encode(&p);
        // What Python's urlencode (quote_plus) gives for the same pairs.
        assert_eq!(
            encoded,
            "x%26mode%3Dsubscription=a%26b%3Dc%2Bd%25e%3Ff+g%0Ah%22i%27j\
             &name=%E0%A4%9A%E0%A4%BE%E0%A4%AF+%E2%98%95\
             &metadata%5Bnote%5D="
        );
        let back: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(back, p);
    }

    #[test]
    fn null_list_items_keep_their_index_and_scalars_have_no_fields() {
        assert_eq!(
            flat(json!({"a": ["x", null, "y"]})),
            pairs(&[("a[0]", "x"), ("a[1]", ""), ("a[2]", "y")])
        );
        assert!(flat(json!("just text")).is_empty());
    }

    #[test]
    fn numbers_written_in_the_flow_are_sent_as_written() {
        let n = |s: &str| Rendered::Number(LiteralNumber::parse(s).unwrap());
        let body = Rendered::Map(vec![
            ("price".into(), n("19.90")),
            (
                "tags".into(),
                Rendered::List(vec![n("1e3"), Rendered::Value(json!(null))]),
            ),
            (
                "meta".into(),
                Rendered::Map(vec![("big".into(), n("12345678901234567890123"))]),
            ),
        ]);
        assert_eq!(
            flatten(&body),
            pairs(&[
                ("price", "19.90"),
                ("tags[0]", "1e3"),
                ("tags[1]", ""),
                ("meta[big]", "12345678901234567890123"),
            ])
        );
    }
}
