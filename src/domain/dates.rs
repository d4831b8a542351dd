//! Whose date a session is planned on. Coaching is mostly 1:1, so each
//! participant has their own instance of every session: a date of their own
//! (from the program file, a CSV, a calendar, the API or chat) wins, else
//! their cohort's, else the program's. A session that was cancelled stays
//! planned without a date until one is given.

use super::program::{PlannedSession, ProgramSpec};
use jiff::civil::Date;
use serde::Serialize;

/// A date a session can be planned on, as someone typed it (YYYY-MM-DD,
/// within the years a program can plan for), or what is wrong with it.
pub fn plan_date(s: &str) -> Result<Date, DateError> {
    use super::program::DATE_RANGE;
    match s.trim().parse::<Date>() {
        Ok(d) if d.year() < DATE_RANGE.0 || d.year() > DATE_RANGE.1 => {
            Err(DateError::OutsidePlan(s.to_string()))
        }
        Ok(d) => Ok(d),
        Err(_) => Err(DateError::NotADate(s.to_string())),
    }
}

/// Why a typed date cannot be planned on, naming what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    NotADate(String),
    #[error(
        "{0:?} is outside the dates a program can plan for ({from} to {to})",
        from = super::program::DATE_RANGE.0,
        to = super::program::DATE_RANGE.1
    )]
    OutsidePlan(String),
}

/// A participant's own date for one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnDate {
    On(Date),
    /// Cancelled: planned, but on no date until one is given.
    Unscheduled,
}

impl OwnDate {
    pub fn date(self) -> Option<Date> {
        match self {
            OwnDate::On(d) => Some(d),
            OwnDate::Unscheduled => None,
        }
    }
}

/// Where a participant's planned date for a session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFrom {
    Own,
    Cohort,
    Program,
}

/// One session as planned for one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedFor {
    pub number: u32,
    /// `None`: cancelled and not yet given a new date.
    pub planned: Option<Date>,
    pub from: DateFrom,
}

impl ProgramSpec {
    /// A cohort's own dates (empty for no cohort or one without dates).
    pub fn cohort_sessions(&self, cohort: Option<&str>) -> &[PlannedSession] {
        cohort
            .and_then(|key| self.cohorts.iter().find(|c| c.key == key))
            .map_or(&[], |c| c.sessions.as_slice())
    }

    /// Every planned session for a participant in `cohort` with their `own`
    /// dates, in session order.
    pub fn planned_for(&self, cohort: Option<&str>, own: &[(u32, OwnDate)]) -> Vec<PlannedFor> {
        let cohort = self.cohort_sessions(cohort);
        self.sessions
            .iter()
            .map(|s| {
                if let Some((_, d)) = own.iter().find(|(n, _)| *n == s.number) {
                    return PlannedFor {
                        number: s.number,
                        planned: d.date(),
                        from: DateFrom::Own,
                    };
                }
                match cohort.iter().find(|c| c.number == s.number) {
                    Some(c) => PlannedFor {
                        number: s.number,
                        planned: Some(c.planned),
                        from: DateFrom::Cohort,
                    },
                    None => PlannedFor {
                        number: s.number,
                        planned: Some(s.planned),
                        from: DateFrom::Program,
                    },
                }
            })
            .collect()
    }

    /// The last date any participant's session may be planned on, given the
    /// latest own date anyone has: what follow-ups and digests run until.
    pub fn last_planned(&self, latest_own: Option<Date>) -> Option<Date> {
        self.sessions
            .iter()
            .map(|s| s.planned)
            .chain(
                self.cohorts
                    .iter()
                    .flat_map(|c| c.sessions.iter().map(|s| s.planned)),
            )
            .chain(latest_own)
            .max()
    }
}

/// A participant's session usage at the end of a week (`last_day`): the
/// sessions planned on or before it, and how many of those they completed
/// by then. `completed`: the numbers completed on or before `last_day`.
pub fn usage(planned: &[PlannedFor], completed: &[u32], last_day: Date) -> (u32, u32) {
    let due: Vec<u32> = planned
        .iter()
        .filter(|p| p.planned.is_some_and(|d| d <= last_day))
        .map(|p| p.number)
        .collect();
    let done = due.iter().filter(|n| completed.contains(n)).count() as u32;
    (due.len() as u32, done)
}

/// The next session a participant has not completed: its number and date
/// (`None` while it has no date), or nothing once all are completed.
pub fn next_session(planned: &[PlannedFor], completed: &[u32]) -> Option<(u32, Option<Date>)> {
    planned
        .iter()
        .filter(|p| !completed.contains(&p.number))
        .min_by_key(|p| (p.planned.is_none(), p.planned, p.number))
        .map(|p| (p.number, p.planned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProgramFile;

    fn spec() -> ProgramSpec {
        let mut file =
            ProgramFile::parse_yaml(include_str!("../../examples/program.yaml")).unwrap();
        file.program.cohorts[0].sessions = vec![PlannedSession {
            number: 2,
            planned: "2026-09-22".parse().unwrap(),
        }];
        file.program
    }

    #[test]
    fn own_date_beats_cohort_beats_program() {
        let spec = spec();
        let cohort = spec.cohorts[0].key.clone();
        let own = [
            (1, OwnDate::On("2026-09-09".parse().unwrap())),
            (3, OwnDate::Unscheduled),
        ];
        let plan = spec.planned_for(Some(&cohort), &own);
        let dates: Vec<(Option<String>, DateFrom)> = plan
            .iter()
            .take(4)
            .map(|p| (p.planned.map(|d| d.to_string()), p.from))
            .collect();
        assert_eq!(
            dates,
            vec![
                (Some("2026-09-09".into()), DateFrom::Own),
                (Some("2026-09-22".into()), DateFrom::Cohort),
                (None, DateFrom::Own),
                (Some("2026-10-19".into()), DateFrom::Program),
            ]
        );
        // Without a cohort, the program's date.
        assert_eq!(spec.planned_for(None, &[])[1].from, DateFrom::Program);
    }

    #[test]
    fn usage_counts_each_persons_own_due_sessions() {
        let spec = spec();
        let own = [(2, OwnDate::On("2026-10-01".parse().unwrap()))];
        let plan = spec.planned_for(None, &own);
        let sunday: Date = "2026-09-27".parse().unwrap();
        // Session 1 is due (7 Sep), session 2 is not yet (1 Oct): one due.
        assert_eq!(usage(&plan, &[1, 2], sunday), (1, 1));
        assert_eq!(usage(&plan, &[], sunday), (1, 0));
        // An unscheduled session is never due.
        let plan = spec.planned_for(None, &[(1, OwnDate::Unscheduled)]);
        assert_eq!(usage(&plan, &[], sunday), (1, 0));
    }

    #[test]
    fn the_next_session_is_the_earliest_not_completed() {
        let spec = spec();
        let own = [(2, OwnDate::Unscheduled)];
        let plan = spec.planned_for(None, &own);
        assert_eq!(
            next_session(&plan, &[1]),
            Some((3, Some("2026-10-05".parse().unwrap())))
        );
        let all: Vec<u32> = (1..=spec.session_count()).collect();
        assert_eq!(next_session(&plan, &all), None);
    }
}
