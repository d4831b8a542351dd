//! A schedule CSV as coaching platforms export it: one row per participant
//! (by work email) or per cohort (a group session) and session number, with
//! its planned date, its completed date, or both. Every row's problems are
//! found before anything is applied.

use super::dates::plan_date;
use super::enrolment::{csv_records, CsvError, CsvRow, RowProblem};
use super::identity::Email;
use jiff::civil::Date;
use serde::Serialize;

/// Whom a row is about.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum RowWho {
    Email(String),
    Cohort(String),
}

/// One row, as read, with what is wrong in it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScheduleRow {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub who: Option<RowWho>,
    pub session: String,
    pub planned: String,
    pub completed: String,
    pub problems: Vec<RowProblem>,
}

/// A row without problems: what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleEntry {
    pub who: RowWho,
    pub session: u32,
    pub planned: Option<Date>,
    pub completed: Option<Date>,
}

const COLUMNS: [(&str, &[&str]); 5] = [
    (
        "email",
        &["email", "work email", "work_email", "e-mail", "attendee"],
    ),
    ("cohort", &["cohort", "group"]),
    (
        "session",
        &["session", "session number", "number", "sezení"],
    ),
    (
        "planned",
        &["planned", "planned on", "date", "booked", "plánováno"],
    ),
    (
        "completed",
        &["completed", "completed on", "held", "proběhlo"],
    ),
];

/// Reads the file; `Err` names what is wrong with it as a whole. `cohorts`:
/// the program's cohort keys; `sessions`: how many sessions it plans.
pub fn read(text: &str, cohorts: &[String], sessions: u32) -> Result<Vec<ScheduleRow>, CsvError> {
    let records = csv_records(
        text,
        &COLUMNS,
        &["session"],
        "email or cohort, session, planned, completed",
    )?;
    let mut rows = Vec::new();
    let mut seen: Vec<(RowWho, u32, usize)> = Vec::new();
    for record in records {
        let line = record.line;
        let (email, cohort) = (record.get("email"), record.get("cohort"));
        let mut row = ScheduleRow {
            line,
            who: None,
            session: record.get("session"),
            planned: record.get("planned"),
            completed: record.get("completed"),
            problems: Vec::new(),
        };
        if [&email, &cohort, &row.session, &row.planned, &row.completed]
            .iter()
            .all(|v| v.is_empty())
        {
            continue; // a blank line
        }
        let mut problems = Vec::new();
        row.who = match (email.is_empty(), cohort.is_empty()) {
            (true, true) => {
                problems.push(problem("who_missing", ""));
                None
            }
            (false, false) => {
                problems.push(problem("email_and_cohort", ""));
                None
            }
            (false, true) => match Email::parse(&email) {
                Ok(e) => Some(RowWho::Email(e.as_str().to_string())),
                Err(_) => {
                    problems.push(problem("bad_email", email));
                    None
                }
            },
            (true, false) if cohorts.contains(&cohort) => Some(RowWho::Cohort(cohort)),
            (true, false) => {
                problems.push(problem("unknown_cohort", cohort));
                None
            }
        };
        let number = match row.session.parse::<u32>() {
            Ok(n) if (1..=sessions).contains(&n) => Some(n),
            _ => {
                problems.push(problem("bad_session", row.session.clone()));
                None
            }
        };
        for (value, code) in [
            (&row.planned, "bad_planned"),
            (&row.completed, "bad_completed"),
        ] {
            if !value.is_empty() && plan_date(value).is_err() {
                problems.push(problem(code, value.clone()));
            }
        }
        if row.planned.is_empty() && row.completed.is_empty() {
            problems.push(problem("no_dates", ""));
        }
        if matches!(row.who, Some(RowWho::Cohort(_))) && !row.planned.is_empty() {
            // A cohort's dates belong in the program file (`cohorts[].sessions`).
            problems.push(problem("cohort_planned", row.planned.clone()));
        }
        if let (Some(who), Some(n)) = (&row.who, number) {
            if let Some((_, _, first)) = seen.iter().find(|(w, s, _)| w == who && *s == n) {
                problems.push(problem("duplicate", first.to_string()));
            } else {
                seen.push((who.clone(), n, line));
            }
        }
        row.problems = problems;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows);
    }
    Ok(rows)
}

/// A row's problem in words (the API's; the console words them itself).
pub fn describe(p: &RowProblem) -> String {
    let v = &p.value;
    match p.code {
        "who_missing" => "name the participant (email) or the cohort".into(),
        "email_and_cohort" => "name the participant or the cohort, not both".into(),
        "bad_email" => format!("{v:?} is not an email address"),
        "unknown_participant" => format!("{v} is not a participant of this program"),
        "unknown_cohort" => format!("cohort {v:?} is not one of the program's cohorts"),
        "bad_session" => format!("session {v:?} is not one the program plans"),
        "bad_planned" => format!("planned {v:?} is not a date (YYYY-MM-DD)"),
        "bad_completed" => format!("completed {v:?} is not a date (YYYY-MM-DD)"),
        "no_dates" => "give a planned date, a completed date or both".into(),
        "cohort_planned" => {
            "a cohort's planned dates belong in the program file (cohorts[].sessions)".into()
        }
        "duplicate" => format!("the same participant and session as line {v}"),
        other => other.to_string(),
    }
}

fn problem(code: &'static str, value: impl Into<String>) -> RowProblem {
    RowProblem {
        code,
        value: value.into(),
    }
}

impl CsvRow for ScheduleRow {
    fn problems(&self) -> &[RowProblem] {
        &self.problems
    }
}

impl ScheduleRow {
    /// What a row without problems says.
    pub fn entry(&self) -> Option<ScheduleEntry> {
        if !self.problems.is_empty() {
            return None;
        }
        Some(ScheduleEntry {
            who: self.who.clone()?,
            session: self.session.parse().ok()?,
            planned: plan_date(&self.planned).ok(),
            completed: plan_date(&self.completed).ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rows_problem_is_named() {
        let csv = "Email;Cohort;Session;Planned;Completed\n\
            jana@acme.example;;2;2026-09-23;\n\
            ;autumn-2026;1;;2026-09-07\n\
            tomas@acme.example;;9;2026-09-23;\n\
            ;;1;2026-09-23;\n\
            eva@acme.example;;1;23.9.2026;\n\
            petr@acme.example;;1;;\n\
            ;spring;1;;2026-09-07\n\
            JANA@acme.example;;2;;2026-09-24\n\
            ;autumn-2026;2;2026-09-21;\n";
        let rows = read(csv, &["autumn-2026".to_string()], 5).unwrap();
        let codes: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.problems.iter().map(|p| p.code).collect())
            .collect();
        assert_eq!(
            codes,
            vec![
                vec![],
                vec![],
                vec!["bad_session"],
                vec!["who_missing"],
                vec!["bad_planned"],
                vec!["no_dates"],
                vec!["unknown_cohort"],
                vec!["duplicate"],
                vec!["cohort_planned"],
            ]
        );
        let first = rows[0].entry().unwrap();
        assert_eq!(first.who, RowWho::Email("jana@acme.example".into()));
        assert_eq!((first.session, first.completed), (2, None));
        assert_eq!(
            rows[1].entry().unwrap().who,
            RowWho::Cohort("autumn-2026".into())
        );
        assert_eq!(rows[7].problems[0].value, "2");
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_as_a_whole() {
        let e = read("email,planned\njana@acme.example,2026-09-23\n", &[], 5)
            .unwrap_err()
            .to_string();
        assert!(e.contains("session"), "{e}");
        assert!(read("email,session,planned\n", &[], 5)
            .unwrap_err()
            .to_string()
            .contains("no rows"));
    }
}
