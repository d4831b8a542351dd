//! Retention: raw events (taps, answers, pulses, ended jobs, notes) are
//! kept for the retention period; every program's weekly aggregates are
//! computed and stored first, so the figures outlive the events.

use super::{App, AppError, AppResult};
use crate::store::retention::Removed;
use jiff::SignedDuration;

impl App {
    pub async fn apply_retention(&self, days: u32) -> AppResult<Removed> {
        for org in self.store.orgs().await? {
            for program in self.store.programs(org.id).await? {
                match self.digest(org.id, &program.key, None).await {
                    // Nothing to compute yet (no complete week): nothing is lost.
                    Ok(_) | Err(AppError::Invalid(_)) => {}
                    // Figures that could not be stored: keep the events.
                    Err(e) => return Err(e),
                }
            }
        }
        let cutoff = self.clock.now() - SignedDuration::from_hours(24 * i64::from(days));
        let removed = self.store.delete_raw_before(cutoff).await?;
        tracing::info!(
            days,
            taps = removed.taps,
            answers = removed.answers,
            jobs = removed.jobs,
            notes = removed.notes,
            "retention applied"
        );
        Ok(removed)
    }
}
