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
        for (name, value) in &self.values {
            rendered.push((name.clone(), cx.render_value(value)?));
        }
        for (name, value) in rendered {
            cx.set_var(name, value);
        }
        Ok(())
    }

    fn fields(&self) -> Fields {
        Fields::leaf()
    }
}
