//! Static checks across the whole flow: every variable is defined before it is read, every
//! secret is declared and used only where credentials go.

use crate::diagnostic::Diagnostic;
use crate::flow::Flow;
use crate::steps::StepSpec;
use crate::suggest::help_did_you_mean;
use crate::template::{Reference, Template};

/// Checks every template of the flow. `plugin_defines[i]` lists the variables that step `i`
/// sets beyond what the spec knows (plugin steps declare theirs when they are bound).
pub fn check_variables(flow: &Flow, plugin_defines: &[Vec<String>]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut defined: Vec<String> = flow.inputs.iter().map(|i| i.name.value.clone()).collect();
    let secrets: Vec<&str> = flow.secrets.iter().map(|s| s.name.value.as_str()).collect();
    let mut earlier_steps: Vec<&str> = Vec::new();
    for (i, step) in flow.steps.iter().enumerate() {
        let cx = Cx {
            defined: &defined,
            unusable: &flow.unusable_names,
            secrets: &secrets,
            steps: &earlier_steps,
        };
        let credential_positions: Vec<&Template> = match &step.spec {
            StepSpec::Http(h) => {
                let mut v = h.auth_templates();
                v.extend(h.headers.iter().map(|(_, t)| t));
                v
            }
            StepSpec::Message(_) => Vec::new(),
            // A plugin may well be a credential-carrying integration; it is trusted with them.
            StepSpec::Plugin(_) => step.spec.templates(),
        };
        for t in step.spec.templates() {
            let secrets_allowed = credential_positions.iter().any(|c| std::ptr::eq(*c, t));
            for r in t.references() {
                if let Some(d) = cx.check(
                    r,
                    secrets_allowed,
                    &format!("{} step `{}`", step.kind.value, step.id.value),
                ) {
                    out.push(d);
                }
            }
        }
        defined.extend(step.spec.defines().into_iter().map(|n| n.value.clone()));
        if let Some(extra) = plugin_defines.get(i) {
            defined.extend(extra.iter().cloned());
        }
        earlier_steps.push(&step.id.value);
    }
    let cx = Cx {
        defined: &defined,
        unusable: &flow.unusable_names,
        secrets: &secrets,
        steps: &earlier_steps,
    };
    for (name, value) in &flow.outputs {
        for r in value.references() {
            if let Some(d) = cx.check(r, false, &format!("output `{}`", name.value)) {
                out.push(d);
            }
        }
    }
    out
}

struct Cx<'a> {
    defined: &'a [String],
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
                if self.steps.contains(&step.as_str()) {
                    return None;
                }
                Some(
                    Diagnostic::error(
                        "E005",
                        format!("`{name}` reads step `{step}`, which has not run before {place}"),
                        r.span,
                    )
                    .with_help_opt(help_did_you_mean(step, self.steps.iter().copied())),
                )
            }
            Some("run") if r.path.len() == 2 && r.path[1] == "id" => None,
            Some(first) => {
                if self.defined.iter().any(|d| d == first)
                    || self.unusable.iter().any(|d| d == first)
                {
                    return None;
                }
                Some(
                    Diagnostic::error("E005", format!("undefined variable `{first}` in {place}"), r.span).with_help(
                        help_did_you_mean(first, self.defined.iter().map(String::as_str)).unwrap_or_else(|| {
                            format!("declare `{first}` under `inputs:`, or map it from an earlier step's response")
                        }),
                    ),
                )
            }
            None => None,
        }
    }
}
