//! The built-in `message` step: renders its text (and its buttons or template parameters),
//! checks WhatsApp's limits on the rendered values, and hands the message to the channel.

use crate::error::StepError;
use crate::message_content::{MessageContent, ReplyButton};
use crate::position::SourcePos;
use crate::step::{RunMode, Step, StepContext};
use async_trait::async_trait;
use flowstep_spec::message_limits::{self as limits, MAX_BUTTON_ID, MAX_BUTTON_TITLE};
use flowstep_spec::steps::message::{language_problem, template_name_problem};
use flowstep_spec::steps::{ContentSpec, MessageSpec, StepDecl, StepSpec};
use flowstep_spec::template::Reference;
use flowstep_spec::{Diagnostic, Fields, Flow, Template};
use serde_json::json;

/// `type: message`.
pub struct MessageStep {
    spec: MessageSpec,
}

/// Binds a `type: message` declaration.
pub fn bind(step: &StepDecl, _flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
    match &step.spec {
        StepSpec::Message(m) => Ok(Box::new(MessageStep { spec: m.clone() })),
        _ => Err(vec![Diagnostic::error(
            "E008",
            "`message` steps are built in; this step is not one",
            step.kind.span,
        )]),
    }
}

/// Renders one template of the step: for real, or for a dry run's display.
type Render<'r> = dyn Fn(&Template) -> Result<String, StepError> + 'r;

impl MessageStep {
    /// The text and content, each value rendered by `render` and checked (by `check`) against
    /// WhatsApp's limits.
    fn build(
        &self,
        render: &Render<'_>,
        check: &Checker<'_>,
    ) -> Result<(String, MessageContent), StepError> {
        let text = match &self.spec.text {
            Some(t) => {
                let v = render(t)?;
                let max = if self.spec.content == ContentSpec::Text {
                    limits::MAX_TEXT
                } else {
                    limits::MAX_INTERACTIVE_BODY
                };
                check.at(t, limits::blank("the message text", &v))?;
                check.at(t, limits::too_long("the message text", &v, max))?;
                v
            }
            None => String::new(),
        };
        let content = match &self.spec.content {
            ContentSpec::Text => MessageContent::Text {
                preview_url: self.spec.preview_url,
            },
            ContentSpec::LinkButton { title, url } => {
                let (title_v, url_v) = (render(title)?, render(url)?);
                check.at(title, limits::blank("the button title", &title_v))?;
                check.at(
                    title,
                    limits::too_long("the button title", &title_v, MAX_BUTTON_TITLE),
                )?;
                check.at(url, limits::bad_url(&url_v))?;
                MessageContent::LinkButton {
                    title: title_v,
                    url: url_v,
                }
            }
            ContentSpec::ReplyButtons(specs) => {
                let mut buttons: Vec<ReplyButton> = Vec::new();
                for b in specs {
                    let (id, title) = (render(&b.id)?, render(&b.title)?);
                    check.at(&b.id, limits::blank("the button id", &id))?;
                    check.at(&b.id, limits::too_long("the button id", &id, MAX_BUTTON_ID))?;
                    check.at(&b.title, limits::blank("the button title", &title))?;
                    check.at(
                        &b.title,
                        limits::too_long("the button title", &title, MAX_BUTTON_TITLE),
                    )?;
                    let twice = buttons.iter().any(|seen| seen.id == id);
                    check.at(
                        &b.id,
                        twice.then(|| format!("two reply buttons have the id `{id}`")),
                    )?;
                    buttons.push(ReplyButton { id, title });
                }
                MessageContent::ReplyButtons { buttons }
            }
            ContentSpec::Template(t) => {
                let name = render(&t.name)?;
                check.at(&t.name, template_name_problem(&name))?;
                let language = render(&t.language)?;
                check.at(&t.language, language_problem(&language))?;
                let mut body = Vec::new();
                for p in &t.body {
                    let v = render(p)?;
                    check.at(p, limits::blank("a template body parameter", &v))?;
                    body.push(v);
                }
                let url_button = match &t.url_button {
                    Some(u) => {
                        let v = render(u)?;
                        check.at(u, limits::blank("the template's URL button parameter", &v))?;
                        Some(v)
                    }
                    None => None,
                };
                let text = MessageContent::template_summary(
                    &name,
                    &language,
                    &body,
                    url_button.as_deref(),
                );
                return Ok((
                    text,
                    MessageContent::Template {
                        name,
                        language,
                        body,
                        url_button,
                    },
                ));
            }
        };
        Ok((text, content))
    }
}

/// Turns a limit problem into the step's error, at the value's place in the file (a dry run
/// shows values it cannot know yet, so it checks nothing).
struct Checker<'c> {
    file: Option<&'c std::sync::Arc<flowstep_spec::SourceFile>>,
}

impl Checker<'_> {
    fn at(&self, t: &Template, problem: Option<String>) -> Result<(), StepError> {
        match (problem, self.file) {
            (Some(p), Some(file)) => Err(StepError::invalid(format!("message not sent: {p}"))
                .located_at(SourcePos::new(file.clone(), t.span()))),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Step for MessageStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
        if cx.mode() == RunMode::DryRun {
            // What only a response would give is shown as such, never computed from a
            // stand-in; the message is in the outcome's `messages`, marked as not sent.
            let pending = cx.pending;
            let templates = &cx.flow().templates;
            let scope = cx.scope();
            let render = |t: &Template| {
                Ok(
                    templates.render_for_display_with(t, scope, &|r: &Reference| {
                        crate::step::pending_source(pending, r).cloned()
                    }),
                )
            };
            let (text, content) = self.build(&render, &Checker { file: None })?;
            cx.record(
                "message",
                json!({ "text": content.readable(&text), "sent": false }),
            );
            cx.send_content(text, content).await?;
            return Ok(());
        }
        let file = cx.flow().file.clone();
        let (text, content) = {
            let render = |t: &Template| cx.render_text(t);
            self.build(&render, &Checker { file: Some(&file) })?
        };
        let delivery = cx.send_content(text, content).await?;
        if let Some(id) = delivery.id {
            cx.expose("delivery_id", json!(id));
        }
        Ok(())
    }

    fn fields(&self) -> Fields {
        Fields::named([("delivery_id", Fields::leaf())])
    }
}
