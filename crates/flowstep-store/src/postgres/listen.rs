//! Waking workers with LISTEN/NOTIFY: every run that becomes `queued` sends a notification on
//! [`CHANNEL`] when its transaction commits (a trigger, `migrations/0004_work_notify.sql`), and
//! a [`WorkListener`] on a connection of its own turns each into a wake-up of the worker
//! waiting in [`crate::RunStore::wait_for_work`], whichever process made the run runnable.
//!
//! Notifications sent while the connection is down are lost (Postgres keeps none for a
//! listener that is not connected): after a reconnection the worker is woken once to look, and
//! its poll interval stays the backstop (and what finds leases that expired).

use super::errors::store_error;
use crate::error::StoreError;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The channel runs that become runnable are announced on.
pub(crate) const CHANNEL: &str = "flowstep_work";

/// A task listening on [`CHANNEL`]; stopped when dropped.
#[derive(Debug)]
pub(crate) struct WorkListener {
    /// Notified (one permit) at each notification, so that one that arrives while the worker
    /// is claiming is not missed.
    pub(crate) work: Arc<Notify>,
    task: JoinHandle<()>,
}

impl WorkListener {
    /// Connects a listener (a connection of its own) and starts its task.
    pub(crate) async fn start(pool: &PgPool, location: &str) -> Result<Self, StoreError> {
        let err = |e| store_error(location, e);
        let mut listener = PgListener::connect_with(pool).await.map_err(err)?;
        listener.listen(CHANNEL).await.map_err(err)?;
        let work = Arc::new(Notify::new());
        let wake = work.clone();
        let location = location.to_owned();
        let task = tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => wake.notify_one(),
                    // The connection was lost; the next call reconnects. What was announced in
                    // between is not known: look once.
                    Ok(None) => {
                        tracing::debug!(store = %location, "the work listener reconnects");
                        wake.notify_one();
                    }
                    Err(e) => {
                        tracing::warn!(store = %location, "the work listener failed, retrying in 1s: {e}");
                        wake.notify_one();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(WorkListener { work, task })
    }
}

impl Drop for WorkListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
