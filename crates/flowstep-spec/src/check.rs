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
        }
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
        check_variables(&flow, &vec![Vec::new(); flow.steps.len()])
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
