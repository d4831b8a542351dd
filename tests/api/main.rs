//! Integration tests: the whole service against the local workspace.

mod admin_api;
mod flow;
mod helpers;
mod slack_inbound;
