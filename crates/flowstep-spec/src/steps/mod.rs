//! The shapes of the built-in steps, as data, and the generic shape of plugin steps.

pub mod file_body;
pub mod flow_use;
pub mod http;
pub mod message;
pub mod network_options;
pub mod oauth2;
pub mod paginate;
pub mod set;
pub mod wait;

use crate::source::{Span, Spanned};
use crate::template::Template;
use crate::value_template::ValueTemplate;
use crate::yaml::Node;

pub use file_body::{FileRef, Part, PartValue};
pub use flow_use::FlowUseSpec;
pub use http::{Auth, Body, Hint, HttpSpec, Idempotency, QueryLists, RetrySpec};
pub use message::{ContentSpec, MessageSpec, ReplyButtonSpec, TemplateMessageSpec};
pub use network_options::{ClientCert, HttpVersion, NetworkOptions, ProxySetting};
pub use oauth2::{ClientAuth, OAuth2};
pub use paginate::{NextPage, PaginateSpec};
pub use set::SetSpec;
pub use wait::{Deadline, WaitSpec};

/// Keys every step may have, whatever its type.
pub const COMMON_KEYS: &[&str] = &["id", "type", "description", "when", "next", "on_error"];

/// The step types the spec knows the shape of.
pub const BUILTIN_TYPES: &[&str] = &["http", "message", "set", "flow", "wait"];

/// What happens when a step fails.
#[derive(Debug, Clone, PartialEq)]
pub enum OnError {
    /// The run fails (the default).
    Fail,
    /// The run goes on with the next step (or `next:`), as if the step had succeeded but set
    /// nothing.
    Continue,
    /// The run jumps to this step (a failure path).
    Goto(Spanned<String>),
}

/// One step as written.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDecl {
    /// `id:`; unique in the flow.
    pub id: Spanned<String>,
    /// `type:`, the key of the step kind in the registry.
    pub kind: Spanned<String>,
    /// `description:`.
    pub description: Option<String>,
    /// `when:`: the step runs only when this renders truthy; otherwise it is skipped.
    pub when: Option<Template>,
    /// `next:`: the step to go to after this one (instead of the following one).
    pub next: Option<Spanned<String>>,
    /// `on_error:`: what a failure of this step does.
    pub on_error: OnError,
    /// The whole step.
    pub span: Span,
    /// The type-specific part.
    pub spec: StepSpec,
}

/// The type-specific part of a step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepSpec {
    /// `type: http`, the External API Request step.
    Http(Box<HttpSpec>),
    /// `type: message`.
    Message(MessageSpec),
    /// `type: set`.
    Set(SetSpec),
    /// `type: flow`.
    Flow(FlowUseSpec),
    /// `type: wait`.
    Wait(Box<WaitSpec>),
    /// Any other type: a plugin registered by the embedder reads its own parameters.
    Plugin(PluginSpec),
}

/// A plugin step's parameters: every key but the common ones, templated at the leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The parameters, in file order.
    pub params: ValueTemplate,
    /// The step's node, for plugins that want positions of their own keys.
    pub node: Node,
}

impl StepSpec {
    /// Every template in the step, for static checks.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            StepSpec::Http(h) => h.templates(),
            StepSpec::Message(m) => m.templates(),
            StepSpec::Set(s) => s.values.iter().flat_map(|(_, v)| v.templates()).collect(),
            StepSpec::Flow(f) => f.with.iter().flat_map(|(_, v)| v.templates()).collect(),
            StepSpec::Wait(w) => w.templates(),
            StepSpec::Plugin(p) => p.params.templates(),
        }
    }

    /// The variables the step sets, as far as the spec knows (plugins add theirs when bound).
    pub fn defines(&self) -> Vec<&Spanned<String>> {
        match self {
            StepSpec::Http(h) => h.map.iter().map(|m| &m.var).collect(),
            StepSpec::Set(s) => s.values.iter().map(|(name, _)| name).collect(),
            StepSpec::Wait(w) => w.map.iter().map(|(name, _)| name).collect(),
            _ => Vec::new(),
        }
    }
}
