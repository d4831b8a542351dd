//! The resolver loop: matches people given by email to chat users in the
//! background (see `app::resolution`), one organisation's waiting people
//! per round, claimed in the database so replicas share the work.

use crate::app::{App, ResolveRound};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct Resolver {
    app: Arc<App>,
    /// Identifies this resolver's claims.
    owner: String,
}

impl Resolver {
    pub fn new(app: Arc<App>) -> Self {
        let owner = format!(
            "resolver-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        );
        Self { app, owner }
    }

    /// One round (one organisation); `None` when no one is waiting.
    pub async fn run_once(&self) -> crate::app::AppResult<Option<ResolveRound>> {
        self.app.resolve_waiting(None, &self.owner).await
    }

    /// Runs until `shutdown` turns true, looking for waiting people every
    /// `interval` (at once again after a round that found some).
    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = match self.run_once().await {
                Ok(Some(r)) => {
                    tracing::info!(
                        org = r.org.0,
                        claimed = r.claimed,
                        resolved = r.resolved,
                        not_found = r.not_found.len(),
                        deferred = r.deferred,
                        calls = r.calls,
                        "resolved people by email"
                    );
                    continue;
                }
                Ok(None) => interval,
                Err(e) => {
                    tracing::error!(error = %e, "resolver round failed");
                    interval
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
