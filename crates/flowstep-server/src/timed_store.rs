//! [`TimedStore`]: the server's run store, each call timed into
//! `flowstep_store_latency_seconds{operation}` ([`Metrics::store_call`]). Every call the API
//! and the run loop make goes through it; it changes nothing else.

use crate::metrics::Metrics;
use async_trait::async_trait;
use flowstep_engine::{Effect, Outcome, RunState};
use flowstep_store::{
    Claimed, Creation, Cursor, DeliveryStatus, EventPage, NewEvent, NewRun, Page, Recorded,
    RunFilter, RunRecord, RunStore, StoreError,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A [`RunStore`] that times each call of the store it wraps.
pub(crate) struct TimedStore {
    inner: Arc<dyn RunStore>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    pub(crate) fn new(inner: Arc<dyn RunStore>, metrics: Arc<Metrics>) -> Self {
        TimedStore { inner, metrics }
    }
}

#[async_trait]
impl RunStore for TimedStore {
    // Waiting is not a store operation to time (it lasts until work comes).
    async fn wait_for_work(&self, max: Duration) {
        self.inner.wait_for_work(max).await;
    }

    fn shared_rate_limiter(&self) -> Option<Arc<dyn flowstep_engine::SharedRateLimiter>> {
        self.inner.shared_rate_limiter()
    }

    async fn create_run(&self, run: NewRun) -> Result<Creation, StoreError> {
        let started = Instant::now();
        let result = self.inner.create_run(run).await;
        self.metrics.store_call("create_run", started.elapsed());
        result
    }

    async fn claim(&self, worker_id: &str, lease: Duration) -> Result<Option<Claimed>, StoreError> {
        let started = Instant::now();
        let result = self.inner.claim(worker_id, lease).await;
        self.metrics.store_call("claim", started.elapsed());
        result
    }

    async fn claim_many(
        &self,
        worker_id: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let started = Instant::now();
        let result = self.inner.claim_many(worker_id, lease, limit).await;
        self.metrics.store_call("claim_many", started.elapsed());
        result
    }

    async fn heartbeat(&self, claimed: &Claimed, lease: Duration) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.heartbeat(claimed, lease).await;
        self.metrics.store_call("heartbeat", started.elapsed());
        result
    }

    async fn save(&self, claimed: &Claimed, state: &RunState) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.save(claimed, state).await;
        self.metrics.store_call("save", started.elapsed());
        result
    }

    async fn record_effect(
        &self,
        claimed: &Claimed,
        state: Option<&RunState>,
        effect: &Effect,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.record_effect(claimed, state, effect).await;
        self.metrics.store_call("record_effect", started.elapsed());
        result
    }

    async fn finish(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.finish(claimed, outcome).await;
        self.metrics.store_call("finish", started.elapsed());
        result
    }

    async fn fail(&self, claimed: &Claimed, reason: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.fail(claimed, reason).await;
        self.metrics.store_call("fail", started.elapsed());
        result
    }

    async fn release(&self, claimed: &Claimed) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.release(claimed).await;
        self.metrics.store_call("release", started.elapsed());
        result
    }

    async fn register_wait(&self, claimed: &Claimed, state: &RunState) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.register_wait(claimed, state).await;
        self.metrics.store_call("register_wait", started.elapsed());
        result
    }

    async fn fire_timers(&self, now: SystemTime, limit: u32) -> Result<Vec<String>, StoreError> {
        let started = Instant::now();
        let result = self.inner.fire_timers(now, limit).await;
        self.metrics.store_call("fire_timers", started.elapsed());
        result
    }

    async fn prune_events(&self, before: SystemTime) -> Result<u64, StoreError> {
        let started = Instant::now();
        let result = self.inner.prune_events(before).await;
        self.metrics.store_call("prune_events", started.elapsed());
        result
    }

    async fn cancel(&self, run_id: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.cancel(run_id).await;
        self.metrics.store_call("cancel", started.elapsed());
        result
    }

    async fn retry(&self, run_id: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.retry(run_id).await;
        self.metrics.store_call("retry", started.elapsed());
        result
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get_run(run_id).await;
        self.metrics.store_call("get_run", started.elapsed());
        result
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.check_ready().await;
        self.metrics.store_call("check_ready", started.elapsed());
        result
    }

    async fn count_runs(&self, filter: &RunFilter) -> Result<u64, StoreError> {
        let started = Instant::now();
        let result = self.inner.count_runs(filter).await;
        self.metrics.store_call("count_runs", started.elapsed());
        result
    }

    async fn record_event(
        &self,
        event: NewEvent,
        shapes: &[(String, Vec<String>)],
    ) -> Result<Recorded, StoreError> {
        let started = Instant::now();
        let result = self.inner.record_event(event, shapes).await;
        self.metrics.store_call("record_event", started.elapsed());
        result
    }

    async fn event_woke(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let started = Instant::now();
        let result = self.inner.event_woke(provider, event_id).await;
        self.metrics.store_call("event_woke", started.elapsed());
        result
    }

    async fn record_delivery_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError> {
        let started = Instant::now();
        let result = self.inner.record_delivery_status(status).await;
        self.metrics
            .store_call("record_delivery_status", started.elapsed());
        result
    }

    async fn delivery_statuses(
        &self,
        delivery_ids: &[String],
    ) -> Result<Vec<DeliveryStatus>, StoreError> {
        let started = Instant::now();
        let result = self.inner.delivery_statuses(delivery_ids).await;
        self.metrics
            .store_call("delivery_statuses", started.elapsed());
        result
    }

    async fn list_events(
        &self,
        provider: Option<&str>,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<EventPage, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_events(provider, limit, cursor).await;
        self.metrics.store_call("list_events", started.elapsed());
        result
    }

    async fn list_runs(
        &self,
        filter: &RunFilter,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page, StoreError> {
        let started = Instant::now();
        let result = self.inner.list_runs(filter, limit, cursor).await;
        self.metrics.store_call("list_runs", started.elapsed());
        result
    }
}
