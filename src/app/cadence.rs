//! HR's cadence editor in chat: a program's nudge rules, quiet hours,
//! working days and reminder delay, changed by one of its admins and applied
//! through the same validation as a program file, all or nothing. Future
//! unsent jobs then follow the new cadence.

use super::{App, AppError, AppResult};
use crate::chat::View;
use crate::domain::cadence::{
    field_of, parse_quiet_hours, parse_rules, quiet_hours_text, rules_text,
};
use crate::domain::time::weekday_name;
use crate::domain::ChatIdentity;
use crate::store::programs::ApplyOutcome;
use serde_json::{json, Value};

/// What the editor's fields held when HR pressed Save.
#[derive(Debug, Clone, Default)]
pub struct CadenceInput {
    pub nudges: String,
    pub quiet_hours: String,
    pub working_days: Vec<String>,
    pub reminder_after_days: String,
}

/// A refused cadence: each editor field with what is wrong in it.
pub type FieldErrors = Vec<(&'static str, String)>;

impl App {
    /// The editor for program `key`, filled with its cadence now; `None`
    /// when `who` is not one of its admins.
    pub async fn cadence_form(&self, who: &ChatIdentity, key: &str) -> AppResult<Option<View>> {
        let Some((_, program)) = self.admin_program(who, key).await? else {
            return Ok(None);
        };
        let spec = &program.spec;
        Ok(Some(View::CadenceForm {
            context: json!({
                "key": program.key,
                "name": program.name,
                "nudges": rules_text(&spec.nudges),
                "quiet_hours": quiet_hours_text(spec.quiet_hours.as_ref()),
                "working_days": spec.working_days.days().into_iter().map(weekday_name).collect::<Vec<_>>(),
                "reminder_after_days": spec.reminder_after_days,
                // Shown, not edited: momentum settings are an organisation
                // admin's (the console), not a program admin's.
                "metrics": {
                    "alpha": spec.metrics.alpha,
                    "dropping_points": spec.metrics.dropping_points,
                    "dropping_share": spec.metrics.dropping_share,
                    "dropping_weeks": spec.metrics.dropping_weeks,
                },
            }),
            locale: self.locale_for(who).await,
        }))
    }

    /// Applies an edited cadence to program `key`. `Ok(Err(..))` names each
    /// field that is wrong; nothing is changed then.
    pub async fn apply_cadence(
        &self,
        who: &ChatIdentity,
        key: &str,
        input: &CadenceInput,
    ) -> AppResult<Result<ApplyOutcome, FieldErrors>> {
        let Some((org, program)) = self.admin_program(who, key).await? else {
            return Ok(Err(vec![(
                "nudges",
                format!("you are not an admin of program {key:?}"),
            )]));
        };
        let mut errors: FieldErrors = Vec::new();
        let mut section = program.spec.source["program"].clone();
        match parse_rules(&input.nudges) {
            Ok(rules) => section["nudges"] = Value::Array(rules),
            Err(e) => errors.push(("nudges", e.to_string())),
        }
        match parse_quiet_hours(&input.quiet_hours) {
            Ok(Some(q)) => section["quiet_hours"] = q,
            Ok(None) => {
                if let Some(o) = section.as_object_mut() {
                    o.remove("quiet_hours");
                }
            }
            Err(e) => errors.push(("quiet_hours", e.to_string())),
        }
        section["working_days"] = json!(input.working_days);
        match input.reminder_after_days.trim().parse::<i64>() {
            Ok(d) => section["reminder_after_days"] = json!(d),
            Err(_) => errors.push((
                "reminder_after_days",
                format!(
                    "{:?} is not a number of days",
                    input.reminder_after_days.trim()
                ),
            )),
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let doc = program.spec.file_with(section);
        // Only the cadence changes: a program admin never changes the
        // program's admins, k or `metrics:` (checked again here).
        let reach = super::Reach::Programs(vec![key.to_string()]);
        match self.apply_program_within(org, &doc, false, &reach).await {
            Ok(outcome) => {
                tracing::info!(org = org.0, program = %key, "cadence changed in chat by a program admin");
                self.audit(
                    org,
                    &format!("{who} (program admin)"),
                    "cadence.change",
                    Some(key),
                )
                .await;
                Ok(Ok(outcome))
            }
            Err(AppError::Invalid(errs)) => Ok(Err(errs
                .0
                .iter()
                .map(|e| (field_of(&e.path), e.message.clone()))
                .collect())),
            Err(e) => Err(e),
        }
    }
}
