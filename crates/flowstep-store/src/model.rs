//! What the run store takes and gives back: a new run, a claimed run, a stored run, a page of
//! runs.

use crate::error::StoreError;
use flowstep_engine::{
    Effect, FlowSources, FlowText, Outcome, RunState, UsedFlows, WaitEvent, WaitFor,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// Where a run is in its life.
///
/// `queued` → `running` (claimed) → `succeeded` | `failed` (finished); `running` →
/// `waiting` (parked on an event) → `queued` (the event came, or its deadline passed);
/// `queued` | `running` | `waiting` → `cancelled`; `failed` → `queued` (retried, see
/// [`crate::RunStore::retry`]). A `running` run whose lease expired is claimed again, still
/// `running`, under the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created (or woken by an event), waiting for a worker.
    Queued,
    /// Claimed by a worker under a lease.
    Running,
    /// Parked until an event or a deadline.
    Waiting,
    /// Ended: every step succeeded (or was skipped).
    Succeeded,
    /// Ended: a step failed, or the store could not read the run back.
    Failed,
    /// Ended by [`crate::RunStore::cancel`].
    Cancelled,
}

impl Status {
    /// Every status, in the order of a run's life.
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Running,
        Status::Waiting,
        Status::Succeeded,
        Status::Failed,
        Status::Cancelled,
    ];

    /// The name stored and shown: `queued`, `running`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Waiting => "waiting",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status with this name.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the run has ended (succeeded, failed or cancelled).
    pub fn is_final(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hash a flow's source is stored under: `sha256:` and 64 hex digits.
pub fn flow_hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// The hash a flow is stored under, covering every file it is made of: its source and the
/// flows it uses through `flow` steps (recursively), with what each `use:` found. A flow that
/// uses no other has the hash of its source ([`flow_hash`]); one that does, the hash of all
/// its files, each with its name and length, so that a change to any of them is a new hash.
pub fn sources_hash(source: &str, used: &UsedFlows) -> String {
    if used.is_empty() {
        return flow_hash(source);
    }
    // Each part with its length, so that no two sets of files read the same.
    let mut text = String::from("flowstep flow files 1\n");
    let mut part = |s: &str| {
        text.push_str(&s.len().to_string());
        text.push(':');
        text.push_str(s);
        text.push('\n');
    };
    part(source);
    for file in &used.files {
        part(&file.name);
        part(&file.text);
    }
    for link in &used.uses {
        part(&link.from);
        part(&link.reference);
        part(&link.file);
    }
    flow_hash(&text)
}

/// A run to start. [`NewRun::new`] and [`NewRun::of_sources`] compute the flow's hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The run id (what the engine's `check_run_id` accepts); unique in the store.
    pub run_id: String,
    /// The name the flow's source is compiled under (`pay.yaml`): positions in a saved state
    /// name it, so a worker compiles the stored source under the same name.
    pub flow_file: String,
    /// The flow's name (`flow:`).
    pub flow_name: String,
    /// [`sources_hash`] of `flow_source` and `used_flows`.
    pub flow_hash: String,
    /// The flow's YAML, stored once per hash: a worker compiles the run from it, so a run
    /// finishes with the flow it started with.
    pub flow_source: String,
    /// The flows it uses through `flow` steps (the engine's `Plan::sources`), stored with
    /// it: a worker compiles the run from these too, never from the files as they are then.
    pub used_flows: UsedFlows,
    /// The run's inputs, checked against the flow's declarations by the caller. Never a
    /// secret: secrets are handed to each run afresh and are not stored.
    pub inputs: Map<String, Value>,
    /// Who the run's messages go to, if the run names someone.
    pub recipient: Option<String>,
}

impl NewRun {
    /// A run of the flow `flow_name` whose source is `flow_source`, read from `flow_file`,
    /// with no inputs and no recipient.
    pub fn new(
        run_id: impl Into<String>,
        flow_file: impl Into<String>,
        flow_name: impl Into<String>,
        flow_source: impl Into<String>,
    ) -> Self {
        let flow_source = flow_source.into();
        NewRun {
            run_id: run_id.into(),
            flow_file: flow_file.into(),
            flow_name: flow_name.into(),
            flow_hash: flow_hash(&flow_source),
            flow_source,
            used_flows: UsedFlows::default(),
            inputs: Map::new(),
            recipient: None,
        }
    }

    /// A run of the flow `flow_name` made of `sources` (the engine's `Plan::sources`: its own
    /// file and every flow it uses), with no inputs and no recipient.
    pub fn of_sources(
        run_id: impl Into<String>,
        flow_name: impl Into<String>,
        sources: FlowSources,
    ) -> Self {
        let FlowSources { main, used } = sources;
        NewRun {
            run_id: run_id.into(),
            flow_file: main.name,
            flow_name: flow_name.into(),
            flow_hash: sources_hash(&main.text, &used),
            flow_source: main.text,
            used_flows: used,
            inputs: Map::new(),
            recipient: None,
        }
    }

    /// [`NewRun::of_sources`] with the hash of `sources` computed already
    /// ([`sources_hash`]), as a server that loaded the flow once has it: nothing is hashed per
    /// run. The store checks the hash (once per flow) and refuses a wrong one.
    pub fn of_hashed_sources(
        run_id: impl Into<String>,
        flow_name: impl Into<String>,
        sources: FlowSources,
        flow_hash: impl Into<String>,
    ) -> Self {
        let FlowSources { main, used } = sources;
        NewRun {
            run_id: run_id.into(),
            flow_file: main.name,
            flow_name: flow_name.into(),
            flow_hash: flow_hash.into(),
            flow_source: main.text,
            used_flows: used,
            inputs: Map::new(),
            recipient: None,
        }
    }

    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Map<String, Value>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Sets who the run's messages go to.
    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }
}

impl Claimed {
    /// Every file the run's flow is made of, as the run started with them, to compile with
    /// the engine's `Engine::compile_sources`; `None` for a run stored before the store kept
    /// the flows a flow uses (compile `flow_source` under `flow_file` then).
    pub fn sources(&self) -> Option<FlowSources> {
        self.used_flows.as_ref().map(|used| FlowSources {
            main: FlowText {
                name: self.flow_file.clone(),
                text: self.flow_source.clone(),
            },
            used: used.clone(),
        })
    }
}

/// What [`crate::RunStore::create_run`] did.
#[derive(Debug, Clone)]
pub enum Creation {
    /// The run was stored, `queued`.
    Created,
    /// A run with that id was already stored: nothing was created, and this is it.
    Existing(Box<RunRecord>),
}

/// A run a worker has claimed, with everything it needs to run it. The claim (`run_id`,
/// `attempt`) fences every write the worker makes: once another worker claims the run, they
/// fail with [`StoreError::LeaseLost`].
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The run.
    pub run_id: String,
    /// Which claim of the run this is (1 for the first).
    pub attempt: u32,
    /// The worker that holds it.
    pub worker_id: String,
    /// When the lease runs out unless [`crate::RunStore::heartbeat`] extends it.
    pub lease_expires_at: SystemTime,
    /// The name to compile the flow's source under.
    pub flow_file: String,
    /// The flow's name.
    pub flow_name: String,
    /// The flow's hash.
    pub flow_hash: String,
    /// The flow's source, as the run started with it.
    pub flow_source: String,
    /// The flows it uses, as the run started with them; `None` for a run stored before the
    /// store kept them (schema version 3), whose used flows can only be read afresh.
    pub used_flows: Option<UsedFlows>,
    /// The run's inputs.
    pub inputs: Map<String, Value>,
    /// Who the run's messages go to.
    pub recipient: Option<String>,
    /// The state saved last: `None` for a run that has not started (run it with
    /// `Plan::run_journaled`), else resume it with `Plan::resume`.
    pub state: Option<RunState>,
    /// The side effect that was under way when the run stopped, if no checkpoint followed it.
    pub pending: Option<Effect>,
    /// What ended the run's wait (an event or its deadline), when it was woken from one:
    /// hand it to the state with `RunState::deliver` before resuming.
    pub event: Option<WaitEvent>,
}

/// A stored run, whole.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run id.
    pub run_id: String,
    /// Where it is in its life.
    pub status: Status,
    /// How many times it has been claimed.
    pub attempt: u32,
    /// The worker holding it, while `running`.
    pub lease_owner: Option<String>,
    /// When that worker's lease runs out.
    pub lease_expires_at: Option<SystemTime>,
    /// The name its flow's source is compiled under.
    pub flow_file: String,
    /// Its flow's name.
    pub flow_name: String,
    /// Its flow's hash.
    pub flow_hash: String,
    /// Its flow's source.
    pub flow_source: String,
    /// The flows its flow uses, as it started with them (`None`: stored before they were).
    pub used_flows: Option<UsedFlows>,
    /// Its inputs.
    pub inputs: Map<String, Value>,
    /// Who its messages go to.
    pub recipient: Option<String>,
    /// The state saved last.
    pub state: Option<RunState>,
    /// The side effect under way, if no checkpoint followed it.
    pub pending: Option<Effect>,
    /// What it waits for, while `waiting` (from its state).
    pub wait: Option<WaitFor>,
    /// What ended its last wait, until a worker takes it.
    pub event: Option<WaitEvent>,
    /// Its outcome, once it has ended.
    pub outcome: Option<Outcome>,
    /// Why the store ended it, when no outcome says (a state it could not read back).
    pub error: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// When it ended.
    pub finished_at: Option<SystemTime>,
}

/// A stored run, in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// Its flow's name.
    pub flow_name: String,
    /// Where it is in its life.
    pub status: Status,
    /// How many times it has been claimed.
    pub attempt: u32,
    /// Why the store ended it, when no outcome says.
    pub error: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// When it ended.
    pub finished_at: Option<SystemTime>,
}

/// Which runs [`crate::RunStore::list_runs`] lists; the default lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs with this status.
    pub status: Option<Status>,
    /// Only runs of the flow with this name.
    pub flow: Option<String>,
}

/// One page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The runs.
    pub runs: Vec<RunSummary>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// Where a page of runs starts: opaque text made by the store (safe in a URL), handed back
/// as it was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor from text a page's [`Page::next`] gave (`?cursor=...`). The store checks it
    /// when it is used ([`StoreError::Invalid`] if it did not make it).
    pub fn new(text: impl Into<String>) -> Self {
        Cursor(text.into())
    }

    /// The cursor as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cursor after the run stored at position `seq`.
    pub(crate) fn after(seq: i64) -> Self {
        Cursor(format!("r{seq}"))
    }

    /// The cursor after the event stored at position `seq`.
    pub(crate) fn after_event(seq: i64) -> Self {
        Cursor(format!("e{seq}"))
    }

    /// The position the next page of runs starts before.
    pub(crate) fn position(&self) -> Result<i64, StoreError> {
        self.position_of('r')
    }

    /// The position the next page of events starts before.
    pub(crate) fn event_position(&self) -> Result<i64, StoreError> {
        self.position_of('e')
    }

    fn position_of(&self, kind: char) -> Result<i64, StoreError> {
        let digits = self.0.strip_prefix(kind).unwrap_or("");
        Some(digits)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "the page cursor `{}` was not made by this store; pass the `next` of the page before, as it was given",
                    self.0.chars().take(40).collect::<String>()
                ))
            })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
