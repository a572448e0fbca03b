//! The plugin seam: a [`Step`] runs one step of a flow; a [`StepKind`] binds a step declaration
//! to a `Step` when a flow is compiled.

use crate::channel::{Channel, Delivery, OutgoingMessage};
use crate::error::{ErrorKind, StepError};
use crate::journal::{Effect, EffectKind, Journal, JournalError};
use crate::message_content::MessageContent;
use crate::outcome::MessageRecord;
use crate::position::SourcePos;
use crate::redact::Redactor;
use crate::run_state::RunState;
use crate::secret::Secret;
use async_trait::async_trait;
use flowstep_spec::flow::RESERVED_NAMES;
use flowstep_spec::reader::is_identifier;
use flowstep_spec::steps::{StepDecl, StepSpec};
use flowstep_spec::{
    Diagnostic, Fields, Flow, Origin, Scope, Template, TemplateEnv, TemplateError, ValueTemplate,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// One runnable step. Implement it to add a step type; register it with
/// [`crate::Engine::register`] under its YAML `type`.
///
/// A plugin step reads its own keys into a type of its own with [`StepContext::keys`] (checked
/// when the flow is compiled by [`crate::check_keys`]), and declares what it sets in
/// [`Step::defines`] so that later steps may read it (checked when the flow is compiled too).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use flowstep_engine::{Engine, RunRequest, Step, StepContext, StepError};
/// use flowstep_spec::SourceFile;
///
/// /// `type: today`: sets `weekday`.
/// struct Today;
/// #[async_trait::async_trait]
/// impl Step for Today {
///     async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
///         cx.set_var("weekday", "Friday")
///     }
///     fn defines(&self) -> Vec<String> {
///         vec!["weekday".into()]
///     }
/// }
///
/// let mut engine = Engine::new();
/// engine.register("today", |_decl, _flow| Ok(Box::new(Today)));
/// let yaml = "flow: f\nsteps:\n  - id: t\n    type: today\n  - id: m\n    type: message\n    text: It is <<weekday>>\n";
/// let (plan, _) = engine.compile_source(SourceFile::new("f.yaml", yaml)).unwrap();
/// let outcome = plan.run(RunRequest::new()).await.unwrap();
/// assert_eq!(outcome.messages[0].text, "It is Friday");
/// # });
/// ```
#[async_trait]
pub trait Step: Send + Sync {
    /// Runs the step. Read templates with [`StepContext::render`], set variables with
    /// [`StepContext::set_var`]; return an error to fail the step (the run records it).
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError>;

    /// The variables this step sets, so that later steps may read them (checked before running).
    fn defines(&self) -> Vec<String> {
        Vec::new()
    }

    /// The fields this step makes readable as `<<steps.ID.FIELD>>` with
    /// [`StepContext::expose`], besides the `status`, `attempts` and `error` every step has.
    /// Declared, they are checked before running, so a misspelt field is an error with a "did
    /// you mean". The default, [`Fields::Any`], leaves them unchecked.
    fn fields(&self) -> Fields {
        Fields::Any
    }
}

/// Binds a step declaration to a [`Step`]: the factory registered for one `type`. Any
/// `Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>>` is one (register a
/// closure with [`crate::Engine::register`], which infers its argument types); implement it on
/// a type of your own, or use a [`step_fn`](crate::step_fn), and register that with
/// [`crate::Engine::register_kind`].
pub trait StepKind: Send + Sync {
    /// Checks the declaration and builds the step, or says what is wrong and where.
    fn bind(&self, step: &StepDecl, flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>>;

    /// The variables every step of this kind sets, when the kind knows them without a step
    /// (a [`step_fn`](crate::step_fn)'s `defines`): used when binding a step fails, so that
    /// reading them later is not reported as undefined on top of the step's own error. The
    /// default, none, makes the check leave such reads after the step unreported instead.
    fn defines(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<F> StepKind for F
where
    F: Fn(&StepDecl, &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> + Send + Sync,
{
    fn bind(&self, step: &StepDecl, flow: &Flow) -> Result<Box<dyn Step>, Vec<Diagnostic>> {
        self(step, flow)
    }
}

/// A declared secret's value and the origins it may go to.
#[derive(Debug, Clone)]
pub struct BoundSecret {
    /// The secret's name.
    pub name: String,
    /// Its value.
    pub value: Secret,
    /// The origins (scheme, host, port) it may be sent to; empty means any.
    pub origins: Vec<Origin>,
}

/// Whether a run sends requests or only builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Steps do their work.
    Live,
    /// Steps build what they would send and record it without sending.
    DryRun,
}

/// What a running step can see and do.
pub struct StepContext<'a> {
    pub(crate) decl: &'a StepDecl,
    pub(crate) flow: &'a Flow,
    pub(crate) templates: &'a TemplateEnv,
    /// Everything but the secrets.
    pub(crate) scope: &'a Scope,
    /// The same with `secrets`, built when a credential position is rendered.
    pub(crate) credential_scope: OnceLock<Scope>,
    pub(crate) run_id: &'a str,
    pub(crate) mode: RunMode,
    pub(crate) secrets: &'a [BoundSecret],
    pub(crate) redactor: &'a Arc<Redactor>,
    pub(crate) channel: &'a dyn Channel,
    pub(crate) variables: Vec<(String, Value)>,
    pub(crate) details: Map<String, Value>,
    pub(crate) exposed: Map<String, Value>,
    pub(crate) attempts: u32,
    pub(crate) messages: Vec<MessageRecord>,
    pub(crate) all_secrets: &'a BTreeMap<String, Secret>,
    /// The run as it stood when this step began (for the journal).
    pub(crate) state: &'a RunState,
    pub(crate) journal: &'a dyn Journal,
    /// The step's path: its id, or `outer.inner` inside a used flow.
    pub(crate) path: String,
    /// The effect that was under way in this step when the run stopped, when it is resumed.
    pub(crate) pending_effect: Option<Effect>,
    /// How many effects the step has announced.
    pub(crate) effects: u32,
    /// Set when the journal could not record an effect: the run stops.
    pub(crate) journal_error: Option<JournalError>,
    /// Put before the step id in the messages it sends (`pay.` inside a used flow).
    pub(crate) prefix: &'a str,
    /// Set inside a `flow` step that suppresses or outputs its messages: a message is
    /// recorded (not sent) and never handed to the channel.
    pub(crate) withhold_messages: bool,
    /// Who the run's messages go to.
    pub(crate) recipient: Option<&'a str>,
    /// In a dry run: the variables that stand in for what only a live run would know, with
    /// what each depends on.
    pub(crate) pending: &'a BTreeMap<String, String>,
    /// Variables this step set with [`StepContext::set_pending`], with what they depend on.
    pub(crate) new_pending: Vec<(String, String)>,
    /// Set by a `wait` step that has no event yet: the run suspends here.
    pub(crate) suspend: Option<crate::wait::WaitFor>,
    /// Exposed as a copy of a field of a record ([`StepContext::expose_recorded`]): the key,
    /// the record's key and the field's.
    pub(crate) exposed_from_records: Vec<(String, String, String)>,
}

impl<'a> StepContext<'a> {
    /// The step as declared.
    pub fn decl(&self) -> &'a StepDecl {
        self.decl
    }

    /// The flow being run.
    pub fn flow(&self) -> &'a Flow {
        self.flow
    }

    /// The run id: stable across retries, set by `--run-id` for re-runs.
    pub fn run_id(&self) -> &'a str {
        self.run_id
    }

    /// Live or dry run.
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// Declared secrets with their values and host bindings.
    pub fn secrets(&self) -> &'a [BoundSecret] {
        self.secrets
    }

    /// The redactor: add credentials derived at run time so they are hidden too.
    pub fn redactor(&self) -> &'a Arc<Redactor> {
        self.redactor
    }

    /// The variables visible to this step (inputs, mapped values, `steps`, `run`), without the
    /// secrets: what every position renders against where the format allows no secret.
    pub fn scope(&self) -> &'a Scope {
        self.scope
    }

    /// [`StepContext::scope`] with `secrets` added: for the positions where the format allows
    /// secrets (an http step's `auth` and `headers`; any key of a plugin step).
    pub fn credential_scope(&self) -> &Scope {
        self.credential_scope.get_or_init(|| {
            let mut value = self.scope.value().clone();
            if let Value::Object(map) = &mut value {
                let secrets: Map<String, Value> = self
                    .secrets
                    .iter()
                    .map(|s| (s.name.clone(), Value::String(s.value.expose().to_owned())))
                    .collect();
                map.insert("secrets".into(), Value::Object(secrets));
            }
            Scope::new(value)
        })
    }

    /// What [`StepContext::render`] renders against: a plugin step's keys may hold secrets
    /// (the check allows them there, as it trusts an integration with credentials); the keys of
    /// the built-in steps may not, and their scope has none.
    fn step_scope(&self) -> &Scope {
        match self.decl.spec {
            StepSpec::Plugin(_) => self.credential_scope(),
            _ => self.scope,
        }
    }

    /// Renders a template to a typed value.
    pub fn render(&self, template: &Template) -> Result<Value, StepError> {
        self.templates
            .render(template, self.step_scope())
            .map_err(|e| self.template_error(e))
    }

    /// Renders a template against the scope without secrets, whatever the step (`when:`).
    pub(crate) fn render_public(&self, template: &Template) -> Result<Value, StepError> {
        self.templates
            .render(template, self.scope)
            .map_err(|e| self.template_error(e))
    }

    /// Renders a template to text (numbers and booleans as written).
    pub fn render_text(&self, template: &Template) -> Result<String, StepError> {
        Ok(flowstep_spec::template::value_to_text(
            &self.render(template)?,
        ))
    }

    /// Renders a value tree (a JSON body, plugin parameters).
    pub fn render_value(&self, value: &ValueTemplate) -> Result<Value, StepError> {
        value
            .render(self.templates, self.step_scope())
            .map_err(|e| self.template_error(e))
    }

    fn template_error(&self, e: TemplateError) -> StepError {
        let at = SourcePos::new(self.flow.file.clone(), e.span());
        StepError::invalid(e.to_string()).located_at(at)
    }

    /// Sets a variable for later steps (kept only if the step succeeds). Declare it in
    /// [`Step::defines`] so that the check lets later steps read it. A name a template cannot
    /// read (not letters, digits and `_` starting with a letter or `_`) or a reserved one
    /// (`secrets`, `steps`, `run`, `this`) is refused as `invalid`.
    pub fn set_var(
        &mut self,
        name: impl Into<String>,
        value: impl Into<Value>,
    ) -> Result<(), StepError> {
        let name = name.into();
        if !is_identifier(&name) || RESERVED_NAMES.contains(&name.as_str()) {
            return Err(StepError::invalid(format!(
                "step `{}` cannot set variable {name:?}: variable names are letters, digits and `_`, starting with a letter or `_`; `secrets`, `steps`, `run` and `this` are reserved",
                self.decl.id.value
            )));
        }
        self.variables.push((name, value.into()));
        Ok(())
    }

    /// In a dry run, sets variable `name` to `shown`, a stand-in for a value only the live
    /// run would know (what an API would answer), so that later steps still render; `source`
    /// says what it depends on (`the response of `create_session``). A later `when:` that
    /// reads it is shown as depending on it, and a message or `set` value computed from it
    /// says so instead of computing from the stand-in. In a live run it is
    /// [`StepContext::set_var`].
    pub fn set_pending(
        &mut self,
        name: impl Into<String>,
        shown: impl Into<Value>,
        source: impl Into<String>,
    ) -> Result<(), StepError> {
        let name = name.into();
        self.set_var(name.clone(), shown)?;
        if self.mode == RunMode::DryRun {
            self.new_pending.push((name, source.into()));
        }
        Ok(())
    }

    /// In a dry run, what `template` depends on that only a live run would know (`the response
    /// of `create_session``), when it reads a variable set by [`StepContext::set_pending`];
    /// `None` when it can be rendered as it is, and always in a live run.
    pub fn depends_on(&self, template: &Template) -> Option<String> {
        if self.mode != RunMode::DryRun || self.pending.is_empty() {
            return None;
        }
        template
            .references()
            .find_map(|r| pending_source(self.pending, r))
            .cloned()
    }

    /// Exposes `shown` as `steps.<this step>.<key>` in a dry run: a stand-in for what only a
    /// live run's response gives (`http_status`, `headers`, `body`). What reads it is shown as
    /// depending on `source`, as for [`StepContext::set_pending`].
    pub fn expose_pending(&mut self, key: impl Into<String>, shown: Value, source: &str) {
        self.expose(key, shown);
        if self.mode == RunMode::DryRun {
            let exposed = format!("steps.{}", self.decl.id.value);
            if !self.new_pending.iter().any(|(n, _)| *n == exposed) {
                self.new_pending.push((exposed, source.to_owned()));
            }
        }
    }

    /// The step's keys (every key but `id`, `type`, `description`, `when`, `next` and
    /// `on_error`) rendered and read into `K`, a type that derives `serde::Deserialize`.
    /// Check them when the flow is compiled with [`crate::check_keys`] (a
    /// [`step_fn`](crate::step_fn) does both), so that an unknown or missing key is a
    /// diagnostic with its position before anything runs. A key holding a template that
    /// renders to a value `K` does not take fails the step as `invalid`, at the step.
    pub fn keys<K: DeserializeOwned>(&self) -> Result<K, StepError> {
        let params = match &self.decl.spec {
            StepSpec::Plugin(p) => self.render_value(&p.params)?,
            _ => Value::Object(Map::new()),
        };
        // `()` (a step with no keys of its own) reads an empty mapping as nothing.
        let params = match params {
            Value::Object(map) if map.is_empty() && K::deserialize(Value::Null).is_ok() => {
                Value::Null
            }
            other => other,
        };
        serde_json::from_value(params).map_err(|e| {
            StepError::invalid(format!(
                "the keys of {} step `{}`: {e}",
                self.decl.kind.value, self.decl.id.value
            ))
        })
    }

    /// Adds a detail to the step's record (`request`, `response`); redacted before it is kept.
    pub fn record(&mut self, key: impl Into<String>, value: Value) {
        self.details.insert(key.into(), value);
    }

    /// What this step recorded under `key` so far ([`StepContext::record`]), as it was handed
    /// over (redaction comes when the step ends): a step reads its record back instead of
    /// keeping a copy of a large value (the http step maps its response from it).
    pub fn recorded(&self, key: &str) -> Option<&Value> {
        self.details.get(key)
    }

    /// Makes a value readable by later steps as `<<steps.ID.KEY>>` (e.g. `body`).
    pub fn expose(&mut self, key: impl Into<String>, value: Value) {
        self.exposed.insert(key.into(), value);
    }

    /// Exposes as `<<steps.ID.KEY>>` a copy of field `field` of the detail `record` (an HTTP
    /// step's response body, which it records too), taken once the record is redacted: the
    /// value is redacted once instead of once in each place. Nothing is exposed if the record
    /// has no such field when the step ends.
    pub fn expose_recorded(&mut self, key: impl Into<String>, record: &str, field: &str) {
        let key = key.into();
        self.exposed.shift_remove(&key);
        self.exposed_from_records
            .push((key, record.to_owned(), field.to_owned()));
    }

    /// Records how many attempts the step made (1 by default).
    pub fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }

    /// Announces a side effect the step is about to cause (an HTTP request, a message), so that
    /// the run's journal records it before it happens. Call it right before each attempt.
    ///
    /// When the run was resumed after stopping during this very effect, a request that is
    /// safe to repeat (`replay_safe`) goes ahead and is noted in the step's record; one that is
    /// not fails the step as `unknown`, since it may have taken effect.
    pub async fn before_effect(&mut self, kind: EffectKind) -> Result<(), StepError> {
        self.effects += 1;
        if let Some(pending) = self.pending_effect.take_if(|p| p.step == self.path) {
            if let EffectKind::Request {
                replay_safe: false,
                method,
                ..
            } = &pending.kind
            {
                return Err(StepError::new(
                    ErrorKind::Unknown,
                    format!(
                        "this {method} request was being sent when the run stopped (a crash, a kill or a restart), so it may have taken effect; it carries no idempotency key, so it is not sent again: check whether it took effect before running it again"
                    ),
                ));
            }
            self.record(
                "resumed",
                Value::String(
                    "the run stopped while this request was being sent; it was sent again with the same idempotency key".into(),
                ),
            );
        }
        let effect = Effect {
            step: self.path.clone(),
            attempt: self.effects,
            kind,
        };
        if let Err(e) = self.journal.effect(self.state, &effect).await {
            let message = e.to_string();
            self.journal_error = Some(e);
            return Err(StepError::invalid(message));
        }
        Ok(())
    }

    /// Sends a message through the run's channel and records it in the outcome. The channel is
    /// an output boundary: the text it is handed has been redacted, whatever produced it. The
    /// message carries the run's recipient, and the step's path (`pay.send_link` inside a
    /// used flow). In a dry run nothing is sent: the message is recorded as not sent and the
    /// delivery has no id.
    ///
    /// In a run resumed after stopping while this message was being handed to the channel, it
    /// is not sent again (a channel such as WhatsApp takes no idempotency key): it is recorded
    /// with `delivery_unknown` and no delivery id.
    pub async fn send_message(&mut self, text: String) -> Result<Delivery, StepError> {
        self.send_content(text, MessageContent::default()).await
    }

    /// Hands a message of any kind to the channel (see [`StepContext::send_message`]); its
    /// text and every value of `content` are redacted first.
    pub async fn send_content(
        &mut self,
        text: String,
        content: MessageContent,
    ) -> Result<Delivery, StepError> {
        let redactor = self.redactor;
        let message = OutgoingMessage {
            flow: self.flow.name.value.clone(),
            step: format!("{}{}", self.prefix, self.decl.id.value),
            text: redactor.redact(&text).into_owned(),
            content: content.map_strings(|s| redactor.redact(s).into_owned()),
            to: self.recipient.map(str::to_owned),
        };
        if self.mode == RunMode::DryRun || self.withhold_messages {
            self.messages.push(MessageRecord {
                step: message.step,
                text: message.text,
                content: message.content,
                to: message.to,
                delivery_id: None,
                sent: false,
                delivery_unknown: false,
            });
            return Ok(Delivery::default());
        }
        if self
            .pending_effect
            .take_if(|p| p.step == self.path && p.kind == EffectKind::Message)
            .is_some()
        {
            tracing::warn!(step = %self.path, "not sending the message again: the run stopped while it was being sent, and the channel takes no idempotency key");
            self.record(
                "resumed",
                Value::String(
                    "the run stopped while this message was being sent; it was not sent again, so whether it was delivered is unknown".into(),
                ),
            );
            self.messages.push(MessageRecord {
                step: message.step,
                text: message.text,
                content: message.content,
                to: message.to,
                delivery_id: None,
                sent: true,
                delivery_unknown: true,
            });
            return Ok(Delivery::default());
        }
        self.before_effect(EffectKind::Message).await?;
        let delivery = self.channel.send(&message).await.map_err(|e| {
            StepError::new(
                if e.transient {
                    ErrorKind::Transient
                } else {
                    ErrorKind::Rejected
                },
                format!("message not delivered: {e}"),
            )
        })?;
        self.messages.push(MessageRecord {
            step: message.step,
            text: message.text,
            content: message.content,
            to: message.to,
            delivery_id: delivery.id.clone(),
            sent: true,
            delivery_unknown: false,
        });
        Ok(delivery)
    }
}

/// What a dry run's reference `r` depends on, when it reads a stand-in: a variable set with
/// [`StepContext::set_pending`], or a field a step exposed with
/// [`StepContext::expose_pending`] (`steps.<id>.http_status`; the step's own `status`,
/// `attempts` and `error` are known in a dry run too).
pub(crate) fn pending_source<'p>(
    pending: &'p BTreeMap<String, String>,
    r: &flowstep_spec::template::Reference,
) -> Option<&'p String> {
    match r.path.as_slice() {
        [steps, id, field, ..]
            if steps == "steps" && !matches!(field.as_str(), "status" | "attempts" | "error") =>
        {
            pending.get(&format!("steps.{id}"))
        }
        [first, ..] => pending.get(first),
        [] => None,
    }
}
