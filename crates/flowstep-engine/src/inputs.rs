//! Resolving a run's inputs: values given as text (`--var`) or typed (vars files, the library
//! API), checked against the declarations, with defaults filled in.

use flowstep_spec::{Flow, InputDecl, InputError, did_you_mean};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A value given for an input.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    /// Text from the command line, converted to the declared type.
    Text(String),
    /// A typed value, checked against the declared type.
    Typed(Value),
}

/// What is wrong with the inputs of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    /// A value for an input the flow does not declare.
    Unknown {
        /// The name given.
        name: String,
        /// A declared input with a close name.
        suggestion: Option<String>,
    },
    /// A required input was not given.
    Missing {
        /// The input.
        name: String,
        /// Its description.
        description: Option<String>,
    },
    /// A value does not fit its input.
    Invalid(InputError),
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputProblem::Unknown {
                name,
                suggestion: Some(s),
            } => write!(f, "unknown input `{name}`; did you mean `{s}`?"),
            InputProblem::Unknown {
                name,
                suggestion: None,
            } => write!(f, "unknown input `{name}`"),
            InputProblem::Missing {
                name,
                description: Some(d),
            } => write!(f, "missing required input `{name}` ({d})"),
            InputProblem::Missing {
                name,
                description: None,
            } => write!(f, "missing required input `{name}`"),
            InputProblem::Invalid(e) => write!(f, "invalid input {e}"),
        }
    }
}

/// Checks the given values against the flow's inputs and fills in defaults. Every problem is
/// reported, not just the first.
pub fn resolve_inputs(
    flow: &Flow,
    given: Vec<(String, InputValue)>,
) -> Result<Map<String, Value>, Vec<InputProblem>> {
    let mut values = Map::new();
    let mut problems = Vec::new();
    let declared: HashMap<&str, &InputDecl> = flow
        .inputs
        .iter()
        .map(|i| (i.name.value.as_str(), i))
        .collect();
    for (name, value) in given {
        let Some(decl) = declared.get(name.as_str()) else {
            let names = flow.inputs.iter().map(|i| i.name.value.as_str());
            problems.push(InputProblem::Unknown {
                suggestion: did_you_mean(&name, names).map(str::to_owned),
                name,
            });
            continue;
        };
        let checked = match value {
            InputValue::Text(t) => decl.parse_text(&t),
            InputValue::Typed(v) => decl.check(v),
        };
        match checked {
            Ok(v) => {
                values.insert(name, v);
            }
            Err(e) => problems.push(InputProblem::Invalid(e)),
        }
    }
    let invalid: HashSet<String> = problems
        .iter()
        .filter_map(|p| match p {
            InputProblem::Invalid(e) => Some(e.name.clone()),
            _ => None,
        })
        .collect();
    for decl in &flow.inputs {
        if values.contains_key(&decl.name.value) {
            continue;
        }
        match &decl.default {
            Some(d) => {
                values.insert(decl.name.value.clone(), d.clone());
            }
            None if !invalid.contains(decl.name.value.as_str()) => {
                problems.push(InputProblem::Missing {
                    name: decl.name.value.clone(),
                    description: decl.description.clone(),
                })
            }
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}
