//! New programs from a template in the HR console. The template is the
//! seed's five-session program (`examples/program.yaml`): its cadence,
//! quiet hours, themes and self-assessment, with sessions every two weeks
//! from the first session's date. Nothing organisation-specific (admins,
//! sponsors' channel, people) is copied.

use super::*;
use serde_json::{json, Value};

/// The templates HR can start from: (id, the program file).
pub const TEMPLATES: [(&str, &str); 1] =
    [("five-sessions", include_str!("../../examples/program.yaml"))];

/// What the new-program form asks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NewProgram {
    pub template: String,
    pub key: String,
    pub name: String,
    /// The first session's date (YYYY-MM-DD).
    pub first_session: String,
}

impl App {
    /// Creates a program from a template for an organisation admin
    /// (`actor` in the audit log; anyone else is `Forbidden`);
    /// `Ok(Err(..))` names each wrong field (the program file's validation
    /// too) and creates nothing.
    pub async fn create_program(
        &self,
        org: OrgId,
        new: &NewProgram,
        reach: &Reach,
        actor: &str,
    ) -> AppResult<Result<ApplyOutcome, Vec<(&'static str, String)>>> {
        if !reach.is_organisation() {
            return Err(AppError::Forbidden(
                "creating a program needs an organisation admin".into(),
            ));
        }
        let mut errors = Vec::new();
        let Some((_, text)) = TEMPLATES.iter().find(|(id, _)| *id == new.template) else {
            return Ok(Err(vec![(
                "template",
                format!("{:?} is not a template", new.template),
            )]));
        };
        let key = new.key.trim();
        if self.store.program_by_key(org, key).await?.is_some() {
            errors.push(("key", format!("a program {key:?} exists already")));
        }
        let first = match new.first_session.trim().parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    "first_session",
                    format!("{:?} is not a date (YYYY-MM-DD)", new.first_session.trim()),
                ));
                None
            }
        };
        let template: Value = serde_norway::from_str(text).map_err(|e| {
            AppError::Invalid(crate::domain::ConfigErrors::single(
                "template",
                e.to_string(),
            ))
        })?;
        let mut program = template["program"].clone();
        program["key"] = json!(key);
        program["name"] = json!(new.name.trim());
        if let Some(o) = program.as_object_mut() {
            o.remove("admins");
            o.remove("sponsor_channel");
        }
        if let (Some(first), Some(sessions)) = (first, program["sessions"].as_array().cloned()) {
            let planned: Vec<Value> = sessions
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let date = first
                        .checked_add(jiff::Span::new().days(14 * i as i64))
                        .unwrap_or(first);
                    json!({ "number": s["number"], "planned": date.to_string() })
                })
                .collect();
            program["sessions"] = Value::Array(planned);
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let doc = crate::domain::program::file_document(&template, program);
        match self.apply_program(org, &doc, false).await {
            Ok(outcome) => {
                self.audit(org, actor, "program.create", Some(key)).await;
                Ok(Ok(outcome))
            }
            Err(AppError::Invalid(errs)) => Ok(Err(errs
                .0
                .iter()
                .map(|e| {
                    let field = if e.path.contains("key") {
                        "key"
                    } else if e.path.contains("name") {
                        "name"
                    } else {
                        "first_session"
                    };
                    (field, format!("{}: {}", e.path, e.message))
                })
                .collect())),
            Err(e) => Err(e),
        }
    }
}
