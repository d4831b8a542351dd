//! Turns a completed session into the jobs it causes: each nudge rule that
//! applies to the session becomes one job for one recipient, due at the
//! recipient's local time.

use super::program::{NudgeKind, ProgramSpec};
use super::time::DeliveryCalendar;
use super::JobPurpose;
use jiff::civil::Date;
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Participant,
    Manager,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedJob {
    pub purpose: JobPurpose,
    pub recipient: Recipient,
    /// Identifies the job among this participant's jobs: purpose, session and
    /// offset. Planning twice yields the same period, so the job is stored once.
    pub period: String,
    pub session: u32,
    pub due: Timestamp,
}

/// The calendars of the people a session's jobs go to.
pub struct Recipients<'a> {
    pub participant: &'a DeliveryCalendar,
    /// `None` when the participant has no manager: no check-ins are planned.
    pub manager: Option<&'a DeliveryCalendar>,
}

pub fn jobs_for_completed_session(
    program: &ProgramSpec,
    session: u32,
    completed_on: Date,
    to: &Recipients,
) -> Vec<PlannedJob> {
    program
        .nudges
        .iter()
        .filter(|rule| rule.applies_to(session))
        .filter_map(|rule| {
            let (recipient, calendar) = match rule.kind {
                NudgeKind::ManagerCheckin => (Recipient::Manager, to.manager?),
                _ => (Recipient::Participant, to.participant),
            };
            let due = calendar.due(completed_on, i64::from(rule.days_after_session), rule.at)?;
            Some(PlannedJob {
                purpose: rule.kind.purpose(),
                recipient,
                period: format!("s{session}+{}d", rule.days_after_session),
                session,
                due,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::program::ProgramFile;
    use crate::domain::time::{WorkingDays, Zone};
    use jiff::civil::date;

    const FILE: &str = r#"
version: 1
program:
  key: p
  name: P
  time_zone: Europe/Prague
  sessions:
    - {number: 1, planned: 2026-09-07}
    - {number: 2, planned: 2026-09-21}
  nudges:
    - {kind: small_step, days_after_session: 1, at: "09:30"}
    - {kind: one_tap_check, days_after_session: 4, at: "16:00", sessions: [2]}
    - {kind: manager_checkin, days_after_session: 3, at: "10:00"}
"#;

    fn cal() -> DeliveryCalendar {
        DeliveryCalendar {
            zone: Zone::parse("Europe/Prague").unwrap(),
            working_days: WorkingDays::monday_to_friday(),
            quiet_hours: None,
            holidays: vec![],
        }
    }

    #[test]
    fn only_rules_for_the_session_and_check_ins_only_with_a_manager() {
        let p = ProgramFile::parse_yaml(FILE).unwrap().program;
        let c = cal();
        let with = jobs_for_completed_session(
            &p,
            1,
            date(2026, 9, 7),
            &Recipients {
                participant: &c,
                manager: Some(&c),
            },
        );
        let kinds: Vec<_> = with.iter().map(|j| j.purpose).collect();
        assert_eq!(
            kinds,
            vec![JobPurpose::SmallStep, JobPurpose::ManagerCheckin]
        );
        let without = jobs_for_completed_session(
            &p,
            2,
            date(2026, 9, 21),
            &Recipients {
                participant: &c,
                manager: None,
            },
        );
        let kinds: Vec<_> = without.iter().map(|j| j.purpose).collect();
        assert_eq!(kinds, vec![JobPurpose::SmallStep, JobPurpose::OneTapCheck]);
        assert_eq!(without[1].period, "s2+4d");
    }

    #[test]
    fn planning_twice_gives_the_same_jobs() {
        let p = ProgramFile::parse_yaml(FILE).unwrap().program;
        let c = cal();
        let r = Recipients {
            participant: &c,
            manager: Some(&c),
        };
        assert_eq!(
            jobs_for_completed_session(&p, 1, date(2026, 9, 7), &r),
            jobs_for_completed_session(&p, 1, date(2026, 9, 7), &r)
        );
    }
}
