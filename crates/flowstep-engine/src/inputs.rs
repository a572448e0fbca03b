//! Resolving a run's inputs: values given as text (`--var`) or typed (vars files, the library
//! API), checked against the declarations, with defaults filled in.

use flowstep_spec::shown::shown_code;
use flowstep_spec::{Flow, InputError, did_you_mean};
use serde_json::{Map, Value};
use std::collections::HashSet;
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
#[non_exhaustive]
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
            } => write!(f, "unknown input {}; did you mean `{s}`?", shown_code(name)),
            InputProblem::Unknown {
                name,
                suggestion: None,
            } => write!(f, "unknown input {}", shown_code(name)),
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

impl std::error::Error for InputProblem {}

/// Every problem with the inputs of a run, as one error: `Display` (and `Debug`, so that a
/// `main` returning it prints something readable) lists them one per line, each naming its
/// input. It derefs to the list.
///
/// ```
/// use flowstep_engine::{InputValue, resolve_inputs};
/// use flowstep_spec::{SourceFile, read_flow};
///
/// let flow = read_flow(SourceFile::new("f.yaml", "flow: f\ninputs:\n  n: { type: integer }\n  name: { type: string }\nsteps:\n  - id: m\n    type: message\n    text: hi\n")).unwrap();
/// let problems = resolve_inputs(&flow, vec![("n".into(), InputValue::Text("x".into()))]).unwrap_err();
/// assert_eq!(problems.len(), 2);
/// assert_eq!(problems.to_string(), "invalid input n: \"x\" is not an integer\nmissing required input `name`");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct InputProblems(Vec<InputProblem>);

impl InputProblems {
    /// The problems, in the order found.
    pub fn problems(&self) -> &[InputProblem] {
        &self.0
    }

    /// The problems, owned.
    pub fn into_problems(self) -> Vec<InputProblem> {
        self.0
    }
}

impl From<Vec<InputProblem>> for InputProblems {
    fn from(problems: Vec<InputProblem>) -> Self {
        InputProblems(problems)
    }
}

impl std::ops::Deref for InputProblems {
    type Target = [InputProblem];

    fn deref(&self) -> &[InputProblem] {
        &self.0
    }
}

impl IntoIterator for InputProblems {
    type Item = InputProblem;
    type IntoIter = std::vec::IntoIter<InputProblem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a InputProblems {
    type Item = &'a InputProblem;
    type IntoIter = std::slice::Iter<'a, InputProblem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for InputProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The same list as `Display`.
impl fmt::Debug for InputProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InputProblems {}

impl From<&str> for InputValue {
    /// Text, converted to the input's type as `--var` text is.
    fn from(text: &str) -> Self {
        InputValue::Text(text.to_owned())
    }
}

impl From<String> for InputValue {
    /// Text, converted to the input's type as `--var` text is.
    fn from(text: String) -> Self {
        InputValue::Text(text)
    }
}

impl From<Value> for InputValue {
    /// A typed value, checked against the input's type.
    fn from(value: Value) -> Self {
        InputValue::Typed(value)
    }
}

/// Checks the given values against the flow's inputs and fills in defaults. Every problem is
/// reported, not just the first.
pub fn resolve_inputs(
    flow: &Flow,
    given: Vec<(String, InputValue)>,
) -> Result<Map<String, Value>, InputProblems> {
    let mut values = Map::new();
    let mut problems = Vec::new();
    for (name, value) in given {
        // A flow declares a handful of inputs: a scan costs less than a map built per run.
        let Some(decl) = flow.inputs.iter().find(|i| i.name.value == name) else {
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
        Err(InputProblems(problems))
    }
}
