//! Prometheus metrics (`/metrics`): sends and their latency, Slack's 429s
//! and inbound requests by route and status, counted in this process; jobs
//! by state and operational category (never a behavioural one) and the
//! dispatcher's lag are read from the database at scrape time, so every
//! replica reports the same totals.

use crate::domain::delivery::ReasonCategory;
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
        Metrics { registry, ..m }
    })
}

/// The text exposition, with the database's figures read now.
pub async fn render(
    store: &Store,
    now: jiff::Timestamp,
) -> Result<String, crate::store::StoreError> {
    let m = metrics();
    let totals = store.job_totals().await?;
    let (due, oldest) = store.due_jobs(now).await?;
    m.jobs.clear();
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
    for (labels, count) in by_label {
        m.jobs.get_or_create(&labels).set(count);
    }
    m.due.set(due);
    let lag = oldest.map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
    m.lag_seconds.set(lag);
    let mut out = String::new();
    encode(&mut out, &m.registry).map_err(|e| crate::store::StoreError::Conflict(e.to_string()))?;
    Ok(out)
}
