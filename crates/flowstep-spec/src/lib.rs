//! The flowstep flow file format: YAML with positions, typed shapes of the built-in steps,
//! templates and JSONPaths compiled once, static checks, and diagnostics that point at the line.
//!
//! This crate does no I/O and knows nothing of HTTP or async: it turns text into a checked
//! [`Flow`] or a list of [`Diagnostic`]s.
//!
//! ```
//! use flowstep_spec::{SourceFile, read_flow};
//! let flow = read_flow(SourceFile::new("hello.yaml", "flow: hello\nsteps:\n  - id: hi\n    type: message\n    text: Hello\n")).unwrap();
//! assert_eq!(flow.steps[0].id.value, "hi");
//! ```

mod ambiguous;
mod brace_templates;
pub mod check;
mod control_graph;
pub mod decimal;
pub mod diagnostic;
pub mod duration;
pub mod flow;
pub mod helpers;
pub mod input;
mod input_rules;
pub mod jsonpath;
pub mod literal_number;
pub mod message_limits;
mod operators;
pub mod origin;
pub mod rate;
pub mod reader;
pub mod rendered;
pub mod response_map;
pub mod schema;
pub mod shown;
pub mod source;
pub mod step_fields;
pub mod steps;
mod suggest;
pub mod template;
pub mod trigger;
pub mod value_template;
mod value_text;
mod when;
pub mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics, Severity, render_all};
pub use flow::{Flow, PartialFlow, SecretDecl, read as read_flow, read_partial};
pub use input::{InputDecl, InputError, InputType};
pub use origin::Origin;
pub use rate::Rate;
pub use rendered::Rendered;
pub use schema::FLOW_SCHEMA;
pub use source::{SourceFile, Span, Spanned};
pub use step_fields::Fields;
pub use suggest::{did_you_mean, help_did_you_mean};
pub use template::{Scope, Template, TemplateEnv, TemplateError};
pub use value_template::{Destination, ValueTemplate};
