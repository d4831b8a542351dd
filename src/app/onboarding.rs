//! Diagnose → personalize: the participant's starting point (goal, context,
//! main blocker: sealed, readable only by them), their focus theme and
//! whether their manager may see it. Their choice outlives later program
//! files; check-ins sent from then on follow it.

use super::{App, AppResult, FieldErrors};
use crate::chat::View;
use crate::domain::ChatIdentity;
use crate::domain::ParticipantId;
use crate::store::participants::Participant;
use crate::store::OrgId;
use serde_json::json;

/// What the participant entered in the focus form.
#[derive(Debug, Clone, Default)]
pub struct StartingPoint {
    pub goal: String,
    pub context: String,
    pub blocker: String,
    pub focus: String,
    pub share_focus: bool,
}

fn diagnosis_context(org: OrgId, participant_id: ParticipantId) -> String {
    super::keys::sealed_context(
        crate::store::sealed::SealedColumn::StartingPoints,
        org,
        &participant_id.to_string(),
    )
}

impl App {
    /// `who`'s participation `participant_id`, if it is theirs.
    async fn own_participation(
        &self,
        who: &ChatIdentity,
        participant_id: ParticipantId,
    ) -> AppResult<Option<(OrgId, Participant)>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .participations(org, person.id)
            .await?
            .into_iter()
            .find(|p| p.id == participant_id && !p.deactivated)
            .map(|p| (org, p)))
    }

    /// The focus form, showing the current focus and consent.
    pub async fn onboarding_form(
        &self,
        who: &ChatIdentity,
        participant_id: ParticipantId,
    ) -> AppResult<Option<View>> {
        let Some((org, p)) = self.own_participation(who, participant_id).await? else {
            return Ok(None);
        };
        let program = self.store.program(org, p.program_id).await?;
        Ok(Some(View::OnboardingForm {
            context: json!({
                "participant_id": p.id,
                "program": program.name,
                "themes": program.spec.themes,
                "focus": p.focus,
                "share": p.share_focus,
            }),
            locale: self.locale_for(who).await,
        }))
    }

    /// Stores the starting point; `Ok(Err(..))` names what is wrong.
    pub async fn record_starting_point(
        &self,
        who: &ChatIdentity,
        participant_id: ParticipantId,
        input: &StartingPoint,
    ) -> AppResult<Result<(), FieldErrors>> {
        let Some((org, p)) = self.own_participation(who, participant_id).await? else {
            return Ok(Err(vec![(
                "focus",
                "this is not one of your programs".into(),
            )]));
        };
        let program = self.store.program(org, p.program_id).await?;
        let focus = input.focus.trim();
        let themes = &program.spec.themes;
        if focus.is_empty() {
            return Ok(Err(vec![("focus", "choose a focus".into())]));
        }
        if !themes.is_empty() && !themes.iter().any(|t| t == focus) {
            return Ok(Err(vec![(
                "focus",
                format!("choose one of the program's themes: {}", themes.join(", ")),
            )]));
        }
        if focus.chars().count() > 60 {
            return Ok(Err(vec![(
                "focus",
                "a focus has at most 60 characters".into(),
            )]));
        }
        let keys = self.keys(org).await?;
        let diagnosis = json!({
            "goal": input.goal.trim(),
            "context": input.context.trim(),
            "blocker": input.blocker.trim(),
        });
        let sealed = keys.seal(
            diagnosis.to_string().as_bytes(),
            &diagnosis_context(org, p.id),
        );
        self.store
            .record_onboarding(
                org,
                p.id,
                Some(focus),
                input.share_focus,
                &sealed,
                self.clock.now(),
            )
            .await?;
        Ok(Ok(()))
    }

    /// A participation's starting point, opened (for its owner's download).
    pub(super) async fn starting_point(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
    ) -> AppResult<Option<serde_json::Value>> {
        let Some(sealed) = self.store.diagnosis(org, participant_id).await? else {
            return Ok(None);
        };
        let plain = self
            .keys(org)
            .await?
            .open(&sealed, &diagnosis_context(org, participant_id))?;
        Ok(serde_json::from_slice(&plain).ok())
    }
}
