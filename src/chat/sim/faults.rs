//! Failure modes of the local workspace, as real Slack shows them: 429 with
//! `Retry-After`, 500, a call that hangs past the client's timeout, a slow
//! call — per method and for a share of calls — and Slack's rate limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// HTTP 429 with `Retry-After: seconds`; nothing happens.
    RateLimited { retry_after: u64 },
    /// HTTP 500. With `after: true` the call took effect first (a message was
    /// posted), so the caller cannot tell.
    ServerError { after: bool },
    /// No answer for `seconds`. With `after: true` the call took effect first.
    Hang { seconds: u64, after: bool },
    /// The answer comes `millis` late.
    Slow { millis: u64 },
}

/// A fault on a share of the calls to one method (`*` for every method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub method: String,
    /// Between 0 and 1.
    pub share: f64,
    #[serde(flatten)]
    pub kind: FaultKind,
}

impl Fault {
    pub fn new(method: &str, share: f64, kind: FaultKind) -> Self {
        Self {
            method: method.to_string(),
            share,
            kind,
        }
    }

    pub fn applies_to(&self, method: &str) -> bool {
        self.method == "*" || self.method == method
    }
}
