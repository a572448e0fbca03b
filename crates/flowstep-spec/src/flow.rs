//! The flow file, read into typed shapes: inputs, secrets, steps and outputs, every node with
//! its position, every template and JSONPath compiled once.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::input::{InputDecl, InputType};
use crate::origin::Origin;
use crate::reader::{MapReader, expected, is_identifier, key_text, scalar_text};
use crate::source::{SourceFile, Span, Spanned};
use crate::steps::{
    self, FlowUseSpec, HttpSpec, MessageSpec, OnError, PluginSpec, SetSpec, StepDecl, StepSpec,
    WaitSpec,
};
use crate::template::{Template, TemplateEnv};
use crate::value_template::ValueTemplate;
use crate::value_template::{Destination, compile_entries, literal_name};
use crate::yaml::{self, Node};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const FLOW_KEYS: &[&str] = &[
    "flow",
    "description",
    "inputs",
    "secrets",
    "steps",
    "outputs",
    "triggers",
    "http",
];
const INPUT_KEYS: &[&str] = &[
    "type",
    "default",
    "description",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "min_length",
    "max_length",
];
const SECRET_KEYS: &[&str] = &["name", "hosts"];
pub use crate::template::RESERVED_NAMES;
use crate::trigger::WhatsAppTrigger;

/// A flow file, read and checked.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The file it was read from.
    pub file: Arc<SourceFile>,
    /// `flow:`, its name.
    pub name: Spanned<String>,
    /// `description:`.
    pub description: Option<String>,
    /// `inputs:`, in file order.
    pub inputs: Vec<InputDecl>,
    /// `secrets:`, in file order.
    pub secrets: Vec<SecretDecl>,
    /// `steps:`, in order.
    pub steps: Vec<StepDecl>,
    /// `outputs:`, name to value.
    pub outputs: Vec<(Spanned<String>, ValueTemplate)>,
    /// `triggers:`: what starts a run besides the API (`flowstep serve`).
    pub triggers: Vec<WhatsAppTrigger>,
    /// `http:`: the TLS and network options every http step takes unless it sets its own.
    pub http: steps::NetworkOptions,
    /// The compiled expressions of every template in the flow.
    pub templates: Arc<TemplateEnv>,
    /// Problems that do not stop the flow from running.
    pub warnings: Vec<Diagnostic>,
    /// Names the file tries to define but whose definition has an error (an input with an
    /// unknown type, a mapping with a bad JSONPath): reads of them are not reported again.
    pub(crate) unusable_names: Vec<String>,
    /// Steps that could not be read, by id, with the index in `steps` of the step after them:
    /// a jump to one goes there, and reads of `<<steps.ID...>>` are not reported again.
    pub(crate) unread_steps: Vec<(String, usize)>,
}

/// A declared secret: its name (also the environment variable it is read from) and the
/// origins it may be sent to (any, when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretDecl {
    /// The name.
    pub name: Spanned<String>,
    /// The origins from `hosts:` that the secret may be sent to; empty means any.
    pub origins: Vec<Origin>,
}

impl Flow {
    /// The input declared as `name`.
    pub fn input(&self, name: &str) -> Option<&InputDecl> {
        self.inputs.iter().find(|i| i.name.value == name)
    }

    /// The step with id `id`.
    pub fn step(&self, id: &str) -> Option<&StepDecl> {
        self.steps.iter().find(|s| s.id.value == id)
    }
}

/// Reads a flow file: YAML, then shapes, then templates and JSONPaths. Every problem found is
/// returned at once, sorted by position.
pub fn read(file: SourceFile) -> Result<Flow, Vec<Diagnostic>> {
    let partial = read_partial(file);
    match partial.flow {
        Some(flow)
            if !partial
                .diagnostics
                .iter()
                .any(|d| d.severity == crate::Severity::Error) =>
        {
            Ok(flow)
        }
        _ => Err(partial.diagnostics),
    }
}

/// What reading a flow file gave, even when it had errors, so that later checks (step types,
/// variables) can report their problems in the same pass.
#[derive(Debug)]
pub struct PartialFlow {
    /// The flow as far as it could be read; `None` when even its outline is unusable.
    pub flow: Option<Flow>,
    /// Every problem found, sorted by position (warnings included).
    pub diagnostics: Vec<Diagnostic>,
    /// Whether every step was read; when not, checks that follow variables across steps would
    /// only report consequences of the errors already found.
    pub all_steps_read: bool,
}

/// Reads as much of a flow file as can be read, with every problem found.
pub fn read_partial(file: SourceFile) -> PartialFlow {
    let root = match yaml::parse(&file) {
        Ok(root) => root,
        Err(d) => {
            return PartialFlow {
                flow: None,
                diagnostics: vec![d],
                all_steps_read: false,
            };
        }
    };
    let mut diags = Diagnostics::new();
    let mut env = TemplateEnv::new();
    let parts = read_root(&root, &file, &mut env, &mut diags);
    diags.extend(brace_warnings(&root, &file, &diags));
    let step_nodes = root
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("steps")))
        .and_then(|(_, v)| v.as_seq())
        .map_or(0, <[Node]>::len);
    let Some((name, description, inputs, secrets, (steps, unread_steps), outputs, triggers, http)) =
        parts
    else {
        return PartialFlow {
            flow: None,
            diagnostics: diags.sorted(),
            all_steps_read: false,
        };
    };
    let all_steps_read = steps.len() == step_nodes;
    let unusable_names = unusable_names(&root, &inputs, &steps);
    let diagnostics = diags.sorted();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == crate::Severity::Warning)
        .cloned()
        .collect();
    let flow = Flow {
        file: Arc::new(file),
        name,
        description,
        inputs,
        secrets,
        steps,
        outputs,
        triggers,
        http,
        templates: Arc::new(env),
        warnings,
        unusable_names,
        unread_steps,
    };
    PartialFlow {
        flow: Some(flow),
        diagnostics,
        all_steps_read,
    }
}

type Parts = (
    Spanned<String>,
    Option<String>,
    Vec<InputDecl>,
    Vec<SecretDecl>,
    (Vec<StepDecl>, Vec<(String, usize)>),
    Vec<(Spanned<String>, ValueTemplate)>,
    Vec<WhatsAppTrigger>,
    steps::NetworkOptions,
);

fn read_root(
    root: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Parts> {
    let mut m = MapReader::new(root, "the flow", FLOW_KEYS, diags)?;
    let name = m
        .required("flow", diags)
        .and_then(|n| scalar_text(n, "`flow`", diags));
    let description = m
        .get("description")
        .and_then(|n| scalar_text(n, "`description`", diags))
        .map(|t| t.value);
    let inputs = m
        .get("inputs")
        .map(|n| read_inputs(n, diags))
        .unwrap_or_default();
    let secrets = m
        .get("secrets")
        .map(|n| read_secrets(n, diags))
        .unwrap_or_default();
    let triggers = m
        .get("triggers")
        .map(|n| crate::trigger::read_triggers(n, &inputs, diags))
        .unwrap_or_default();
    let steps = match m.required("steps", diags) {
        Some(n) => read_steps(n, file, env, diags),
        None => (Vec::new(), Vec::new()),
    };
    let outputs = m
        .get("outputs")
        .map(|n| compile_entries(n, "`outputs`", Destination::Stored, file, env, diags))
        .unwrap_or_default();
    let http = m
        .get("http")
        .map(|n| steps::network_options::read_flow_defaults(n, diags))
        .unwrap_or_default();
    m.finish(diags);
    check_unique_names(&inputs, &secrets, diags);
    // Without a name the flow is still checked, so that every problem is reported at once.
    let name = name.unwrap_or_else(|| Spanned::new(String::new(), root.span));
    Some((
        name,
        description,
        inputs,
        secrets,
        steps,
        outputs,
        triggers,
        http,
    ))
}

fn read_inputs(node: &Node, diags: &mut Diagnostics) -> Vec<InputDecl> {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            diags.push(expected(
                node,
                "a mapping of input names to declarations",
                "`inputs`",
            ));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let name = key_text(k);
        if !is_identifier(&name.value) || RESERVED_NAMES.contains(&name.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{}` cannot be an input name", name.value),
                    k.span,
                )
                .with_help(if is_identifier(&name.value) {
                    format!("`{}` is reserved; pick another name", name.value)
                } else {
                    "input names are letters, digits and `_`, starting with a letter".to_owned()
                }),
            );
            continue;
        }
        let what = format!("input `{}`", name.value);
        let Some(mut m) = MapReader::new(v, what, INPUT_KEYS, diags) else {
            continue;
        };
        let ty = m
            .required("type", diags)
            .and_then(|n| scalar_text(n, "`type`", diags))
            .and_then(|t| {
                let ty = InputType::from_name(&t.value);
                if ty.is_none() {
                    diags.push(
                        Diagnostic::error(
                            "E008",
                            format!("unknown input type `{}`", t.value),
                            t.span,
                        )
                        .with_help(
                            crate::suggest::help_did_you_mean(
                                &t.value,
                                InputType::NAMES.iter().copied(),
                            )
                            .unwrap_or_else(|| {
                                format!("input types are: {}", InputType::NAMES.join(", "))
                            }),
                        ),
                    );
                }
                ty
            });
        let description = m
            .get("description")
            .and_then(|n| scalar_text(n, "`description`", diags))
            .map(|t| t.value);
        let mut number = |key: &str, diags: &mut Diagnostics| {
            m.get(key).and_then(|n| match n.scalar_value() {
                // Every digit is kept, but a bound past binary floating point's range (`1e400`)
                // cannot be compared with the values it bounds.
                Some(serde_json::Value::Number(x))
                    if x.as_f64().is_none_or(|f| !f.is_finite()) =>
                {
                    diags.push(
                        Diagnostic::error(
                            "E010",
                            format!(
                                "`{key}` {} is too large to compare values with",
                                crate::shown::shown_text(n.as_str().unwrap_or_default())
                            ),
                            n.span,
                        )
                        .with_help("a bound is at most about 1.7e308 either side of zero; leave it out to have none"),
                    );
                    None
                }
                Some(serde_json::Value::Number(x)) => Some(x),
                _ => {
                    diags.push(expected(n, "a number", &format!("`{key}`")));
                    None
                }
            })
        };
        let minimum = number("minimum", diags);
        let maximum = number("maximum", diags);
        let rules = crate::input_rules::read(&mut m, ty, &name.value, diags);
        let default_node = m.get("default");
        m.finish(diags);
        let Some(ty) = ty else { continue };
        let mut decl = InputDecl {
            name,
            ty,
            default: None,
            description,
            minimum,
            maximum,
            enum_values: rules.enum_values,
            pattern: rules.pattern,
            min_length: rules.min_length,
            max_length: rules.max_length,
            span: v.span,
        };
        if let Some(d) = default_node {
            // `default: null` makes the input optional: unset, it reads as null (a form field
            // set to it is left out). Any other default is read by the one typing rule, like a
            // vars file: from its text, quoted or not.
            let value = if d.is_null() {
                Ok(serde_json::Value::Null)
            } else {
                decl.read_node(d)
            };
            match value {
                Ok(v) => decl.default = Some(v),
                Err(e) => diags.push(Diagnostic::error(
                    "E011",
                    format!("default of input {e}"),
                    d.span,
                )),
            }
        }
        out.push(decl);
    }
    out
}

fn read_secrets(node: &Node, diags: &mut Diagnostics) -> Vec<SecretDecl> {
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            diags.push(expected(node, "a list of secret names", "`secrets`"));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let decl = if item.as_str().is_some() {
            scalar_text(item, "a secret name", diags).map(|name| SecretDecl {
                name,
                origins: Vec::new(),
            })
        } else {
            let Some(mut m) = MapReader::new(item, "a secret", SECRET_KEYS, diags) else {
                continue;
            };
            let name = m
                .required("name", diags)
                .and_then(|n| scalar_text(n, "`name`", diags));
            let origins = match m.get("hosts") {
                Some(h) => match h.as_seq() {
                    Some(hs) => {
                        let mut origins = Vec::new();
                        for h in hs {
                            if let Some(t) = scalar_text(h, "a host name", diags)
                                && let Some(o) = read_origin(&t, diags)
                            {
                                origins.push(o);
                            }
                        }
                        origins
                    }
                    None => {
                        diags.push(expected(h, "a list of host names", "`hosts`"));
                        Vec::new()
                    }
                },
                None => Vec::new(),
            };
            m.finish(diags);
            name.map(|name| SecretDecl { name, origins })
        };
        if let Some(decl) = decl {
            if !is_identifier(&decl.name.value) {
                diags.push(
                    Diagnostic::error(
                        "E010",
                        format!("`{}` cannot be a secret name", decl.name.value),
                        decl.name.span,
                    )
                    .with_help(
                        "secret names are environment variable names: letters, digits and `_`",
                    ),
                );
                continue;
            }
            out.push(decl);
        }
    }
    out
}

/// One `hosts:` entry as an origin, or an `E010` at the entry.
fn read_origin(entry: &Spanned<String>, diags: &mut Diagnostics) -> Option<Origin> {
    match Origin::parse(&entry.value) {
        Ok(o) => Some(o),
        Err(e) => {
            diags.push(
                Diagnostic::error("E010", format!("invalid secret host: {e}"), entry.span)
                    .with_help(
                        "a bare host means https on port 443 (`api.stripe.com`); write other \
                         schemes and ports out: `http://localhost:8080`, `api.example.com:8443`",
                    ),
            );
            None
        }
    }
}

fn read_steps(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> (Vec<StepDecl>, Vec<(String, usize)>) {
    let Some(items) = node.as_seq() else {
        diags.push(expected(node, "a list of steps", "`steps`"));
        return (Vec::new(), Vec::new());
    };
    if items.is_empty() {
        diags.push(Diagnostic::error(
            "E003",
            "a flow needs at least one step",
            node.span,
        ));
    }
    let mut out: Vec<StepDecl> = Vec::new();
    let mut unread = Vec::new();
    let mut first_of: HashMap<String, Span> = HashMap::new();
    for item in items {
        let Some(step) = read_step(item, file, env, diags) else {
            let id = item
                .as_map()
                .and_then(|e| e.iter().find(|(k, _)| k.as_str() == Some("id")))
                .and_then(|(_, v)| v.as_str());
            if let Some(id) = id {
                unread.push((id.to_owned(), out.len()));
            }
            continue;
        };
        if let Some(first) = first_of.get(&step.id.value) {
            let (line, _) = file.line_col(first.start);
            diags.push(
                Diagnostic::error(
                    "E009",
                    format!("duplicate step id `{}`", step.id.value),
                    step.id.span,
                )
                .with_help(format!(
                    "a step with this id is already on line {line}; step ids must be unique"
                )),
            );
            // Kept, so that what is wrong inside it is reported too (every problem at once);
            // the flow does not compile either way.
            out.push(step);
            continue;
        }
        first_of.insert(step.id.value.clone(), step.id.span);
        out.push(step);
    }
    (out, unread)
}

fn read_step(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<StepDecl> {
    // The known keys depend on the type, and messages name the step, so peek at both first.
    let peek = |key: &str| {
        node.as_map()
            .and_then(|e| e.iter().find(|(k, _)| k.as_str() == Some(key)))
            .and_then(|(_, v)| v.as_str())
    };
    let known = match peek("type") {
        Some("http") => steps::http::KEYS,
        Some("message") => steps::message::KEYS,
        Some("set") => steps::set::KEYS,
        Some("flow") => steps::flow_use::KEYS,
        Some("wait") => steps::wait::KEYS,
        _ => steps::COMMON_KEYS,
    };
    let what = match (peek("id"), peek("type")) {
        (Some(id), Some(ty)) => format!("{ty} step `{id}`"),
        (Some(id), None) => format!("step `{id}`"),
        _ => "a step".to_owned(),
    };
    let mut m = MapReader::new(node, what, known, diags)?;
    let id = m
        .required("id", diags)
        .and_then(|n| scalar_text(n, "`id`", diags));
    if let Some(id) = &id
        && !is_identifier(&id.value)
    {
        diags.push(
            Diagnostic::error("E010", format!("`{}` is not a valid step id", id.value), id.span)
                .with_help("step ids are letters, digits and `_`, starting with a letter, so that `<<steps.ID.status>>` can read them"),
        );
    }
    let ty = m
        .required("type", diags)
        .and_then(|n| scalar_text(n, "`type`", diags));
    let description = m
        .get("description")
        .and_then(|n| scalar_text(n, "`description`", diags))
        .map(|t| t.value);
    let when = m
        .get("when")
        .and_then(|n| crate::when::read(n, file, env, diags));
    let next = m.get("next").and_then(|n| scalar_text(n, "`next`", diags));
    let on_error = match m.get("on_error") {
        None => OnError::Fail,
        Some(n) => match scalar_text(n, "`on_error`", diags) {
            Some(t) if t.value == "fail" => OnError::Fail,
            Some(t) if t.value == "continue" => OnError::Continue,
            Some(t) => OnError::Goto(t),
            None => OnError::Fail,
        },
    };
    let spec = match ty.as_ref().map(|t| t.value.as_str()) {
        Some("set") => SetSpec::read(&mut m, file, env, diags).map(StepSpec::Set),
        Some("flow") => FlowUseSpec::read(&mut m, file, env, diags).map(StepSpec::Flow),
        Some("http") => {
            HttpSpec::read(&mut m, file, env, diags).map(|h| StepSpec::Http(Box::new(h)))
        }
        Some("message") => MessageSpec::read(&mut m, file, env, diags).map(StepSpec::Message),
        Some("wait") => {
            WaitSpec::read(&mut m, file, env, diags).map(|w| StepSpec::Wait(Box::new(w)))
        }
        Some(_) => {
            let rest = m.take_rest();
            // A plugin reads its parameters by name, so the top-level names are literal.
            let params = ValueTemplate::Map(
                rest.into_iter()
                    .filter_map(|(k, v)| {
                        let name = literal_name(k, "a step's parameters", diags)?;
                        Some((
                            Template::literal(name.value, name.span),
                            ValueTemplate::compile(v, file, env, diags),
                        ))
                    })
                    .collect(),
            );
            Some(StepSpec::Plugin(PluginSpec {
                params,
                node: node.clone(),
            }))
        }
        None => None,
    };
    m.finish(diags);
    Some(StepDecl {
        id: id?,
        kind: ty?,
        description,
        when,
        next,
        on_error,
        span: node.span,
        spec: spec?,
    })
}

/// Input names, response-mapping names and `set` names written in the file that did not make
/// it into the flow because their definition had an error (or their step could not be read, or
/// has a type the spec does not know).
fn unusable_names(root: &Node, inputs: &[InputDecl], steps: &[StepDecl]) -> Vec<String> {
    let keys = |n: Option<&Node>| -> Vec<String> {
        n.and_then(Node::as_map)
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect()
    };
    let mut written = keys(get(root, "inputs"));
    for step in get(root, "steps")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        written.extend(keys(get(step, "response").and_then(|r| get(r, "map"))));
        written.extend(keys(get(step, "values")));
    }
    let defined: HashSet<&str> = inputs
        .iter()
        .map(|i| i.name.value.as_str())
        .chain(
            steps
                .iter()
                .flat_map(|s| s.spec.defines().into_iter().map(|n| n.value.as_str())),
        )
        .collect();
    written.retain(|w| !defined.contains(w.as_str()));
    written
}

/// The value of `key` in a mapping node.
fn get<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    n.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
        .map(|(_, v)| v)
}

fn check_unique_names(inputs: &[InputDecl], secrets: &[SecretDecl], diags: &mut Diagnostics) {
    let mut seen: HashSet<&str> = HashSet::new();
    for name in secrets.iter().map(|s| &s.name) {
        if !seen.insert(name.value.as_str()) {
            diags.push(Diagnostic::error(
                "E009",
                format!("secret `{}` is declared twice", name.value),
                name.span,
            ));
        }
    }
    let _ = inputs;
}

/// `{{name}}` warnings, but none inside text an error already points at (a `when:` written
/// `"{{ status == 'paid' }}"` gets the error alone).
fn brace_warnings(root: &Node, file: &SourceFile, diags: &Diagnostics) -> Vec<Diagnostic> {
    let errors: Vec<Span> = diags
        .iter()
        .filter(|d| d.severity == crate::Severity::Error)
        .map(|d| d.span)
        .collect();
    crate::brace_templates::warnings(root, file)
        .into_iter()
        .filter(|w| {
            !errors
                .iter()
                .any(|e| e.start <= w.span.start && w.span.end <= e.end)
        })
        .collect()
}

/// Where a missing thing would go: the start of `span`.
pub fn at_start(span: Span) -> Span {
    Span::new(span.start, span.start)
}
