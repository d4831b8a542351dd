//! Enrolment from HR's CSV: a preview of every row's problems, then an
//! atomic apply of the whole file (through the program file's own path, so
//! validation, chat look-ups and re-planning are the same).

use super::*;
use crate::domain::enrolment::{self, EnrolmentRow};

/// What became of an uploaded CSV (an enrolment or a schedule).
#[derive(Debug)]
pub enum CsvUpload<R, O> {
    /// The file as a whole is unusable (no header, a column missing).
    FileProblem(String),
    /// Its rows, each with its problems; nothing was applied.
    Preview(Vec<R>),
    /// Applied: every row.
    Applied { rows: Vec<R>, outcome: O },
}

/// An enrolment CSV: applied, every row is enrolled (people no chat user
/// was found for are in `outcome.unresolved`).
pub type Enrolment = CsvUpload<EnrolmentRow, ApplyOutcome>;

impl App {
    /// The program an upload is for, with its cohort keys: `None` for an
    /// unknown program, `Forbidden` for one out of `reach`.
    pub(super) async fn upload_target(
        &self,
        org: OrgId,
        key: &str,
        reach: &Reach,
    ) -> AppResult<Option<(ProgramRow, Vec<String>)>> {
        if !reach.covers(key) {
            return Err(AppError::Forbidden(format!(
                "{key:?} is not one of your programs"
            )));
        }
        let Some(program) = self.store.program_by_key(org, key).await? else {
            return Ok(None);
        };
        let cohorts = program.spec.cohorts.iter().map(|c| c.key.clone()).collect();
        Ok(Some((program, cohorts)))
    }

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
        let Some((program, cohorts)) = self.upload_target(org, key, reach).await? else {
            return Ok(None);
        };
        let rows = match enrolment::read(csv, &cohorts) {
            Ok(rows) => rows,
            Err(why) => return Ok(Some(Enrolment::FileProblem(with_causes(&why)))),
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
