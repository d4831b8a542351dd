//! Momentum keeps a coaching or leadership program alive between sessions:
//! nudges after each session, one-tap reports, manager check-ins and a weekly
//! aggregated digest, in Slack and Microsoft Teams.
//!
//! Layout (see STYLE.md): `domain` is pure, `store` owns every SQL statement,
//! `scheduler` plans and sends jobs, `chat` holds the platform adapters (and the
//! local simulator), `http` the thin inbound handlers, `app` the use cases.
//!
//! The local workspace (`chat::sim`, `demo`, `playground`, `bench`) is the
//! `local` feature, on by default for the demo and the tests; the server
//! builds without it (`--no-default-features`), so nothing that serves can
//! come to need it.

pub mod app;
#[cfg(feature = "local")]
pub mod bench;
pub mod chart;
pub mod chat;
pub mod clock;
pub mod config;
pub mod crypto;
#[cfg(feature = "local")]
pub mod demo;
pub mod domain;
pub mod feeds;
pub mod http;
pub mod jwt;
pub mod metrics;
#[cfg(feature = "local")]
pub mod playground;
pub mod scheduler;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod templates;
