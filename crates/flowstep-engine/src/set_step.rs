//! The built-in `set` step: computes variables from templates.

use crate::error::StepError;
use crate::step::{Step, StepContext};
use async_trait::async_trait;
use flowstep_spec::steps::{StepDecl, StepSpec};
use flowstep_spec::{Diagnostic, Fields, Flow, ValueTemplate};

/// `type: set`.
pub struct SetStep {
    values: Vec<(String, ValueTemplate)>,
}

/// Binds a `type: set` declaration.
pub fn bind(step: &StepDecl, _flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
    match &step.spec {
        StepSpec::Set(s) => Ok(Box::new(SetStep {
            values: s
                .values
                .iter()
                .map(|(k, v)| (k.value.clone(), v.clone()))
                .collect(),
        })),
        _ => Err(vec![Diagnostic::error(
            "E008",
            "`set` steps are built in; this step is not one",
            step.kind.span,
        )]),
    }
}

#[async_trait]
impl Step for SetStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        // Every value is rendered against the variables as they were before the step, so the
        // order of `values` does not matter.
        let mut rendered = Vec::with_capacity(self.values.len());
        let mut pending = Vec::new();
        for (name, value) in &self.values {
            // In a dry run, a value computed from a stand-in would be a made-up value: it is
            // a stand-in too, saying what it depends on.
            match value.templates().into_iter().find_map(|t| cx.depends_on(t)) {
                Some(source) => pending.push((name.clone(), source)),
                None => rendered.push((name.clone(), cx.render_value(value)?)),
            }
        }
        for (name, value) in rendered {
            cx.set_var(name, value)?;
        }
        for (name, source) in pending {
            let shown = format!("<{name}: depends on {source}>");
            cx.set_pending(name, shown, source)?;
        }
        Ok(())
    }

    fn fields(&self) -> Fields {
        Fields::leaf()
    }
}
