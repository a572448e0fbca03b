//! Rate limits on sending, with governor: one limiter for every request the steps of a
//! `kind()` send (`HttpConfig::rate_limit`, the CLI's `--rate`), and one per host for the
//! steps that declare `rate_limit:`, shared by every run. A 429 from a host slows that host:
//! its rate halves and it pauses for the answer's `Retry-After`; each quiet second then gives
//! back a tenth of the declared rate.
//!
//! With a [`SharedRateLimiter`] (the workers of one deployment on Postgres), a step's
//! `rate_limit:` also holds across processes: after this process's own limiter, the request
//! takes its turn from the shared one. The burst is the same everywhere (a twentieth of the
//! rate, at least one), so no one-second window sees more than the rate and that burst.

use flowstep_engine::SharedRateLimiter;
use flowstep_spec::Rate;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest pause a `Retry-After` on a 429 imposes on every request to its host (the step
/// that got it still follows its own retry rules).
pub const MAX_PAUSE: Duration = Duration::from_secs(60);
/// How far a host's rate can be slowed: a sixteenth of its declared rate.
const FLOOR_DIVISOR: f64 = 16.0;
/// At most one halving per this long, so that the 429s of requests already in flight when the
/// first one came do not slow the host down to the floor at once.
const SLOWDOWN_EVERY: Duration = Duration::from_secs(1);
/// After this long without a 429, a tenth of the declared rate comes back, again and again.
const RECOVER_EVERY: Duration = Duration::from_secs(1);
const RECOVER_FRACTION: f64 = 0.1;

/// The longest a request sleeps before asking the shared limiter again.
const SHARED_RECHECK: Duration = Duration::from_secs(1);

/// Every limiter of one `kind()`: the process-wide one and those per host.
#[derive(Debug)]
pub struct Limits {
    global: Option<Gate>,
    hosts: Mutex<HashMap<String, Arc<Gate>>>,
    shared: Option<Arc<dyn SharedRateLimiter>>,
}

impl Limits {
    /// Limits with `global` for every request, when set, and the steps' per-host limits held
    /// in `shared` too, when given.
    pub fn new(global: Option<Rate>, shared: Option<Arc<dyn SharedRateLimiter>>) -> Self {
        Limits {
            global: global.map(|r| Gate::new(Some(r.per_second()))),
            hosts: Mutex::default(),
            shared,
        }
    }

    /// Waits until a request to `host` may go: for the host's limiter when it has one (a step
    /// with `rate_limit: step`, or an earlier 429), then for the process-wide one.
    pub async fn acquire(&self, host: &str, step: Option<Rate>) {
        let gate = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            match (hosts.get(host), step) {
                (Some(g), Some(rate)) => {
                    g.declare(rate.per_second());
                    Some(g.clone())
                }
                (Some(g), None) => Some(g.clone()),
                (None, Some(rate)) => {
                    let g = Arc::new(Gate::new(Some(rate.per_second())));
                    hosts.insert(host.to_owned(), g.clone());
                    Some(g)
                }
                (None, None) => None,
            }
        };
        if let Some(g) = gate {
            g.wait(host).await;
        }
        if let (Some(shared), Some(rate)) = (&self.shared, step) {
            take_shared_turn(shared.as_ref(), host, rate.per_second()).await;
        }
        if let Some(g) = &self.global {
            g.wait("every host").await;
        }
    }

    /// `host` answered 429 Too Many Requests, asking to wait `retry_after` (if it said). Its
    /// limiter halves its rate and pauses; a host without one gets one, at half the
    /// process-wide rate when there is one, else pausing only.
    pub fn too_many_requests(&self, host: &str, retry_after: Option<Duration>) {
        let gate = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(host.to_owned())
                .or_insert_with(|| {
                    Arc::new(Gate::new(
                        self.global.as_ref().and_then(|g| g.lock().declared),
                    ))
                })
                .clone()
        };
        let now = Instant::now();
        let mut s = gate.lock();
        let before = s.current;
        s.slow_down(now, retry_after);
        if s.current != before
            && let (Some(was), Some(now)) = (before, s.current)
        {
            tracing::info!(
                "{host} answered 429 Too Many Requests: sending to it at {} instead of {} \
                 until it stops refusing",
                per_second(now),
                per_second(was),
            );
        }
        if let Some(until) = s.paused_until.filter(|u| *u > now) {
            tracing::info!(
                "{host} answered 429 with Retry-After: no request goes to it for {} ms",
                (until - now).as_millis()
            );
        }
    }
}

/// Waits for a turn from the shared limiter of `host`. When it cannot be read, the request
/// goes on under this process's own limiter alone, and a warning says so.
async fn take_shared_turn(shared: &dyn SharedRateLimiter, host: &str, rate: f64) {
    let key = format!("http:{host}");
    loop {
        match shared.try_acquire(&key, rate, burst_of(rate)).await {
            Ok(wait) if wait.is_zero() => return,
            Ok(wait) => tokio::time::sleep(wait.min(SHARED_RECHECK)).await,
            Err(reason) => {
                tracing::warn!(
                    "the rate limit shared with other workers for {host} could not be read \
                     ({reason}); this request is limited by this process's own limiter only"
                );
                return;
            }
        }
    }
}

/// The burst a limiter at `rate` a second allows: a twentieth of a second's worth, at least
/// one, so that no one-second window sees more than the rate and 5%.
pub(crate) fn burst_of(rate: f64) -> u32 {
    (rate / 20.0).floor().clamp(1.0, 10_000.0) as u32
}

fn per_second(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else {
        format!("{:.1}/min", rate * 60.0)
    }
}

/// One limiter: a governor limiter at the current rate, rebuilt when the rate changes.
#[derive(Debug)]
struct Gate {
    state: Mutex<GateState>,
}

impl Gate {
    fn new(declared: Option<f64>) -> Self {
        Gate {
            state: Mutex::new(GateState::new(declared, Instant::now())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A step declares `rate` for this host: the lowest rate declared applies.
    fn declare(&self, rate: f64) {
        let mut s = self.lock();
        if s.declared.is_none_or(|d| rate < d) {
            let now = Instant::now();
            s.declared = Some(rate);
            s.current = Some(s.current.map_or(rate, |c| c.min(rate)));
            s.rebuild(now);
        }
    }

    async fn wait(&self, what: &str) {
        let clock = DefaultClock::default();
        loop {
            let (limiter, pause) = {
                let mut s = self.lock();
                let now = Instant::now();
                s.recover(now);
                (
                    s.limiter.clone(),
                    s.paused_until.and_then(|u| u.checked_duration_since(now)),
                )
            };
            if let Some(pause) = pause.filter(|p| !p.is_zero()) {
                tokio::time::sleep(pause).await;
                continue;
            }
            let Some(limiter) = limiter else { return };
            match limiter.check() {
                Ok(()) => return,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(clock.now());
                    tracing::trace!(
                        limit = what,
                        wait_us = wait.as_micros() as u64,
                        "rate limit"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// What a limiter knows: the declared rate, the current one (lower after 429s), the pause a
/// `Retry-After` asked for, and when the rate last changed.
#[derive(Debug)]
struct GateState {
    /// Requests per second declared (a step's `rate_limit`, or the process-wide rate); `None`
    /// for a host that only pauses on a 429.
    declared: Option<f64>,
    /// Requests per second now.
    current: Option<f64>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    paused_until: Option<Instant>,
    last_slowdown: Option<Instant>,
    /// When the rate last came back by a step, or was slowed.
    last_change: Instant,
}

impl GateState {
    fn new(declared: Option<f64>, now: Instant) -> Self {
        let mut s = GateState {
            declared,
            current: declared,
            limiter: None,
            paused_until: None,
            last_slowdown: None,
            last_change: now,
        };
        s.rebuild(now);
        s
    }

    /// A governor limiter at the current rate. Its burst is a twentieth of a second's worth
    /// (at least one request), so that no one-second window sees more than the rate and 5%.
    fn rebuild(&mut self, now: Instant) {
        self.last_change = now;
        self.limiter = self.current.and_then(|rate| {
            let interval = Duration::from_secs_f64(1.0 / rate.max(1e-6));
            let burst = NonZeroU32::new(burst_of(rate))?;
            let quota = Quota::with_period(interval)?.allow_burst(burst);
            Some(Arc::new(RateLimiter::direct(quota)))
        });
    }

    /// A 429: halve the rate (once per [`SLOWDOWN_EVERY`], down to the floor) and pause for
    /// `retry_after` (at most [`MAX_PAUSE`]).
    fn slow_down(&mut self, now: Instant, retry_after: Option<Duration>) {
        if let Some(after) = retry_after {
            let until = now + after.min(MAX_PAUSE);
            self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
        }
        let recent = self
            .last_slowdown
            .is_some_and(|t| now.duration_since(t) < SLOWDOWN_EVERY);
        if let (Some(declared), Some(current), false) = (self.declared, self.current, recent) {
            self.last_slowdown = Some(now);
            let slower = (current / 2.0).max(declared / FLOOR_DIVISOR);
            if slower < current {
                self.current = Some(slower);
                self.rebuild(now);
            }
        }
    }

    /// Gives back a tenth of the declared rate for every [`RECOVER_EVERY`] since the last
    /// change, up to the declared rate.
    fn recover(&mut self, now: Instant) {
        let (Some(declared), Some(current)) = (self.declared, self.current) else {
            return;
        };
        if current >= declared {
            return;
        }
        let since = now.duration_since(self.last_change);
        let steps = (since.as_secs_f64() / RECOVER_EVERY.as_secs_f64()).floor();
        if steps >= 1.0 {
            self.current = Some((current + steps * declared * RECOVER_FRACTION).min(declared));
            self.rebuild(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_429_halves_the_rate_once_a_second_down_to_a_sixteenth() {
        let t0 = Instant::now();
        let mut s = GateState::new(Some(80.0), t0);
        s.slow_down(at(t0, 0), None);
        assert_eq!(s.current, Some(40.0));
        // The in-flight requests' 429s within the same second do not count again.
        s.slow_down(at(t0, 300), None);
        assert_eq!(s.current, Some(40.0));
        for (i, want) in [(1, 20.0), (2, 10.0), (3, 5.0), (4, 5.0)] {
            s.slow_down(at(t0, 1000 * i), None);
            assert_eq!(s.current, Some(want), "after {i} s");
        }
        assert!(s.paused_until.is_none());
    }

    #[test]
    fn quiet_seconds_give_back_a_tenth_of_the_declared_rate() {
        let t0 = Instant::now();
        let mut s = GateState::new(Some(80.0), t0);
        s.slow_down(t0, None);
        s.recover(at(t0, 999));
        assert_eq!(s.current, Some(40.0));
        s.recover(at(t0, 1000));
        assert_eq!(s.current, Some(48.0));
        s.recover(at(t0, 3500));
        assert_eq!(s.current, Some(64.0));
        s.recover(at(t0, 60_000));
        assert_eq!(s.current, Some(80.0));
    }

    #[test]
    fn retry_after_pauses_the_host_for_at_most_a_minute() {
        let t0 = Instant::now();
        let mut s = GateState::new(None, t0);
        s.slow_down(t0, Some(Duration::from_secs(2)));
        assert_eq!(s.paused_until, Some(at(t0, 2000)));
        assert!(s.limiter.is_none() && s.current.is_none());
        s.slow_down(t0, Some(Duration::from_secs(3600)));
        assert_eq!(s.paused_until, Some(t0 + MAX_PAUSE));
        // A shorter pause asked later does not shorten the one in force.
        s.slow_down(at(t0, 10), Some(Duration::from_secs(1)));
        assert_eq!(s.paused_until, Some(t0 + MAX_PAUSE));
    }

    #[tokio::test]
    async fn a_limiter_spaces_requests_at_its_rate() {
        let limits = Limits::new(None, None);
        let rate: Rate = "100/s".parse().unwrap();
        let start = Instant::now();
        for _ in 0..55 {
            limits.acquire("api.example.com", Some(rate)).await;
        }
        // A burst of 5, then one every 10 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(450), "{took:?}");
        // Another host has its own limiter; one without a rate is not limited.
        let start = Instant::now();
        limits.acquire("other.example.com", Some(rate)).await;
        limits.acquire("free.example.com", None).await;
        assert!(start.elapsed() < Duration::from_millis(200));
    }
}
