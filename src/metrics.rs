//! Prometheus metrics (`/metrics`): sends and their latency, Slack's 429s
//! and inbound requests by route and status, counted in this process; jobs
//! by state and operational category (never a behavioural one) and the
//! dispatcher's lag are read from the database by a background refresh
//! (`keep_fresh`), so every replica reports the same totals and a scrape,
//! however frequent, only encodes what is already in memory.

use crate::domain::delivery::ReasonCategory;
use crate::domain::errors::with_causes;
use crate::store::Store;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    state: String,
    reason: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RouteLabels, Counter>,
    pub sends: Family<OutcomeLabels, Counter>,
    pub send_seconds: Histogram,
    pub rate_limited: Counter,
    jobs: Family<JobLabels, Gauge>,
    due: Gauge,
    lag_seconds: Gauge<f64, AtomicU64>,
    refreshed_at: Gauge,
    refresh_seconds: Gauge<f64, AtomicU64>,
}

pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("momentum");
        let m = Metrics {
            http_requests: Family::default(),
            sends: Family::default(),
            send_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
            rate_limited: Counter::default(),
            jobs: Family::default(),
            due: Gauge::default(),
            lag_seconds: Gauge::default(),
            refreshed_at: Gauge::default(),
            refresh_seconds: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "Inbound HTTP requests by route and status",
            m.http_requests.clone(),
        );
        registry.register(
            "sends",
            "Messages the dispatcher tried to send, by outcome (sent, retry, failed, unknown)",
            m.sends.clone(),
        );
        registry.register(
            "send_duration_seconds",
            "Time a send took at the chat platform",
            m.send_seconds.clone(),
        );
        registry.register(
            "rate_limited",
            "Calls the chat platform answered with 429",
            m.rate_limited.clone(),
        );
        registry.register(
            "jobs",
            "Jobs in the database by state and (for skipped and failed) operational category",
            m.jobs.clone(),
        );
        registry.register("jobs_due", "Pending jobs already due", m.due.clone());
        registry.register(
            "dispatcher_lag_seconds",
            "How long the oldest due pending job has waited",
            m.lag_seconds.clone(),
        );
        registry.register(
            "database_refreshed_timestamp_seconds",
            "When the job figures were last read from the database (0: not yet)",
            m.refreshed_at.clone(),
        );
        registry.register(
            "database_refresh_duration_seconds",
            "How long the last read of the job figures took",
            m.refresh_seconds.clone(),
        );
        Metrics { registry, ..m }
    })
}

/// Reads the job figures from the database into the gauges.
pub async fn refresh(store: &Store, now: jiff::Timestamp) -> Result<(), crate::store::StoreError> {
    let m = metrics();
    let started = std::time::Instant::now();
    let totals = store.job_totals().await?;
    let (due, oldest) = store.due_jobs(now).await?;
    // Bounded labels: the state, and for skipped and failed jobs their
    // operational category. Behavioural ones (answered before the reminder,
    // paused, stopped, away, over the cap) say what people did: not here.
    let mut by_label: std::collections::HashMap<JobLabels, i64> = Default::default();
    for (state, reason, count) in totals {
        let category = reason.as_deref().map(ReasonCategory::of);
        if category.is_some_and(ReasonCategory::behavioural) {
            continue;
        }
        let labels = JobLabels {
            state,
            reason: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        };
        *by_label.entry(labels).or_default() += count;
    }
    m.jobs.clear();
    for (labels, count) in by_label {
        m.jobs.get_or_create(&labels).set(count);
    }
    m.due.set(due);
    let lag = oldest.map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
    m.lag_seconds.set(lag);
    m.refreshed_at.set(now.as_second());
    m.refresh_seconds.set(started.elapsed().as_secs_f64());
    Ok(())
}

/// Refreshes the job figures every `every` until `stop` turns true; a
/// failed read is logged and the last figures stay (their timestamp says
/// how old they are).
pub async fn keep_fresh(
    store: Store,
    clock: crate::clock::SharedClock,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = refresh(&store, clock.now()).await {
            tracing::warn!(error = %with_causes(&e), "job figures for /metrics not read");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The text exposition of what is in memory: no database work.
pub fn render() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &metrics().registry);
    out
}
