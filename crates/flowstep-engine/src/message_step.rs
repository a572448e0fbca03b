//! The built-in `message` step: renders its text and hands it to the channel.

use crate::error::StepError;
use crate::step::{RunMode, Step, StepContext};
use async_trait::async_trait;
use flowstep_spec::steps::{StepDecl, StepSpec};
use flowstep_spec::template::Reference;
use flowstep_spec::{Diagnostic, Fields, Flow, Template};
use serde_json::json;

/// `type: message`.
pub struct MessageStep {
    text: Template,
}

/// Binds a `type: message` declaration.
pub fn bind(step: &StepDecl, _flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
    match &step.spec {
        StepSpec::Message(m) => Ok(Box::new(MessageStep {
            text: m.text.clone(),
        })),
        _ => Err(vec![Diagnostic::error(
            "E008",
            "`message` steps are built in; this step is not one",
            step.kind.span,
        )]),
    }
}

#[async_trait]
impl Step for MessageStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        if cx.mode() == RunMode::DryRun {
            // What only a response would give is shown as such, never computed from a
            // stand-in; the message is in the outcome's `messages`, marked as not sent.
            let pending = cx.pending;
            let text = cx.flow().templates.render_for_display_with(
                &self.text,
                cx.scope(),
                &|r: &Reference| pending.get(r.path.first()?).cloned(),
            );
            cx.record("message", json!({ "text": text, "sent": false }));
            cx.send_message(text).await?;
            return Ok(());
        }
        let text = cx.render_text(&self.text)?;
        let delivery = cx.send_message(text).await?;
        if let Some(id) = delivery.id {
            cx.expose("delivery_id", json!(id));
        }
        Ok(())
    }

    fn fields(&self) -> Fields {
        Fields::named([("delivery_id", Fields::leaf())])
    }
}
