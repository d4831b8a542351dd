//! Enrolment from HR's CSV: a preview of every row's problems, then an
//! atomic apply of the whole file (through the program file's own path, so
//! validation, chat look-ups and re-planning are the same).

use super::*;
use crate::domain::enrolment::{self, EnrolmentRow};

/// What became of an uploaded file.
#[derive(Debug)]
pub enum Enrolment {
    /// The file as a whole is unusable (no header, a column missing).
    FileProblem(String),
    /// Its rows, each with its problems; nothing was applied.
    Preview(Vec<EnrolmentRow>),
    /// Applied: every row enrolled (people no chat user was found for are
    /// in `outcome.unresolved`).
    Applied {
        rows: Vec<EnrolmentRow>,
        outcome: ApplyOutcome,
    },
}

impl App {
    /// Reads `csv` for program `key`; with `apply`, enrols its rows when
    /// none has a problem (all or nothing), for someone reaching `reach`
    /// (`actor` in the audit log). `None` for an unknown program;
    /// `Forbidden` for one out of reach.
    pub async fn enrol_from_csv(
        &self,
        org: OrgId,
        key: &str,
        csv: &str,
        apply: bool,
        reach: &Reach,
        actor: &str,
    ) -> AppResult<Option<Enrolment>> {
        if !reach.covers(key) {
            return Err(AppError::Forbidden(format!(
                "{key:?} is not one of your programs"
            )));
        }
        let Some(program) = self.store.program_by_key(org, key).await? else {
            return Ok(None);
        };
        let cohorts: Vec<String> = program.spec.cohorts.iter().map(|c| c.key.clone()).collect();
        let rows = match enrolment::read(csv, &cohorts) {
            Ok(rows) => rows,
            Err(why) => return Ok(Some(Enrolment::FileProblem(why))),
        };
        if !apply || rows.iter().any(|r| !r.problems.is_empty()) {
            return Ok(Some(Enrolment::Preview(rows)));
        }
        let mut doc = program
            .spec
            .file_with(program.spec.source["program"].clone());
        let with_sessions = enrolment::has_session_columns(csv);
        doc["participants"] = enrolment::participants(&rows, with_sessions);
        let outcome = self.apply_program_within(org, &doc, false, reach).await?;
        self.audit(org, actor, "program.enrol_csv", Some(key)).await;
        Ok(Some(Enrolment::Applied { rows, outcome }))
    }
}
