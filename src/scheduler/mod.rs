//! Sending what is due. Planning (facts → job rows) lives in `app` and the
//! pure `domain::plan`; the dispatcher here leases due rows, sends them through
//! the chat port and records every outcome;
//! `feeds` reads programs' bookings feeds every hour.

mod days;
pub mod dispatch;
pub mod feeds;

pub use dispatch::{DispatchStats, Dispatcher};
