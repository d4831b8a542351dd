//! CPU time, for figures that must not count the local workspace: it runs
//! in the bench's own process (as Slack would run elsewhere), so a figure
//! such as the dispatcher's cost a message takes the process's CPU time
//! less the time of the thread the local workspace runs on.

use crate::chat::sim::SimWorkspace;
use anyhow::{Context, Result};
use std::net::SocketAddr;

/// Linux's USER_HZ: /proc counts CPU time in hundredths of a second.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds from a /proc `stat` file; `None` off Linux.
pub fn cpu_seconds(stat_file: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_file).ok()?;
    // The command name may hold spaces: fields are counted after its ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// The local workspace served from a thread of its own, on a runtime of
/// its own, until dropped.
pub struct SimApart {
    pub addr: SocketAddr,
    /// The thread's /proc `stat` file.
    stat_file: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SimApart {
    pub async fn serve(sim: SimWorkspace) -> Result<Self> {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("local-workspace".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let served = sim.serve(SocketAddr::from(([127, 0, 0, 1], 0))).await;
                    let stat_file = std::fs::read_link("/proc/thread-self")
                        .map(|p| format!("/proc/{}/stat", p.display()))
                        .unwrap_or_default();
                    let _ = ready_tx.send(served.map(|(addr, _)| (addr, stat_file)));
                    let _ = stopped.await;
                });
            })
            .context("starting the local workspace's thread")?;
        let (addr, stat_file) = ready_rx
            .await
            .context("the local workspace's thread ended")?
            .context("serving the local workspace")?;
        Ok(Self {
            addr,
            stat_file,
            _stop: stop,
        })
    }

    /// CPU seconds the local workspace has used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(&self.stat_file)
    }
}
