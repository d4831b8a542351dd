//! The home tab: a participant's own progress and, for a program's HR
//! admins, its health and last digest. Built fresh each time it is shown.

use super::{digest_text, App, AppResult};
use crate::chat::View;
use crate::domain::metrics::digest::Digest;
use crate::domain::{ChatIdentity, JobId};
use serde_json::{json, Map, Value};

impl App {
    pub async fn home_view(&self, who: &ChatIdentity) -> AppResult<View> {
        let locale = self.locale_for(who).await;
        let overview = self.overview(who).await?;
        let paused = overview
            .as_ref()
            .is_some_and(|o| o.programs.iter().any(|p| p.paused_until.is_some()));
        let mut programs = Vec::new();
        let mut digests = Map::new();
        if let Some((org, rows)) = self.admin_programs(who).await? {
            for p in &rows {
                programs.push(self.program_health(org, p).await?);
                let last = self.store.last_digest(org, p.id).await?;
                let text = last
                    .and_then(|body| serde_json::from_str::<Digest>(&body).ok())
                    .and_then(|d| digest_text(&p.name, &locale, &d).ok());
                if let Some(text) = text {
                    digests.insert(p.key.clone(), Value::String(text));
                }
            }
        }
        let (assessment_due, snoozable) = match self.person_for(who).await? {
            Some((org, person)) => (
                self.store.unanswered_assessment(org, person.id).await?,
                self.store
                    .latest_unanswered_nudge(org, person.id)
                    .await?
                    .is_some(),
            ),
            None => (None, false),
        };
        Ok(View::Home {
            context: json!({
                "overview": overview,
                "assessment_due": assessment_due,
                "snoozable": snoozable,
                "paused": paused,
                "programs": programs,
                "digests": digests,
            }),
            locale,
        })
    }

    /// A pulse sent to `who` as a form (`job_id`, else their latest
    /// unanswered one); `None` when there is none of theirs.
    pub async fn assessment_form(
        &self,
        who: &ChatIdentity,
        job_id: Option<JobId>,
    ) -> AppResult<Option<View>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let id = match job_id {
            Some(id) => Some(id),
            None => self.store.unanswered_assessment(org, person.id).await?,
        };
        let Some(job) = (match id {
            Some(id) => self.store.job(org, id).await?,
            None => None,
        }) else {
            return Ok(None);
        };
        let pulse = matches!(
            job.purpose,
            crate::domain::JobPurpose::SelfAssessment
                | crate::domain::JobPurpose::ManagerObservation
        );
        if !pulse || job.recipient_person_id != Some(person.id) {
            return Ok(None);
        }
        // One question on its own, even where it came in a manager's day
        // message with others.
        let ctx = self.job_context(&job).await?;
        Ok(Some(View::AssessmentForm {
            pulse: self.message_for(&ctx, &job, None),
        }))
    }

    /// Shows the person their home tab again (after they changed something
    /// on it). Failures are logged: the change itself is stored.
    pub async fn refresh_home(&self, who: &ChatIdentity) {
        let Some(port) = self.chats.for_identity(who) else {
            return;
        };
        let shown = match self.home_view(who).await {
            Ok(view) => port
                .publish_home(who, &view)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = shown {
            tracing::warn!(error = %e, "could not show the home tab");
        }
    }
}
