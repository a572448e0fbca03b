//! Waits and the events that end them, in the SQLite store: parking a run at its wait,
//! recording an event and waking the run it is for (one transaction each, so an event wakes at
//! most one run, once, whichever of the two came first), firing deadlines and forgetting old
//! events. The keys both sides are found under are the engine's ([`flowstep_engine::wait_key`]).

use super::queries::{self, Fence, WaitRow};
use super::{SqliteStore, fence};
use crate::decode::millis;
use crate::error::StoreError;
use crate::event::{EVENT_RETENTION, NewEvent, Recorded};
use crate::model::Claimed;
use flowstep_engine::{RunState, WaitEvent, event_keys};
use sqlx::{Sqlite, Transaction};
use std::time::SystemTime;

/// SQLite's write lock is taken at `BEGIN`, so the transaction never has to upgrade a read
/// (which would fail at once, not wait, when another connection wrote in between).
const BEGIN: &str = "BEGIN IMMEDIATE";

impl SqliteStore {
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer.begin_with(BEGIN).await.map_err(|e| self.err(e))
    }

    pub(super) async fn park(
        &self,
        claimed: &Claimed,
        state: &RunState,
    ) -> Result<bool, StoreError> {
        self.check_state(claimed, state)?;
        let Some(wait) = state.waiting().filter(|_| state.is_suspended()) else {
            return Err(StoreError::Invalid(format!(
                "run `{}`: register_wait was handed a state that is not waiting",
                claimed.run_id
            )));
        };
        let state_json = self.to_json("the run's state", state)?;
        let paths_json = self.to_json("the wait's paths", &wait.paths())?;
        let now = self.now();
        let deadline = i64::try_from(wait.deadline_ms).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        let Fence { run_id, .. } = fence(claimed);
        let parked = queries::register_wait(&mut *tx, fence(claimed), &state_json, deadline, now)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| self.err(e));
        if !matches!(parked, Ok(n) if n > 0) {
            drop(tx);
            return self.fenced_rows(claimed, parked).await.map(|()| false);
        }
        let sql = |e| self.err(e);
        queries::delete_waits(&mut *tx, run_id).await.map_err(sql)?;
        let keys = wait.keys();
        for (key, event_type) in keys.iter().zip(&wait.events) {
            let row = WaitRow {
                wait_key: key,
                run_id,
                event_type,
                paths_json: &paths_json,
            };
            queries::insert_wait(&mut *tx, row, now)
                .await
                .map_err(sql)?;
        }
        // An event that came first (a fast payer), within retention and after the run was
        // created, ends the wait at once.
        let since = now.saturating_sub(millis_of(EVENT_RETENTION));
        let mut first: Option<queries::KeyedEventRow> = None;
        for key in &keys {
            if let Some(e) = queries::select_event_for_key(&mut *tx, key, since, run_id)
                .await
                .map_err(sql)?
                && first.as_ref().is_none_or(|f| e.seq < f.seq)
            {
                first = Some(e);
            }
        }
        let woke = match first {
            None => false,
            Some(e) => {
                let payload =
                    serde_json::from_str(&e.payload_json).map_err(|err| StoreError::Corrupt {
                        location: format!("{} (event `{}`)", self.location, e.event_id),
                        reason: format!("its `payload_json` cannot be read by this build: {err}"),
                    })?;
                let event = WaitEvent::Event {
                    provider: e.provider,
                    event_type: e.event_type,
                    event_id: e.event_id,
                    payload,
                };
                self.wake(&mut tx, run_id, &event, Some(e.seq), now).await?
            }
        };
        tx.commit().await.map_err(sql)?;
        tracing::debug!(run_id, woke, "run waiting");
        Ok(woke)
    }

    /// Wakes waiting run `run_id` with `event` (marking event `event_seq` as taken by it), and
    /// forgets what it waited for. `false` when it was not waiting.
    async fn wake(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        run_id: &str,
        event: &WaitEvent,
        event_seq: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = |e| self.err(e);
        let event_json = self.to_json("the event", event)?;
        let woke = queries::wake_run(&mut **tx, run_id, &event_json, now)
            .await
            .map_err(sql)?;
        queries::delete_waits(&mut **tx, run_id)
            .await
            .map_err(sql)?;
        if woke && let Some(seq) = event_seq {
            queries::mark_event_delivered(&mut **tx, seq, run_id)
                .await
                .map_err(sql)?;
        }
        Ok(woke)
    }

    pub(super) async fn record(
        &self,
        event: NewEvent,
        shapes: &[(String, Vec<String>)],
    ) -> Result<Recorded, StoreError> {
        for (what, text) in [
            ("provider", &event.provider),
            ("event id", &event.event_id),
            ("event type", &event.event_type),
        ] {
            if text.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "an event needs a {what}, and it is empty"
                )));
            }
        }
        let sql = |e| self.err(e);
        let payload_json = self.to_json("the event", &event.payload)?;
        let full_type = format!("{}.{}", event.provider, event.event_type);
        let now = self.now();
        let mut tx = self.begin().await?;
        let Some(seq) = queries::insert_event(
            &mut *tx,
            &event.provider,
            &event.event_id,
            &event.event_type,
            &payload_json,
            millis(event.received_at),
        )
        .await
        .map_err(sql)?
        else {
            drop(tx);
            return Ok(Recorded::Duplicate);
        };
        // The shapes of the flows served and of the runs waiting now (a flow since changed).
        let mut all: Vec<Vec<String>> = shapes
            .iter()
            .filter(|(t, _)| *t == full_type)
            .map(|(_, paths)| paths.clone())
            .collect();
        for paths_json in queries::select_wait_shapes(&mut *tx, &full_type)
            .await
            .map_err(sql)?
        {
            if let Ok(paths) = serde_json::from_str::<Vec<String>>(&paths_json) {
                all.push(paths);
            }
        }
        all.sort();
        all.dedup();
        let keys = event_keys(&full_type, &event.payload, &all);
        let mut waiting: Option<(i64, String)> = None;
        for key in &keys {
            queries::insert_event_key(&mut *tx, key, seq)
                .await
                .map_err(sql)?;
            if let Some(w) = queries::select_waits_for_key(&mut *tx, key)
                .await
                .map_err(sql)?
                .into_iter()
                .next()
                && waiting.as_ref().is_none_or(|f| w.0 < f.0)
            {
                waiting = Some(w);
            }
        }
        let mut woke = None;
        if let Some((_, run_id)) = waiting {
            let wait_event = WaitEvent::Event {
                provider: event.provider.clone(),
                event_type: event.event_type.clone(),
                event_id: event.event_id.clone(),
                payload: event.payload,
            };
            if self
                .wake(&mut tx, &run_id, &wait_event, Some(seq), now)
                .await?
            {
                woke = Some(run_id);
            }
        }
        tx.commit().await.map_err(sql)?;
        tracing::debug!(provider = %event.provider, event_id = %event.event_id, woke = ?woke, "event recorded");
        Ok(Recorded::Inserted { woke })
    }

    pub(super) async fn fire(
        &self,
        now: SystemTime,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = |e| self.err(e);
        let timeout_json = self.to_json("a timeout", &WaitEvent::Timeout)?;
        let mut tx = self.begin().await?;
        let woken = queries::fire_timers(&mut *tx, millis(now), limit, &timeout_json)
            .await
            .map_err(sql)?;
        for run_id in &woken {
            queries::delete_waits(&mut *tx, run_id).await.map_err(sql)?;
        }
        tx.commit().await.map_err(sql)?;
        for run_id in &woken {
            tracing::debug!(%run_id, "wait timed out; the run is queued");
        }
        Ok(woken)
    }

    pub(super) async fn prune(&self, before: SystemTime) -> Result<u64, StoreError> {
        let sql = |e| self.err(e);
        let mut tx = self.begin().await?;
        let gone = queries::prune_events(&mut *tx, millis(before))
            .await
            .map_err(sql)?;
        for seq in &gone {
            queries::delete_event_keys(&mut *tx, *seq)
                .await
                .map_err(sql)?;
        }
        tx.commit().await.map_err(sql)?;
        Ok(gone.len() as u64)
    }
}

fn millis_of(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
