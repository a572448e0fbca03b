//! Static checks across the whole flow: every variable is defined on every path that reaches
//! its use, `<<steps.ID.FIELD>>` names a step that ran and a field it has, jumps name real
//! steps, every step can be reached, no loop runs forever, and secrets are declared and used
//! only where credentials go.
//!
//! Definedness is a "must" property over the flow's control graph (steps in order, `when`
//! skips, `next` jumps, `on_error` paths): a variable is defined at a step only if every path
//! from the start to that step sets it. It is answered with dominators (`control_graph`), so
//! that a flow of thousands of steps is checked in near-linear time.

use crate::control_graph::{ControlGraph, Edge, EdgeKind};
use crate::diagnostic::Diagnostic;
use crate::flow::Flow;
use crate::source::Spanned;
use crate::step_fields::Fields;
use crate::steps::{OnError, StepDecl, StepSpec};
use crate::suggest::help_did_you_mean;
use crate::template::{ESCAPE_NOTE, Reference, Template};
use std::collections::{HashMap, HashSet};

/// What binding a step told the check, beyond what the flow file says: the variables a plugin
/// step sets, and the fields its kind makes readable as `<<steps.ID.FIELD>>`.
#[derive(Debug, Clone)]
pub struct BoundStep {
    /// Variables the step sets beyond those the spec knows (a plugin's [`defines`]).
    ///
    /// [`defines`]: crate::steps::StepSpec::defines
    pub defines: Vec<String>,
    /// The fields the step's kind adds to `status`, `attempts` and `error`; [`Fields::Any`]
    /// when the kind does not say (they are then not checked).
    pub fields: Fields,
    /// No step kind of this type is registered: the type is most likely misspelt, which a
    /// read of a variable the step might set is told to fix first.
    pub kind_unknown: bool,
}

impl Default for BoundStep {
    fn default() -> Self {
        BoundStep {
            defines: Vec::new(),
            fields: Fields::Any,
            kind_unknown: false,
        }
    }
}

/// How many name comparisons "did you mean" may make for one file: a file with thousands of
/// misspelt names gets suggestions for the first ones, and is still checked in linear time.
const SUGGESTION_BUDGET: usize = 100_000;

/// The step limit, named in the error for a loop with no way out.
const STEP_LIMIT: usize = 1000;

/// Checks every template and jump of the flow. `bound[i]` is what binding step `i` told (an
/// empty `bound` checks with what the flow file says alone).
pub fn check_variables(flow: &Flow, bound: &[BoundStep]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let n = flow.steps.len();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, s) in flow.steps.iter().enumerate() {
        index.entry(s.id.value.as_str()).or_insert(i);
    }
    let unread: HashMap<&str, usize> = flow
        .unread_steps
        .iter()
        .map(|(id, at)| (id.as_str(), *at))
        .collect();
    let ids: Vec<&str> = flow.steps.iter().map(|s| s.id.value.as_str()).collect();

    // Jump targets; an unknown one is reported and treated as the end of the flow. A jump to a
    // step that could not be read goes where that step was: it is already reported.
    let mut suggestions = SUGGESTION_BUDGET;
    // Steps that jump to a step that could not be read: what the run does there is unknown, so
    // no loop through them is reported.
    let mut uncertain: HashSet<usize> = HashSet::new();
    let mut target = |label: &Spanned<String>, key: &str, out: &mut Vec<Diagnostic>| -> usize {
        if let Some(i) = index.get(label.value.as_str()) {
            return *i;
        }
        if let Some(i) = unread.get(label.value.as_str()) {
            return *i;
        }
        out.push(
            Diagnostic::error(
                "E005",
                format!("`{key}` names unknown step `{}`", label.value),
                label.span,
            )
            .with_help(
                suggest(&label.value, &ids, &mut suggestions)
                    .unwrap_or_else(|| format!("steps are: {}", ids.join(", "))),
            ),
        );
        n
    };
    let mut edges: Vec<Vec<Edge>> = Vec::with_capacity(n);
    for (i, step) in flow.steps.iter().enumerate() {
        let labels = step
            .next
            .iter()
            .chain(match &step.on_error {
                OnError::Goto(label) => Some(label),
                _ => None,
            })
            .chain(on_timeout(step));
        if labels
            .into_iter()
            .any(|l| unread.contains_key(l.value.as_str()))
        {
            uncertain.insert(i);
        }
        let after = step
            .next
            .as_ref()
            .map_or(i + 1, |nx| target(nx, "next", &mut out));
        let mut e = vec![Edge {
            to: after,
            kind: EdgeKind::Success,
        }];
        if step.when.is_some() {
            e.push(Edge {
                to: i + 1,
                kind: EdgeKind::Skip,
            });
        }
        match &step.on_error {
            OnError::Fail => {}
            OnError::Continue => e.push(Edge {
                to: after,
                kind: EdgeKind::Continue,
            }),
            OnError::Goto(label) => e.push(Edge {
                to: target(label, "on_error", &mut out),
                kind: EdgeKind::Jump,
            }),
        }
        // A wait whose deadline passes goes to its `on_timeout:` step, as a failure would.
        if let Some(label) = on_timeout(step) {
            e.push(Edge {
                to: target(label, "on_timeout", &mut out),
                kind: EdgeKind::Jump,
            });
        }
        edges.push(e);
    }
    let graph = ControlGraph::new(edges);
    out.extend(loops_without_exit(flow, &graph, &uncertain));

    let mut setters: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, step) in flow.steps.iter().enumerate() {
        let own = step.spec.defines().into_iter().map(|d| d.value.as_str());
        let plugin = bound.get(i).into_iter().flat_map(|b| &b.defines);
        for name in own.chain(plugin.map(String::as_str)) {
            let list = setters.entry(name).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let inputs: HashSet<&str> = flow.inputs.iter().map(|i| i.name.value.as_str()).collect();
    let mut names: Vec<&str> = inputs.iter().chain(setters.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let fields: Vec<Fields> = (0..n)
        .map(|i| Fields::of_step(bound.get(i).map_or(Fields::Any, |b| b.fields.clone())))
        .collect();
    let mut cx = Cx {
        graph: &graph,
        flow,
        inputs,
        setters,
        groups: HashMap::new(),
        names,
        unusable: flow.unusable_names.iter().map(String::as_str).collect(),
        unread,
        index,
        fields,
        kind_unknown: (0..n)
            .map(|i| bound.get(i).is_some_and(|b| b.kind_unknown))
            .collect(),
        secrets: flow.secrets.iter().map(|s| s.name.value.as_str()).collect(),
        suggestions,
    };

    for (i, step) in flow.steps.iter().enumerate() {
        if !graph.reachable(i) {
            out.push(
                Diagnostic::warning("W001", format!("step `{}` is never reached", step.id.value), step.id.span)
                    .with_help("no step before it falls through or jumps to it; remove it, or point a `next:` or `on_error:` at it"),
            );
            continue;
        }
        let place = format!("{} step `{}`", step.kind.value, step.id.value);
        let credentials: HashSet<*const Template> = credential_positions(step)
            .into_iter()
            .map(std::ptr::from_ref)
            .collect();
        let mut templates = step.spec.templates();
        templates.extend(step.when.as_ref());
        for t in templates {
            let secrets_allowed = credentials.contains(&std::ptr::from_ref(t));
            for r in t.references() {
                out.extend(cx.check(r, i, secrets_allowed, &place));
            }
        }
    }
    if graph.reachable(n) {
        for (name, value) in &flow.outputs {
            for r in value.references() {
                out.extend(cx.check(r, n, false, &format!("output `{}`", name.value)));
            }
        }
    }
    out
}

/// "did you mean" against `candidates`, while the file's budget of comparisons lasts.
fn suggest(word: &str, candidates: &[&str], budget: &mut usize) -> Option<String> {
    if candidates.len() > *budget {
        *budget = 0;
        return None;
    }
    *budget -= candidates.len();
    help_did_you_mean(word, candidates.iter().copied())
}

/// An error for each loop a run can enter and never leave: it would run until the step limit.
fn loops_without_exit(
    flow: &Flow,
    graph: &ControlGraph,
    uncertain: &HashSet<usize>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for members in graph.closed_loops() {
        if members.iter().any(|i| uncertain.contains(i)) {
            continue;
        }
        // Follow the steps as a run would (each step succeeding) from the first one in the
        // file, to name the loop in run order and find the jump that closes it.
        let mut path = vec![members[0]];
        let mut seen = HashSet::from([members[0]]);
        let closing = loop {
            let here = *path.last().unwrap_or(&members[0]);
            let next = graph
                .edges(here)
                .iter()
                .find(|e| e.kind == EdgeKind::Success)
                .map_or(here, |e| e.to);
            if !seen.insert(next) {
                path.push(next);
                break here;
            }
            path.push(next);
        };
        let step = &flow.steps[closing];
        let (span, what) = match &step.next {
            Some(label) => (label.span, format!("`next: {}`", label.value)),
            None => (step.id.span, format!("step `{}`", step.id.value)),
        };
        let order: Vec<&str> = path
            .iter()
            .map(|&i| flow.steps[i].id.value.as_str())
            .collect();
        let message = if members.len() == 1 {
            format!("{what} makes step `{}` repeat forever", step.id.value)
        } else {
            format!(
                "{what} closes a loop of {} steps with no way out",
                members.len()
            )
        };
        out.push(
            Diagnostic::error("E014", message, span)
                .with_label("the run can never leave this loop")
                .with_note(format!("the loop: {}", order.join(" -> ")))
                .with_help(format!(
                    "give a step in the loop a `when:` that can be false, or an `on_error:` that leads out of it; as written, the run would repeat it until the {STEP_LIMIT}-step limit"
                )),
        );
    }
    out
}

/// A wait step's `on_timeout:` step.
fn on_timeout(step: &StepDecl) -> Option<&Spanned<String>> {
    match &step.spec {
        StepSpec::Wait(w) => w.on_timeout.as_ref(),
        _ => None,
    }
}

/// Where secrets may go: an http step's auth and headers; anywhere in a plugin step, which is
/// trusted with credentials like any integration.
fn credential_positions(step: &StepDecl) -> Vec<&Template> {
    match &step.spec {
        StepSpec::Http(h) => {
            let mut v = h.auth_templates();
            v.extend(h.headers.iter().map(|(_, t)| t));
            v
        }
        StepSpec::Plugin(_) => step.spec.templates(),
        StepSpec::Message(_) | StepSpec::Set(_) | StepSpec::Flow(_) | StepSpec::Wait(_) => {
            Vec::new()
        }
    }
}

struct Cx<'a> {
    graph: &'a ControlGraph,
    flow: &'a Flow,
    inputs: HashSet<&'a str>,
    /// The steps that set each variable.
    setters: HashMap<&'a str, Vec<usize>>,
    /// For variables set by several steps: the nodes reachable without any of them succeeding,
    /// computed once per set of steps.
    groups: HashMap<Vec<usize>, Vec<bool>>,
    /// Every variable name, sorted, for suggestions.
    names: Vec<&'a str>,
    unusable: HashSet<&'a str>,
    unread: HashMap<&'a str, usize>,
    index: HashMap<&'a str, usize>,
    fields: Vec<Fields>,
    /// Per step: its type has no registered kind ([`BoundStep::kind_unknown`]).
    kind_unknown: Vec<bool>,
    secrets: Vec<&'a str>,
    suggestions: usize,
}

impl<'a> Cx<'a> {
    /// Whether variable `name` is set on every path to node `at`.
    fn defined(&mut self, name: &str, at: usize) -> bool {
        if self.inputs.contains(name) {
            return true;
        }
        match self.setters.get(name).map(Vec::as_slice) {
            None | Some([]) => false,
            Some([one]) => self.graph.succeeds_before(*one, at),
            Some(many) => {
                let graph = self.graph;
                let without = self
                    .groups
                    .entry(many.to_vec())
                    .or_insert_with(|| graph.reachable_without(many));
                !without[at]
            }
        }
    }

    fn check(
        &mut self,
        r: &Reference,
        at: usize,
        secrets_allowed: bool,
        place: &str,
    ) -> Option<Diagnostic> {
        let name = r.path.join(".");
        match r.path.first().map(String::as_str) {
            // `this`, alone or as a helper's argument (`json this`, `lookup this KEY`): every
            // variable at once, which in a credential position includes every secret, and
            // which no reader of the flow can trace to what it really sends.
            None => Some(
                Diagnostic::error(
                    "E012",
                    format!("`this` reads every variable at once in {place}"),
                    r.span,
                )
                .with_label("this would let the expression reach values it does not name, secrets included")
                .with_help("name what you read: `<<amount_paise>>`, `<<steps.ID.body>>`, `<<lookup steps.ID.body KEY>>`"),
            ),
            Some("secrets") => {
                let Some(secret) = r.path.get(1) else {
                    if !secrets_allowed {
                        return Some(secret_misplaced("", place, r));
                    }
                    return Some(
                        Diagnostic::error("E005", "`<<secrets>>` reads no secret", r.span)
                            .with_help("write `<<secrets.NAME>>`"),
                    );
                };
                if !self.secrets.contains(&secret.as_str()) {
                    return Some(
                        Diagnostic::error(
                            "E005",
                            format!("secret `{secret}` is not declared"),
                            r.span,
                        )
                        .with_help(
                            help_did_you_mean(secret, self.secrets.iter().copied()).unwrap_or_else(
                                || format!("add `{secret}` to the flow's `secrets:` list"),
                            ),
                        ),
                    );
                }
                if !secrets_allowed {
                    return Some(secret_misplaced(secret, place, r));
                }
                None
            }
            // `default`'s first argument may be undefined: that is what it is for.
            Some(_) if r.optional => None,
            Some("steps") => {
                let Some(step) = r.path.get(1) else {
                    return Some(
                        Diagnostic::error("E005", "`<<steps>>` names no step", r.span)
                            .with_help("write `<<steps.ID.status>>`"),
                    );
                };
                let Some(&i) = self.index.get(step.as_str()) else {
                    if self.unread.contains_key(step.as_str()) {
                        return None;
                    }
                    let ids: Vec<&str> = self
                        .flow
                        .steps
                        .iter()
                        .map(|s| s.id.value.as_str())
                        .collect();
                    return Some(
                        Diagnostic::error(
                            "E005",
                            format!("`{name}` reads unknown step `{step}`"),
                            r.span,
                        )
                        .with_help_opt(suggest(
                            step,
                            &ids,
                            &mut self.suggestions,
                        )),
                    );
                };
                if !self.graph.runs_before(i, at) {
                    return Some(Diagnostic::error(
                        "E005",
                        format!(
                            "`{name}` reads step `{step}`, which does not run before {place} on every path"
                        ),
                        r.span,
                    ));
                }
                self.check_field(r, i)
            }
            Some("run") if r.path.len() == 2 && r.path[1] == "id" => None,
            Some(first) => {
                // Handlebars reads `1e308` as a name, not a number: say what it is.
                let written = r.path.join(".");
                if written.contains(['e', 'E'])
                    && crate::literal_number::is_json_number(written.trim_start_matches('-'))
                {
                    return Some(
                        Diagnostic::error(
                            "E010",
                            format!(
                                "`{written}` is a number with an exponent, which expressions cannot read"
                            ),
                            r.span,
                        )
                        .with_help("write it out in digits (`1e3` is `1000`), or pass it as an input"),
                    );
                }
                if self.defined(first, at) || self.unusable.contains(first) {
                    return None;
                }
                if self.inputs.contains(first) || self.setters.contains_key(first) {
                    return Some(
                        Diagnostic::error("E005", format!("variable `{first}` may be undefined in {place}"), r.span)
                            .with_label("not set on every path that reaches here")
                            .with_help(format!("a step that sets `{first}` can be skipped, fail or be jumped over before this one; set it on every path, or use `<<default {first} ...>>`")),
                    );
                }
                // Suggestions are names set on every path to here, while the budget lasts.
                let names = std::mem::take(&mut self.names);
                let candidates: Vec<&str> = if names.len() <= self.suggestions {
                    self.suggestions -= names.len();
                    names
                        .iter()
                        .copied()
                        .filter(|n| self.defined(n, at))
                        .collect()
                } else {
                    self.suggestions = 0;
                    Vec::new()
                };
                self.names = names;
                let help = help_did_you_mean(first, candidates).unwrap_or_else(|| {
                    match self.plugin_before(at) {
                        // A type nothing registered: most likely misspelt, fixed first.
                        Some((i, step)) if self.kind_unknown[i] => format!(
                            "declare `{first}` under `inputs:`, or map it from an earlier step's response; step `{}` before it has a type flowstep does not know (`{}`), so what it would set is unknown: fix its type first",
                            step.id.value, step.kind.value
                        ),
                        // A plugin step that sets it but did not say so is the likely cause.
                        Some((_, step)) => format!(
                            "declare `{first}` under `inputs:`, or map it from an earlier step's response; if {} step `{}` sets it, its step kind must declare it in `Step::defines` (`.defines([\"{first}\"])` for a `step_fn`), so that the check knows",
                            step.kind.value, step.id.value
                        ),
                        None => format!("declare `{first}` under `inputs:`, or map it from an earlier step's response; for a literal `<<`, write `\\<<` ({ESCAPE_NOTE})"),
                    }
                });
                Some(
                    Diagnostic::error(
                        "E005",
                        format!("undefined variable `{first}` in {place}"),
                        r.span,
                    )
                    .with_help(help),
                )
            }
        }
    }

    /// The last plugin step (a type the format does not know) written before step `at` (or
    /// before the outputs).
    fn plugin_before(&self, at: usize) -> Option<(usize, &'a StepDecl)> {
        self.flow.steps[..at.min(self.flow.steps.len())]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, s)| matches!(s.spec, StepSpec::Plugin(_)))
    }

    /// `<<steps.ID.FIELD...>>` must name a field step `ID` has.
    fn check_field(&mut self, r: &Reference, i: usize) -> Option<Diagnostic> {
        let (bad, possible) = self.fields[i].check(&r.path[2..]).err()?;
        let step = &self.flow.steps[i];
        let field = &r.path[2 + bad];
        let parent = r.path[..2 + bad].join(".");
        let possible: Vec<&str> = possible.into_iter().collect();
        let (message, help) = if possible.is_empty() {
            (
                format!("`{parent}` has no fields, so `{field}` cannot be read from it"),
                format!("read the value itself: `<<{parent}>>`"),
            )
        } else if bad == 0 && field == "messages" && matches!(step.spec, StepSpec::Flow(_)) {
            (
                format!(
                    "{} step `{}` has no field `{field}`",
                    step.kind.value, step.id.value
                ),
                format!(
                    "add `messages: output` to step `{}` to read the used flow's messages here (they are then not sent)",
                    step.id.value
                ),
            )
        } else if bad == 0 {
            (
                format!(
                    "{} step `{}` has no field `{field}`",
                    step.kind.value, step.id.value
                ),
                suggest(field, &possible, &mut self.suggestions)
                    .unwrap_or_else(|| format!("its fields are: {}", possible.join(", "))),
            )
        } else {
            (
                format!("`{parent}` has no field `{field}`"),
                suggest(field, &possible, &mut self.suggestions)
                    .unwrap_or_else(|| format!("its fields are: {}", possible.join(", "))),
            )
        };
        Some(Diagnostic::error("E005", message, r.span).with_help(help))
    }
}

/// E012 for a secret (`name`, or all of them when empty) read where secrets may not go.
fn secret_misplaced(name: &str, place: &str, r: &Reference) -> Diagnostic {
    let what = if name.is_empty() {
        "the secrets".to_owned()
    } else {
        format!("secret `{name}`")
    };
    Diagnostic::error(
        "E012",
        format!("{what} used in {place} outside auth or headers"),
        r.span,
    )
    .with_label("this would put the secret where it can be seen or logged")
    .with_help("secrets may only be used in an http step's `auth` or `headers`, whatever helper wraps them")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::read;
    use crate::source::SourceFile;

    /// The E-codes and messages `check_variables` reports for a flow with secret `K`, input
    /// `name`, and `steps` (indented under `steps:`).
    fn problems(steps: &str) -> Vec<(String, String)> {
        let yaml =
            format!("flow: f\ninputs:\n  name: {{ type: string }}\nsecrets: [K]\nsteps:\n{steps}");
        let flow = read(SourceFile::new("f.yaml", yaml)).unwrap_or_else(|d| panic!("{d:?}"));
        check_variables(&flow, &vec![BoundStep::default(); flow.steps.len()])
            .into_iter()
            .map(|d| (d.code.to_owned(), d.message))
            .collect()
    }

    fn message(text: &str) -> Vec<(String, String)> {
        problems(&format!(
            "  - id: m\n    type: message\n    text: '{text}'\n"
        ))
    }

    #[test]
    fn a_secret_wrapped_in_any_helper_is_refused_outside_credentials() {
        for expr in [
            r#"<<default secrets.K "x">>"#,
            "<<json secrets.K>>",
            r#"<<concat "a" secrets.K>>"#,
            "<<upper (trim secrets.K)>>",
            r#"<<eq secrets.K "x">>"#,
            "<<len secrets.K>>",
            r#"<<default (default secrets.K "y") "x">>"#,
        ] {
            assert_eq!(
                message(&format!("Hi {expr}")),
                [(
                    "E012".to_owned(),
                    "secret `K` used in message step `m` outside auth or headers".to_owned()
                )],
                "{expr}"
            );
        }
        for expr in [r#"<<lookup secrets "K">>"#, "<<json secrets>>"] {
            assert_eq!(
                message(expr),
                [(
                    "E012".to_owned(),
                    "the secrets used in message step `m` outside auth or headers".to_owned()
                )],
                "{expr}"
            );
        }
    }

    #[test]
    fn reading_the_whole_scope_is_refused_everywhere() {
        for expr in [
            "<<json this>>",
            r#"<<lookup this "secrets">>"#,
            r#"<<lookup (lookup this "secrets") "K">>"#,
            "<<default this 1>>",
            r#"<<default (lookup this "secrets") "x">>"#,
        ] {
            assert_eq!(
                message(expr),
                [(
                    "E012".to_owned(),
                    "`this` reads every variable at once in message step `m`".to_owned()
                )],
                "{expr}"
            );
        }
        // In a header, where secrets may go, `this` would still reach every one of them.
        let p = problems(
            "  - id: h\n    type: http\n    url: https://api.example.com/x\n    headers:\n      X-All: '<<json this>>'\n",
        );
        assert_eq!(
            p,
            [(
                "E012".to_owned(),
                "`this` reads every variable at once in http step `h`".to_owned()
            )]
        );
    }

    #[test]
    fn secrets_are_refused_in_every_non_credential_position() {
        let p = problems(concat!(
            "  - id: s\n    type: set\n    values:\n      x: '<<default secrets.K \"\">>'\n",
            "  - id: h\n    type: http\n    when: '<<eq secrets.K \"a\">>'\n",
            "    url: 'https://api.example.com/<<secrets.K>>'\n",
            "    query: { q: '<<concat secrets.K>>' }\n",
            "    body_type: json\n    body: { k: '<<json secrets.K>>' }\n",
        ));
        let places: Vec<&str> = p
            .iter()
            .map(|(c, m)| {
                assert_eq!(c, "E012", "{m}");
                m.as_str()
            })
            .collect();
        assert_eq!(
            places,
            [
                "secret `K` used in set step `s` outside auth or headers",
                "secret `K` used in http step `h` outside auth or headers",
                "secret `K` used in http step `h` outside auth or headers",
                "secret `K` used in http step `h` outside auth or headers",
                "secret `K` used in http step `h` outside auth or headers",
            ]
        );
    }

    #[test]
    fn credentials_may_read_secrets_through_helpers() {
        let p = problems(concat!(
            "  - id: h\n    type: http\n    url: https://api.example.com/x\n",
            "    auth: { type: basic, username: '<<default secrets.K \"\">>', password: '' }\n",
            "    headers:\n      X-Key: 'k=<<trim secrets.K>>'\n",
        ));
        assert_eq!(p, []);
    }

    #[test]
    fn default_still_lets_its_first_argument_be_undefined() {
        assert_eq!(message(r#"<<default nickname name>>"#), []);
        assert_eq!(
            message(r#"<<default secrets.NOPE "x">>"#),
            [(
                "E005".to_owned(),
                "secret `NOPE` is not declared".to_owned()
            )]
        );
    }
}
