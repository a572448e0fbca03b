//! The JSON Schema (draft 2020-12) of the flow format, for editors' YAML language servers and
//! for `flowstep schema`.
//!
//! The schema is a JSON file beside this one, so that it can be read and diffed as what it is;
//! the tests below keep its lists of keys and types in step with the reader's.

/// The flow format as a JSON Schema (draft 2020-12).
pub const FLOW_SCHEMA: &str = include_str!("flow.schema.json");

#[cfg(test)]
mod tests {
    use super::FLOW_SCHEMA;
    use crate::input::InputType;
    use crate::steps;
    use serde_json::Value;

    fn schema() -> Value {
        serde_json::from_str(FLOW_SCHEMA).expect("the schema is JSON")
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        k.sort();
        k
    }

    #[test]
    fn schema_keys_match_what_the_reader_accepts() {
        let s = schema();
        let defs = &s["$defs"];
        let common = keys(&defs["step_common"]["properties"]);
        assert_eq!(common, sorted(steps::COMMON_KEYS));
        let with_common = |def: &str| {
            let mut k = keys(&defs[def]["properties"]);
            k.extend(common.iter().cloned());
            k.sort();
            k
        };
        assert_eq!(with_common("http_step"), sorted(steps::http::KEYS));
        assert_eq!(with_common("message_step"), sorted(steps::message::KEYS));
        assert_eq!(with_common("set_step"), sorted(steps::set::KEYS));
        assert_eq!(with_common("flow_step"), sorted(steps::flow_use::KEYS));
        assert_eq!(
            keys(&s["properties"]["http"]["properties"]),
            sorted(steps::network_options::KEYS)
        );
        let input_types: Vec<&str> = defs["input"]["properties"]["type"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(input_types, InputType::NAMES);
        let typed_steps: Vec<&str> = defs["step"]["allOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["if"]["properties"]["type"]["const"].as_str().unwrap())
            .collect();
        assert_eq!(typed_steps, steps::BUILTIN_TYPES);
    }
}
