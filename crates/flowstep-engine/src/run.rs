//! Running a plan: steps in order, the first failure ends the run, everything recorded in an
//! [`Outcome`] with secrets redacted. A run is a [`RunState`] advanced one step at a time and
//! handed to a [`Journal`] at each step boundary, so that it can be continued after a crash
//! ([`Plan::resume`]).

use crate::channel::{Channel, DiscardChannel};
use crate::error::StepError;
use crate::inputs::{InputProblems, InputValue, resolve_inputs};
use crate::journal::{Effect, Journal, JournalError, NoJournal};
use crate::outcome::{Outcome, RunStatus, StepRecord, StepStatus};
use crate::plan::Plan;
use crate::position::SourcePos;
use crate::redact::Redactor;
use crate::run_id::{RunIdError, check_run_id};
use crate::run_state::RunState;
use crate::secret::Secret;
use crate::step::{BoundSecret, RunMode, StepContext};
use crate::wait::WaitEvent;
use flowstep_spec::steps::OnError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Everything a run needs besides the plan. Build one with [`RunRequest::new`] and its
/// setters, or write the fields out (with `..RunRequest::default()` for the rest).
///
/// ```
/// use flowstep_engine::{RecordingChannel, RunMode, RunRequest};
///
/// let channel = RecordingChannel::new();
/// let request = RunRequest::new()
///     .input("product_name", "Blue T-shirt")      // text or any JSON value
///     .input("amount_paise", 50_000)
///     .secret("STRIPE_SECRET_KEY", "sk_test_51Habcdefghijklmnop4242")
///     .run_id("order-1042")                       // stable: idempotency keys derive from it
///     .to("+919000090000")                        // who this run's messages go to
///     .channel(&channel)                          // else messages are only in the outcome
///     .dry_run();
/// assert_eq!(request.mode, RunMode::DryRun);
/// assert_eq!(request.inputs["amount_paise"], 50_000);
/// ```
pub struct RunRequest<'a> {
    /// Input values by name. [`Plan::run`] checks them against the flow's declarations and
    /// fills in defaults ([`crate::resolve_inputs`], with each value
    /// [`InputValue::Typed`](crate::InputValue)); every problem comes back as
    /// [`RunError::Inputs`].
    pub inputs: Map<String, Value>,
    /// Secret values by name; every secret the flow declares must be here.
    pub secrets: BTreeMap<String, Secret>,
    /// The run id; a fresh one when `None`. Idempotency keys derive from it, so it must be
    /// a valid id ([`crate::check_run_id`]): 1 to 128 ASCII letters, digits, `-`, `_` and `.`.
    pub run_id: Option<String>,
    /// Live or dry run.
    pub mode: RunMode,
    /// Where messages go. [`RunRequest::default`] has a channel that delivers nothing: the
    /// messages are then only in the outcome.
    pub channel: &'a dyn Channel,
    /// Who this run's messages go to (a phone number, a conversation id), handed to the
    /// channel with each message ([`OutgoingMessage::to`](crate::OutgoingMessage)), so that
    /// one channel serves every customer. `None` leaves it to the channel.
    pub recipient: Option<String>,
    /// The redactor shared with the caller's log writer. The run hides its secrets in a
    /// redactor of its own made from it ([`Redactor::for_run`]), which the shared one consults
    /// while the run is live, so logs are redacted too and the shared one does not grow.
    pub redactor: Arc<Redactor>,
}

/// The channel of a default [`RunRequest`]: delivers nothing.
static DISCARD: DiscardChannel = DiscardChannel;

impl Default for RunRequest<'_> {
    /// No inputs or secrets, a fresh run id, a live run, no recipient, a channel that delivers
    /// nothing (the outcome still lists the messages) and a redactor of its own.
    fn default() -> Self {
        RunRequest {
            inputs: Map::new(),
            secrets: BTreeMap::new(),
            run_id: None,
            mode: RunMode::Live,
            channel: &DISCARD,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }
    }
}

impl std::fmt::Debug for RunRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunRequest")
            .field("inputs", &self.inputs.keys().collect::<Vec<_>>())
            .field("secrets", &self.secrets)
            .field("run_id", &self.run_id)
            .field("mode", &self.mode)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl<'a> RunRequest<'a> {
    /// [`RunRequest::default`]: set what you need with the methods below.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets input `name` to `value`: text (converted to the input's type, as `--var` is) or
    /// any JSON value.
    pub fn input(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.inputs.insert(name.into(), value.into());
        self
    }

    /// Sets secret `name`; the value is wrapped in a [`Secret`] at once.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }

    /// Sets the run id (see [`RunRequest::run_id`](#structfield.run_id)).
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets live or dry run.
    pub fn mode(mut self, mode: RunMode) -> Self {
        self.mode = mode;
        self
    }

    /// A dry run: every request is built and recorded, nothing is sent.
    pub fn dry_run(self) -> Self {
        self.mode(RunMode::DryRun)
    }

    /// Sends the run's messages through `channel`.
    pub fn channel(mut self, channel: &'a dyn Channel) -> Self {
        self.channel = channel;
        self
    }

    /// Sends the run's messages to `recipient` (see
    /// [`RunRequest::recipient`](#structfield.recipient)).
    pub fn to(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Shares `redactor` with the run (your log writer's).
    pub fn redactor(mut self, redactor: Arc<Redactor>) -> Self {
        self.redactor = redactor;
        self
    }
}

/// What a resumed run needs: its saved state, the side effect that was under way when it
/// stopped (if the journal recorded one), and what every run is handed afresh.
pub struct ResumeRequest<'a> {
    /// The state the journal saved last.
    pub state: RunState,
    /// The effect the journal saw last, when no checkpoint followed it.
    pub pending: Option<Effect>,
    /// Secret values by name, as for [`RunRequest::secrets`].
    pub secrets: BTreeMap<String, Secret>,
    /// Live or dry run.
    pub mode: RunMode,
    /// Where messages go.
    pub channel: &'a dyn Channel,
    /// Who the run's messages go to, as for [`RunRequest::recipient`].
    pub recipient: Option<String>,
    /// The redactor shared with the caller's log writer.
    pub redactor: Arc<Redactor>,
}

/// Why a run could not start (or, for [`RunError::Journal`], could not go on). Nothing was
/// sent that is not recorded. Its `Debug` is its `Display` (every input problem, one per line),
/// which is what a `main` that returns it prints.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Declared secrets without a value (or, in a live run, with a dry run's placeholder).
    #[error("missing secret{}: {}", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    MissingSecrets(Vec<String>),
    /// A run id that is empty, too long or has a character outside the set.
    #[error(transparent)]
    InvalidRunId(#[from] RunIdError),
    /// Inputs that do not fit the flow's declarations: every problem, one per line.
    #[error(transparent)]
    Inputs(#[from] InputProblems),
    /// The journal could not save the run's progress; the run stopped where it was, and can be
    /// resumed from the last state it saved.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A saved state that is not a run of this plan.
    #[error("cannot resume run `{run_id}`: {reason}")]
    NotResumable {
        /// The run.
        run_id: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Debug for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What stays the same through a run: secrets, mode, channel, redactor, journal, and where a
/// nested run sits in its parent.
pub(crate) struct RunEnv<'a> {
    pub(crate) secrets: BTreeMap<String, Secret>,
    pub(crate) bound: Vec<BoundSecret>,
    pub(crate) mode: RunMode,
    pub(crate) channel: &'a dyn Channel,
    pub(crate) recipient: Option<String>,
    pub(crate) redactor: Arc<Redactor>,
    pub(crate) journal: &'a dyn Journal,
    /// `outer.` for the steps of a flow a `flow` step uses, so effects name the whole path.
    pub(crate) path_prefix: String,
    /// Set inside a `flow` step whose `messages:` is `suppress` or `output` (or inside one
    /// such): the run's messages are recorded but never handed to the channel.
    pub(crate) withhold_messages: bool,
    /// The effect that was under way when the run stopped, until its step takes it.
    pub(crate) pending: Mutex<Option<Effect>>,
    /// The redactor's [`Redactor::generation`] once the run's secrets were added: what enters
    /// the state is redacted as it enters, so while the generation stays the same the
    /// finished state needs no second pass.
    pub(crate) generation: usize,
}

/// Where a run sits: at the top (the default), or inside a `flow` step of another run.
#[derive(Debug, Default)]
pub(crate) struct Nesting {
    /// Put before each step id in paths (`pay.`).
    pub(crate) path_prefix: String,
    /// Whether its messages are kept from the channel.
    pub(crate) withhold_messages: bool,
}

/// A fresh run id: `run_` and 16 hex digits from the process's random hasher seed and the clock.
pub fn new_run_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("run_{:016x}", h.finish())
}

impl Plan {
    /// Runs the plan. Step failures are recorded in the outcome, not returned as errors.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use flowstep_engine::{Engine, InputValue, RecordingChannel, Redactor, RunMode, RunRequest,
    ///     RunStatus, resolve_inputs};
    /// use flowstep_spec::SourceFile;
    /// use std::sync::Arc;
    ///
    /// let yaml = "flow: greet\ninputs:\n  name: { type: string }\nsteps:\n  - id: hello\n    type: message\n    text: Hello, <<name>>\noutputs:\n  who: <<name>>\n";
    /// let (plan, _) = Engine::new().compile_source(SourceFile::new("greet.yaml", yaml)).unwrap();
    /// let inputs = resolve_inputs(plan.flow(), vec![("name".into(), InputValue::Text("Ravi".into()))]).unwrap();
    /// let channel = RecordingChannel::new();
    /// let outcome = plan.run(RunRequest {
    ///     inputs,
    ///     secrets: Default::default(),
    ///     run_id: Some("order-7".into()),
    ///     mode: RunMode::Live,
    ///     channel: &channel,
    ///     recipient: None,
    ///     redactor: Arc::new(Redactor::new()),
    /// }).await.unwrap();
    /// assert_eq!(outcome.status, RunStatus::Succeeded);
    /// assert_eq!(outcome.run_id, "order-7");
    /// assert_eq!(outcome.outputs["who"], "Ravi");
    /// assert_eq!(outcome.messages[0].delivery_id.as_deref(), Some("recorded-1"));
    /// # });
    /// ```
    pub async fn run(&self, request: RunRequest<'_>) -> Result<Outcome, RunError> {
        self.run_journaled(request, &NoJournal).await
    }

    /// Runs the plan, handing its state to `journal` when it starts, after every step, before
    /// every side effect and when it ends (see [`Journal`]). A journal error stops the run
    /// where it is ([`RunError::Journal`]).
    pub async fn run_journaled(
        &self,
        mut request: RunRequest<'_>,
        journal: &dyn Journal,
    ) -> Result<Outcome, RunError> {
        if let Some(id) = &request.run_id {
            check_run_id(id)?;
        }
        warn_short_secrets(&request.secrets);
        let given = std::mem::take(&mut request.inputs)
            .into_iter()
            .map(|(name, value)| (name, InputValue::Typed(value)))
            .collect();
        request.inputs = resolve_inputs(&self.flow, given)?;
        request.redactor = request.redactor.for_run();
        self.run_in(request, journal, Nesting::default(), None)
            .await
    }

    /// Continues a run from the state its journal saved last: the step it was in is taken
    /// again, a request that was under way is sent again when that is safe (the same
    /// idempotency key), and a message that was under way is not sent again (it is recorded
    /// with `delivery_unknown`). Steps already done are never run again.
    pub async fn resume(
        &self,
        request: ResumeRequest<'_>,
        journal: &dyn Journal,
    ) -> Result<Outcome, RunError> {
        let ResumeRequest {
            mut state,
            pending,
            secrets,
            mode,
            channel,
            recipient,
            redactor,
        } = request;
        if state.flow != self.flow.name.value || state.runs_of.len() != self.flow.steps.len() {
            return Err(RunError::NotResumable {
                run_id: state.run_id,
                reason: format!(
                    "it is a run of flow `{}` with {} steps, not of this plan (`{}`, {} steps)",
                    state.flow,
                    state.runs_of.len(),
                    self.flow.name.value,
                    self.flow.steps.len()
                ),
            });
        }
        warn_short_secrets(&secrets);
        state.reattach(&self.files);
        let env = self.env(
            secrets,
            mode,
            (channel, recipient),
            redactor.for_run(),
            journal,
            Nesting::default(),
            pending,
        )?;
        self.drive(&mut state, &env).await?;
        Ok(self.outcome(state, &env))
    }

    /// Runs the plan with `request.redactor` as the run's own redactor and a run id that is
    /// valid or made by the engine: a `flow` step runs its flow as part of the using run, with
    /// the same redactor, under `<run id>.<step id>`, which may be longer than a caller may give.
    pub(crate) async fn run_in(
        &self,
        request: RunRequest<'_>,
        journal: &dyn Journal,
        nesting: Nesting,
        pending: Option<Effect>,
    ) -> Result<Outcome, RunError> {
        let env = self.env(
            request.secrets,
            request.mode,
            (request.channel, request.recipient),
            request.redactor,
            journal,
            nesting,
            pending,
        )?;
        let run_id = request.run_id.unwrap_or_else(new_run_id);
        // An input can hold a secret's value (given by mistake, or on purpose): it is hidden
        // before the state, which is saved, holds it.
        let mut inputs = request.inputs;
        redact_map(&mut inputs, &env.redactor);
        let mut state = RunState::new(&self.flow, run_id, inputs);
        tracing::info!(flow = %self.flow.name.value, run_id = %state.run_id, "run started");
        env.journal.checkpoint(&state).await?;
        self.drive(&mut state, &env).await?;
        Ok(self.outcome(state, &env))
    }

    #[allow(clippy::too_many_arguments)]
    fn env<'a>(
        &self,
        secrets: BTreeMap<String, Secret>,
        mode: RunMode,
        (channel, recipient): (&'a dyn Channel, Option<String>),
        redactor: Arc<Redactor>,
        journal: &'a dyn Journal,
        nesting: Nesting,
        pending: Option<Effect>,
    ) -> Result<RunEnv<'a>, RunError> {
        // A dry run's stand-in for a secret that is not set is fine where nothing is sent;
        // a live run treats it as missing.
        let missing: Vec<String> = self
            .required_secrets
            .iter()
            .filter(|name| {
                secrets.get(*name).is_none_or(|v| {
                    v.expose().is_empty() || (v.is_placeholder() && mode == RunMode::Live)
                })
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(RunError::MissingSecrets(missing));
        }
        // A placeholder holds no secret: it is shown as it is, so that a dry run says where
        // the secret would go.
        for value in secrets.values() {
            match value.is_placeholder() {
                true => redactor.add_stand_in(value.expose()),
                false => redactor.add(value.expose()),
            }
        }
        let bound = self
            .flow
            .secrets
            .iter()
            .map(|s| BoundSecret {
                name: s.name.value.clone(),
                value: secrets[&s.name.value].clone(),
                origins: s.origins.clone(),
            })
            .collect();
        Ok(RunEnv {
            secrets,
            bound,
            mode,
            channel,
            recipient,
            generation: redactor.generation(),
            redactor,
            journal,
            path_prefix: nesting.path_prefix,
            withhold_messages: nesting.withhold_messages,
            pending: Mutex::new(pending),
        })
    }

    /// Takes steps until the run ends, saving the state after each.
    async fn drive(&self, state: &mut RunState, env: &RunEnv<'_>) -> Result<(), JournalError> {
        // A run resumed while suspended (nothing delivered) is parked again.
        if state.is_suspended() {
            env.journal.checkpoint(state).await?;
        }
        while !state.finished && !state.is_suspended() {
            // Every line logged while a step is taken (its own, its HTTP client's) names it.
            let step_id = self
                .flow
                .steps
                .get(state.cursor)
                .map(|d| d.id.value.as_str());
            let span = tracing::info_span!(
                "step",
                step_id = %format_args!("{}{}", env.path_prefix, step_id.unwrap_or("outputs"))
            );
            tracing::Instrument::instrument(self.advance(state, env), span).await?;
            env.journal.checkpoint(state).await?;
        }
        Ok(())
    }

    /// Takes one step (or, past the last, renders the outputs and ends the run).
    async fn advance(&self, state: &mut RunState, env: &RunEnv<'_>) -> Result<(), JournalError> {
        let flow = &self.flow;
        let i = state.cursor;
        let (Some(decl), Some(step)) = (flow.steps.get(i), self.steps.get(i)) else {
            self.finish(state, env);
            return Ok(());
        };
        // Counted once the step is done: until then the state is the one saved at the last
        // checkpoint, which is what a journal is handed with the step's side effects.
        let executed = state.executed + 1;
        if executed > self.max_steps {
            state.executed = executed;
            state.status = RunStatus::Failed;
            // The step that ran most often is in the loop; the first such one in the file.
            let (most, times) = state
                .runs_of
                .iter()
                .enumerate()
                .fold(
                    (0, 0),
                    |best, (j, &n)| {
                        if n > best.1 { (j, n) } else { best }
                    },
                );
            state.error = Some(format!(
                "the run was stopped at the limit of {} steps: step `{}` ran {times} times, so its `next:` or `on_error:` jumps keep coming back to it; make sure a `when:` in the loop turns false",
                self.max_steps, flow.steps[most].id.value
            ));
            state.error_at = Some(Box::new(SourcePos::new(
                flow.file.clone(),
                flow.steps[most].id.span,
            )));
            state.finished = true;
            return Ok(());
        }
        let jump = |label: &str| {
            flow.steps
                .iter()
                .position(|s| s.id.value == label)
                .unwrap_or(flow.steps.len())
        };
        let after = decl.next.as_ref().map_or(i + 1, |n| jump(&n.value));
        let path = format!("{}{}", env.path_prefix, decl.id.value);
        let pending = {
            let mut slot = env.pending.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(e) if e.step == path || e.step.starts_with(&format!("{path}.")) => slot.take(),
                _ => None,
            }
        };
        // A wait step handed its deadline: with `on_timeout:`, the run goes there.
        let timed_out = matches!(&state.delivered, Some((s, WaitEvent::Timeout)) if *s == path);
        let mut cx = StepContext {
            decl,
            flow,
            templates: &flow.templates,
            scope: &state.scope,
            credential_scope: OnceLock::new(),
            run_id: &state.run_id,
            mode: env.mode,
            secrets: &env.bound,
            redactor: &env.redactor,
            channel: env.channel,
            variables: Vec::new(),
            details: Map::new(),
            exposed: Map::new(),
            attempts: 1,
            messages: Vec::new(),
            all_secrets: &env.secrets,
            state: &*state,
            journal: env.journal,
            path,
            pending_effect: pending,
            effects: 0,
            journal_error: None,
            prefix: &env.path_prefix,
            withhold_messages: env.withhold_messages,
            recipient: env.recipient.as_deref(),
            pending: &state.dry_pending,
            new_pending: Vec::new(),
            suspend: None,
            exposed_from_records: Vec::new(),
        };
        let started = Instant::now();
        // In a dry run, a `when:` that reads a stand-in cannot be decided: the step is shown
        // (built, not sent) the first time and skipped after, so that a loop that waits on a
        // response ends.
        let undecided = decl.when.as_ref().and_then(|w| cx.depends_on(w));
        let shown_before = state.undecided_shown.contains(&i);
        let result = if let Some(source) = &undecided {
            cx.record("when", json!(format!("depends on {source}")));
            if shown_before {
                None
            } else {
                tracing::info!(step = %decl.id.value, "dry run: `when` depends on {source}; the step is shown");
                Some(step.run(&mut cx).await)
            }
        } else {
            match decl.when.as_ref().map(|w| cx.render_public(w)) {
                Some(Ok(condition)) if !truthy(&condition) => None,
                Some(Err(e)) => Some(Err(e)),
                _ => {
                    tracing::info!(step = %decl.id.value, kind = %decl.kind.value, "step started");
                    Some(step.run(&mut cx).await)
                }
            }
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let StepContext {
            variables: set,
            mut details,
            exposed,
            attempts,
            messages: sent,
            journal_error,
            new_pending,
            suspend,
            exposed_from_records,
            ..
        } = cx;
        if undecided.is_some() {
            state.undecided_shown.insert(i);
        }
        // The journal could not record a side effect, so the step did not cause it: the run
        // stops here, to be resumed from the last state saved.
        if let Some(e) = journal_error {
            return Err(e);
        }
        // A wait with nothing delivered yet: the run suspends at this step, which is taken
        // again (with what ends the wait) when the run is resumed.
        if let Some(wait) = suspend {
            tracing::info!(step = %decl.id.value, events = ?wait.events, deadline_ms = wait.deadline_ms, "run waiting");
            state.waiting = Some(wait);
            return Ok(());
        }
        if state
            .delivered
            .as_ref()
            .is_some_and(|(s, _)| *s == format!("{}{}", env.path_prefix, decl.id.value))
        {
            state.delivered = None;
            state.waiting = None;
        }
        let redactor = &env.redactor;
        state.executed = executed;
        state.runs_of[i] += 1;
        state.messages.extend(sent);
        let (step_status, mut error, attempts) = match result {
            None => (StepStatus::Skipped, None, 0),
            Some(Ok(())) => (StepStatus::Succeeded, None, attempts),
            Some(Err(mut e)) => {
                // A step that did not say where it failed failed as a whole.
                if e.at.is_none() {
                    e.at = Some(Box::new(SourcePos::new(flow.file.clone(), decl.span)));
                }
                (StepStatus::Failed, Some(e), attempts)
            }
        };
        // What a step brings into the scope came from outside (a response, an API's error
        // message, a sub-flow): it is redacted before a later step can read it, so no
        // template can carry an echoed secret to a channel or another host. The record is
        // redacted now too, since the state is saved after each step.
        let mut exposed = Value::Object(exposed);
        redactor.redact_value(&mut exposed);
        redact_map(&mut details, redactor);
        if let Value::Object(exposed) = &mut exposed {
            for (key, record, field) in exposed_from_records {
                if let Some(value) = details.get(&record).and_then(|r| r.get(&field)) {
                    exposed.insert(key, value.clone());
                }
            }
        }
        if let Some(e) = &mut error {
            redact_error(e, redactor);
        }
        match &error {
            Some(e) => {
                tracing::warn!(step = %decl.id.value, kind = %e.kind, "step failed: {}", e.message)
            }
            None if step_status == StepStatus::Skipped => {
                tracing::info!(step = %decl.id.value, "step skipped: `when` is false")
            }
            None => tracing::info!(step = %decl.id.value, duration_ms, "step succeeded"),
        }
        let Value::Object(mut readable) = exposed else {
            unreachable!("redaction keeps an object an object")
        };
        readable.insert("status".into(), json!(step_status));
        readable.insert("attempts".into(), json!(attempts));
        readable.insert(
            "error".into(),
            error.as_ref().map_or(Value::Null, |e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                // Where it failed is for the person reading the report, not for the flow.
                if let Value::Object(fields) = &mut v {
                    fields.remove("at");
                }
                v
            }),
        );
        if let Value::Object(scope) = state.scope.value_mut() {
            if let Some(Value::Object(steps)) = scope.get_mut("steps") {
                steps.insert(decl.id.value.clone(), Value::Object(readable));
            }
            if step_status == StepStatus::Succeeded {
                for (name, mut value) in set {
                    redactor.redact_value(&mut value);
                    // What a step shown on an undecided `when:` sets depends on the same thing.
                    match &undecided {
                        Some(source) => state.dry_pending.insert(name.clone(), source.clone()),
                        None => state.dry_pending.remove(&name),
                    };
                    scope.insert(name, value);
                }
                state.dry_pending.extend(new_pending);
            }
        }
        state.records.push(StepRecord {
            id: decl.id.value.clone(),
            kind: decl.kind.value.clone(),
            status: step_status,
            attempts,
            duration_ms,
            details,
            error,
        });
        state.cursor = match step_status {
            StepStatus::Skipped => i + 1,
            StepStatus::Succeeded => after,
            StepStatus::Failed if timed_out && let Some(label) = wait_on_timeout(decl) => {
                jump(&label.value)
            }
            StepStatus::Failed => match &decl.on_error {
                // A dry run shows every request it can build, so it goes on past a step it
                // could not build (its record says why); the run still counts as failed.
                OnError::Fail if env.mode == RunMode::DryRun => {
                    state.status = RunStatus::Failed;
                    after
                }
                OnError::Fail => {
                    state.status = RunStatus::Failed;
                    state.finished = true;
                    i
                }
                OnError::Continue => after,
                OnError::Goto(label) => jump(&label.value),
            },
        };
        Ok(())
    }

    /// Past the last step: renders the outputs of a run that succeeded and ends it.
    fn finish(&self, state: &mut RunState, env: &RunEnv<'_>) {
        let flow = &self.flow;
        state.finished = true;
        if state.status != RunStatus::Succeeded {
            return;
        }
        let mut outputs = Map::new();
        for (name, value) in &flow.outputs {
            match value.render(&flow.templates, &state.scope) {
                Ok(v) => {
                    outputs.insert(name.value.clone(), v);
                }
                // A dry run's variables are placeholders: show the output as written.
                Err(_) if env.mode == RunMode::DryRun => {
                    outputs.insert(name.value.clone(), value.to_source_value());
                }
                // An output that cannot be rendered fails the run, like a step would: a
                // caller must not be told "succeeded" without the value it asked for.
                Err(e) => {
                    tracing::warn!(output = %name.value, "output not rendered: {e}");
                    state.status = RunStatus::Failed;
                    let error = format!("output `{}` could not be rendered: {e}", name.value);
                    state.error = Some(env.redactor.redact(&error).into_owned());
                    state.error_at = Some(Box::new(SourcePos::new(flow.file.clone(), e.span())));
                    return;
                }
            }
        }
        redact_map(&mut outputs, &env.redactor);
        state.outputs = outputs;
    }

    /// The finished run's outcome, redacted once more as a whole: a credential a step derived
    /// during the run (and added to the redactor) is hidden from what came before it too.
    fn outcome(&self, state: RunState, env: &RunEnv<'_>) -> Outcome {
        let mut outcome = state.into_outcome();
        if env.redactor.generation() != env.generation {
            redact_outcome(&mut outcome, &env.redactor);
        }
        tracing::info!(run_id = %outcome.run_id, status = ?outcome.status, "run finished");
        outcome
    }
}

/// A wait step's `on_timeout:` step.
fn wait_on_timeout(
    decl: &flowstep_spec::steps::StepDecl,
) -> Option<&flowstep_spec::Spanned<String>> {
    match &decl.spec {
        flowstep_spec::steps::StepSpec::Wait(w) => w.on_timeout.as_ref(),
        _ => None,
    }
}

fn warn_short_secrets(secrets: &BTreeMap<String, Secret>) {
    for (name, value) in secrets {
        if !value.is_placeholder() && crate::redact::is_short(value.expose()) {
            tracing::warn!(
                secret = %name,
                "secret {name} is shorter than {} characters, so it is hidden only where it stands as a whole word, not inside longer text",
                crate::redact::SHORT_SECRET_CHARS
            );
        }
    }
}

/// Whether a `when:` value lets its step run: false, null, "", 0 and empty lists or objects
/// do not; everything else does.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn redact_map(m: &mut Map<String, Value>, redactor: &Redactor) {
    let mut v = Value::Object(std::mem::take(m));
    redactor.redact_value(&mut v);
    if let Value::Object(r) = v {
        *m = r;
    }
}

fn redact_outcome(outcome: &mut Outcome, redactor: &Redactor) {
    let redact_map = |m: &mut Map<String, Value>| redact_map(m, redactor);
    redact_map(&mut outcome.outputs);
    redact_map(&mut outcome.variables);
    for m in &mut outcome.messages {
        m.text = redactor.redact(&m.text).into_owned();
    }
    if let Some(e) = &mut outcome.error {
        *e = redactor.redact(e).into_owned();
    }
    for s in &mut outcome.steps {
        redact_map(&mut s.details);
        if let Some(e) = &mut s.error {
            redact_error(e, redactor);
        }
    }
    if let Some(e) = &mut outcome.error {
        *e = redactor.redact(e).into_owned();
    }
}

fn redact_error(e: &mut StepError, redactor: &Redactor) {
    let hint = e.hint.as_deref_mut().map(|h| [&mut h.cause, &mut h.fix]);
    for field in [
        Some(&mut e.message),
        e.code.as_mut(),
        e.param.as_mut(),
        e.api_type.as_mut(),
    ]
    .into_iter()
    .flatten()
    .chain(hint.into_iter().flatten())
    {
        if let std::borrow::Cow::Owned(r) = redactor.redact(field) {
            *field = r;
        }
    }
}
