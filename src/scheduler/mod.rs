//! Sending what is due. Planning (facts → job rows) lives in `app` and the
//! pure `domain::plan`; the dispatcher here leases due rows, sends them through
//! the chat port and records every outcome;
//! `feeds` reads programs' bookings feeds every hour; `resolve` matches
//! people given by email to chat users in the background.

mod days;
pub mod dispatch;
pub mod feeds;
pub mod resolve;

pub use dispatch::{DispatchStats, Dispatcher};
pub use resolve::Resolver;
