//! Retention: raw events (taps, answers, self-assessments, ended jobs,
//! notes) are kept for the retention period; every program's weekly
//! aggregates are computed and stored first, so the figures outlive the
//! events. Self-assessments stay until 30 days after each participant's last
//! follow-up (PRODUCT.md), so the shift at +90 can still be computed.

use super::{App, AppError, AppResult};
use crate::store::retention::Removed;
use jiff::SignedDuration;

impl App {
    /// Whether this replica applies retention now: once a day, one
    /// replica of all.
    pub async fn claim_daily_retention(&self) -> crate::store::Result<bool> {
        let (now, every) = (self.clock.now(), SignedDuration::from_hours(24));
        self.store.claim_maintenance("retention", now, every).await
    }

    pub async fn apply_retention(&self, days: u32) -> AppResult<Removed> {
        let now = self.clock.now();
        let mut kept = Vec::new();
        for org in self.store.orgs().await? {
            for program in self.store.programs(org.id).await? {
                kept.extend(self.assessments_kept(&org, &program, now).await?);
                match self.digest(org.id, &program.key, None).await {
                    // Nothing to compute yet (no complete week): nothing is lost.
                    Ok(_) | Err(AppError::Invalid(_)) => {}
                    // Figures that could not be stored: keep the events.
                    Err(e) => return Err(e),
                }
            }
        }
        let cutoff = self.clock.now() - SignedDuration::from_hours(24 * i64::from(days));
        let removed = self.store.delete_raw_before(cutoff, &kept).await?;
        tracing::info!(
            days,
            taps = removed.taps,
            answers = removed.answers,
            jobs = removed.jobs,
            notes = removed.notes,
            steps = removed.steps,
            "retention applied"
        );
        Ok(removed)
    }

    /// The participants of a program whose self-assessments must stay: their
    /// last follow-up is less than 30 days ago, or still to come.
    async fn assessments_kept(
        &self,
        org: &crate::store::Org,
        program: &crate::store::programs::ProgramRow,
        now: jiff::Timestamp,
    ) -> AppResult<Vec<crate::domain::ParticipantId>> {
        let Some(last_day) = program
            .spec
            .self_assessment
            .as_ref()
            .and_then(|sa| sa.days.iter().max().copied())
        else {
            return Ok(vec![]);
        };
        let completed = self
            .store
            .program_completed_sessions(org.id, program.id)
            .await?;
        let participants = self.store.program_participants(org.id, program.id).await?;
        let mut kept = Vec::new();
        for p in &participants {
            let zone = super::delivery::participant_calendar(org, program, p).zone;
            let start = if super::in_comparison(program, p) {
                Some(zone.date_of(p.enrolled_at))
            } else {
                completed
                    .get(&p.id)
                    .and_then(|s| s.iter().map(|(_, on)| *on).min())
            };
            let until = start.and_then(|d| {
                d.checked_add(jiff::Span::new().days(i64::from(last_day) + 30))
                    .ok()
            });
            if until.is_some_and(|u| u >= zone.date_of(now)) {
                kept.push(p.id);
            }
        }
        Ok(kept)
    }
}
