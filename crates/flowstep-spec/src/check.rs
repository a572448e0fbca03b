//! Static checks across the whole flow: every variable is defined on every path that reaches
//! its use, jumps name real steps, every step can be reached, and secrets are declared and used
//! only where credentials go.
//!
//! Definedness is a "must" data-flow analysis over the flow's control graph (steps in order,
//! `when` skips, `next` jumps, `on_error` paths): a variable is defined at a step only if every
//! path from the start to that step defines it.

use crate::diagnostic::Diagnostic;
use crate::flow::Flow;
use crate::source::Spanned;
use crate::steps::{OnError, StepDecl, StepSpec};
use crate::suggest::help_did_you_mean;
use crate::template::{ESCAPE_NOTE, Reference, Template};
use std::collections::BTreeSet;

/// Names defined on every path: `None` is "everything" (the start of the analysis for nodes not
/// yet reached), so that intersecting with it changes nothing.
type Defined = Option<BTreeSet<String>>;

/// The pseudo-name that says step `id` has been reached (so `<<steps.id...>>` is readable).
fn reached(id: &str) -> String {
    format!("steps.{id}")
}

/// Checks every template of the flow. `plugin_defines[i]` lists the variables that step `i`
/// sets beyond what the spec knows (plugin steps declare theirs when they are bound).
pub fn check_variables(flow: &Flow, plugin_defines: &[Vec<String>]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let n = flow.steps.len();
    let index = |id: &str| flow.steps.iter().position(|s| s.id.value == id);
    let ids: Vec<&str> = flow.steps.iter().map(|s| s.id.value.as_str()).collect();

    // Jump targets; an unknown one is reported and treated as the end of the flow.
    let mut target = |label: &Spanned<String>, key: &str| -> usize {
        index(&label.value).unwrap_or_else(|| {
            out.push(
                Diagnostic::error(
                    "E005",
                    format!("`{key}` names unknown step `{}`", label.value),
                    label.span,
                )
                .with_help(
                    help_did_you_mean(&label.value, ids.iter().copied())
                        .unwrap_or_else(|| format!("steps are: {}", ids.join(", "))),
                ),
            );
            n
        })
    };
    // The control graph: for each step, its out-edges with what each adds to the defined set.
    let mut edges: Vec<Vec<(usize, Vec<String>)>> = Vec::with_capacity(n);
    for (i, step) in flow.steps.iter().enumerate() {
        let here = reached(&step.id.value);
        let mut defines: Vec<String> = step
            .spec
            .defines()
            .into_iter()
            .map(|d| d.value.clone())
            .collect();
        defines.extend(plugin_defines.get(i).cloned().unwrap_or_default());
        defines.push(here.clone());
        let after = step.next.as_ref().map_or(i + 1, |nx| target(nx, "next"));
        let mut e = vec![(after, defines)];
        if step.when.is_some() {
            e.push((i + 1, vec![here.clone()]));
        }
        match &step.on_error {
            OnError::Fail => {}
            OnError::Continue => e.push((after, vec![here.clone()])),
            OnError::Goto(label) => e.push((target(label, "on_error"), vec![here.clone()])),
        }
        edges.push(e);
    }

    // Fixed point of in[j] = ∩ over edges i→j of (in[i] ∪ adds), with in[0] = inputs.
    let start: BTreeSet<String> = flow.inputs.iter().map(|i| i.name.value.clone()).collect();
    let mut defined: Vec<Defined> = vec![None; n + 1];
    let mut reachable = vec![false; n + 1];
    defined[0] = Some(start);
    reachable[0] = true;
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..n {
            if !reachable[i] {
                continue;
            }
            let Some(here) = defined[i].clone() else {
                continue;
            };
            for (to, adds) in &edges[i] {
                let mut flowing = here.clone();
                flowing.extend(adds.iter().cloned());
                let merged = match &defined[*to] {
                    None => flowing,
                    Some(existing) => existing.intersection(&flowing).cloned().collect(),
                };
                if !reachable[*to] || defined[*to].as_ref() != Some(&merged) {
                    reachable[*to] = true;
                    defined[*to] = Some(merged);
                    changed = true;
                }
            }
        }
    }

    let secrets: Vec<&str> = flow.secrets.iter().map(|s| s.name.value.as_str()).collect();
    let all_names: Vec<String> = all_defined_names(flow, plugin_defines);
    for (i, step) in flow.steps.iter().enumerate() {
        if !reachable[i] {
            out.push(
                Diagnostic::warning("W001", format!("step `{}` is never reached", step.id.value), step.id.span)
                    .with_help("no step before it falls through or jumps to it; remove it, or point a `next:` or `on_error:` at it"),
            );
            continue;
        }
        let defined_here = defined[i].clone().unwrap_or_default();
        let cx = Cx {
            defined: &defined_here,
            all_names: &all_names,
            unusable: &flow.unusable_names,
            secrets: &secrets,
            steps: &ids,
        };
        let place = format!("{} step `{}`", step.kind.value, step.id.value);
        let credentials = credential_positions(step);
        let mut templates = step.spec.templates();
        templates.extend(step.when.as_ref());
        for t in templates {
            let secrets_allowed = credentials.iter().any(|c| std::ptr::eq(*c, t));
            for r in t.references() {
                out.extend(cx.check(r, secrets_allowed, &place));
            }
        }
    }
    if reachable[n] {
        let defined_end = defined[n].clone().unwrap_or_default();
        let cx = Cx {
            defined: &defined_end,
            all_names: &all_names,
            unusable: &flow.unusable_names,
            secrets: &secrets,
            steps: &ids,
        };
        for (name, value) in &flow.outputs {
            for r in value.references() {
                out.extend(cx.check(r, false, &format!("output `{}`", name.value)));
            }
        }
    }
    out
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
        StepSpec::Message(_) | StepSpec::Set(_) | StepSpec::Flow(_) => Vec::new(),
    }
}

/// Every variable any step defines, to tell "defined on some paths only" from "never defined".
fn all_defined_names(flow: &Flow, plugin_defines: &[Vec<String>]) -> Vec<String> {
    let mut names: Vec<String> = flow.inputs.iter().map(|i| i.name.value.clone()).collect();
    for step in &flow.steps {
        names.extend(step.spec.defines().into_iter().map(|d| d.value.clone()));
    }
    names.extend(plugin_defines.iter().flatten().cloned());
    names
}

struct Cx<'a> {
    defined: &'a BTreeSet<String>,
    all_names: &'a [String],
    unusable: &'a [String],
    secrets: &'a [&'a str],
    steps: &'a [&'a str],
}

impl Cx<'_> {
    fn check(&self, r: &Reference, secrets_allowed: bool, place: &str) -> Option<Diagnostic> {
        let name = r.path.join(".");
        match r.path.first().map(String::as_str) {
            Some("secrets") => {
                let Some(secret) = r.path.get(1) else {
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
                    return Some(
                        Diagnostic::error(
                            "E012",
                            format!("secret `{secret}` used in {place} outside auth or headers"),
                            r.span,
                        )
                        .with_label("this would put the secret where it can be seen or logged")
                        .with_help(
                            "secrets may only be used in an http step's `auth` or `headers`",
                        ),
                    );
                }
                None
            }
            Some("steps") => {
                let Some(step) = r.path.get(1) else {
                    return Some(
                        Diagnostic::error("E005", "`<<steps>>` names no step", r.span)
                            .with_help("write `<<steps.ID.status>>`"),
                    );
                };
                if self.defined.contains(&reached(step)) {
                    return None;
                }
                if self.steps.contains(&step.as_str()) {
                    return Some(Diagnostic::error(
                        "E005",
                        format!(
                            "`{name}` reads step `{step}`, which does not run before {place} on every path"
                        ),
                        r.span,
                    ));
                }
                Some(
                    Diagnostic::error(
                        "E005",
                        format!("`{name}` reads unknown step `{step}`"),
                        r.span,
                    )
                    .with_help_opt(help_did_you_mean(step, self.steps.iter().copied())),
                )
            }
            Some("run") if r.path.len() == 2 && r.path[1] == "id" => None,
            Some(first) => {
                if self.defined.contains(first) || self.unusable.iter().any(|d| d == first) {
                    return None;
                }
                if self.all_names.iter().any(|d| d == first) {
                    return Some(
                        Diagnostic::error("E005", format!("variable `{first}` may be undefined in {place}"), r.span)
                            .with_label("not set on every path that reaches here")
                            .with_help(format!("a step that sets `{first}` can be skipped, fail or be jumped over before this one; set it on every path, or use `<<default {first} ...>>`")),
                    );
                }
                let candidates = self
                    .defined
                    .iter()
                    .filter(|d| !d.starts_with("steps."))
                    .map(String::as_str);
                Some(
                    Diagnostic::error("E005", format!("undefined variable `{first}` in {place}"), r.span).with_help(
                        help_did_you_mean(first, candidates).unwrap_or_else(|| {
                            format!("declare `{first}` under `inputs:`, or map it from an earlier step's response; for a literal `<<`, write `\\<<` ({ESCAPE_NOTE})")
                        }),
                    ),
                )
            }
            None => None,
        }
    }
}
