//! Turns a completed session into the jobs it causes: each nudge rule that
//! applies to the session becomes one job for one recipient, due at the
//! recipient's local time.

use super::dates::PlannedFor;
use super::metrics::ProgramWeek;
use super::program::{NudgeKind, ProgramSpec, RecurringPurpose};
use super::time::DeliveryCalendar;
use super::time::Zone;
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

/// The self-assessments that follow a participant's start (their first
/// completed session; for the comparison cohort, their enrolment): the
/// self-assessment on each of its days (0 = baseline) and the manager's
/// observation on each of its days, at the program's assessment time.
/// On the planned date of each session a participant has not completed,
/// at the program's local time, the question whether it happened (none
/// when the program turned the question off). The period names the date,
/// so a moved session is asked about on its new date, once.
pub fn session_checks(
    program: &ProgramSpec,
    planned: &[PlannedFor],
    completed: &[u32],
    calendar: &DeliveryCalendar,
) -> Vec<PlannedJob> {
    let Some(at) = program.session_confirmation else {
        return Vec::new();
    };
    planned
        .iter()
        .filter(|p| !completed.contains(&p.number))
        .filter_map(|p| {
            let day = p.planned?;
            Some(PlannedJob {
                purpose: JobPurpose::SessionCheck,
                recipient: Recipient::Participant,
                period: session_check_period(p.number, day),
                session: p.number,
                due: calendar.due(day, 0, at)?,
            })
        })
        .collect()
}

fn session_check_period(session: u32, day: Date) -> String {
    format!("s{session}?{day}")
}

/// The planned date a session check asks about, from its period.
pub fn session_check_date(period: &str) -> Option<Date> {
    period.split_once('?')?.1.parse().ok()
}

pub fn assessment_jobs(program: &ProgramSpec, start: Date, to: &Recipients) -> Vec<PlannedJob> {
    let Some(sa) = &program.self_assessment else {
        return vec![];
    };
    let own = sa.days.iter().filter_map(|d| {
        Some(PlannedJob {
            purpose: JobPurpose::SelfAssessment,
            recipient: Recipient::Participant,
            period: format!("sa+{d}d"),
            session: 0,
            due: to.participant.due(start, i64::from(*d), sa.at)?,
        })
    });
    let manager = sa.manager_days.iter().filter_map(|d| {
        Some(PlannedJob {
            purpose: JobPurpose::ManagerObservation,
            recipient: Recipient::Manager,
            period: format!("mo+{d}d"),
            session: 0,
            due: to.manager?.due(start, i64::from(*d), sa.at)?,
        })
    });
    own.chain(manager).collect()
}

/// The next pulse question after `after`: the rule's cron in the
/// participant's own time zone; one that falls on a day off (or in quiet
/// hours) goes out at the next allowed moment. None past `ends_on`.
pub fn next_pulse(
    program: &ProgramSpec,
    calendar: &DeliveryCalendar,
    after: Timestamp,
    ends_on: Option<Date>,
) -> Option<PlannedJob> {
    let (cron, _) = program.pulse_rule()?;
    let at = cron.next_after(after, &calendar.zone)?;
    let local = at.to_zoned(calendar.zone.tz().clone());
    if ends_on.is_some_and(|end| local.date() > end) {
        return None;
    }
    Some(PlannedJob {
        purpose: JobPurpose::PulseQuestion,
        recipient: Recipient::Participant,
        period: format!("pq:{}", local.date()),
        session: 0,
        due: calendar.first_allowed(local.date(), local.time())?,
    })
}

/// The day of a self-assessment from its period (`sa+30d` → 30).
pub fn assessment_day(period: &str) -> Option<i64> {
    period.get(3..)?.strip_suffix('d')?.parse().ok()
}

/// The next weekly digest after `after`: at the program's digest time (its
/// cron rule, program time zone), reporting the last complete week before
/// it. Occurrences that would report a week before the program's first
/// session are passed over; none is planned for a week after `ends_on`. Two
/// occurrences in one week report the same week, so they are one job.
pub fn next_digest(
    program: &ProgramSpec,
    zone: &Zone,
    after: Timestamp,
    ends_on: Option<Date>,
) -> Option<(Timestamp, ProgramWeek)> {
    let rule = program
        .recurring
        .iter()
        .find(|r| r.purpose == RecurringPurpose::Digest)?;
    let first = program
        .sessions
        .iter()
        .map(|s| ProgramWeek::of(s.planned))
        .min()?;
    let mut at = after;
    // A weekly rule finds a reportable week within a few occurrences; a
    // program a year away is not planned yet.
    for _ in 0..400 {
        at = rule.cron.next_after(at, zone)?;
        let week = ProgramWeek::last_complete(at, zone);
        if ends_on.is_some_and(|end| week.monday > end) {
            return None;
        }
        if week >= first {
            return Some((at, week));
        }
    }
    None
}

/// When a program week is composed: at the digest that reports it (the
/// first occurrence of the digest rule after the week that reports this
/// week), else, without such a digest, a day after the week ends. Answers
/// to the week's prompts count until then; the figures are final after.
pub fn composed_at(program: &ProgramSpec, zone: &Zone, week: &ProgramWeek) -> Option<Timestamp> {
    let (_, end) = week.bounds(zone)?;
    let digest = program
        .recurring
        .iter()
        .find(|r| r.purpose == RecurringPurpose::Digest)
        .and_then(|rule| {
            rule.cron
                .next_after(end - jiff::SignedDuration::from_millis(1), zone)
        })
        .filter(|at| ProgramWeek::last_complete(*at, zone) == *week);
    digest.or_else(|| end.checked_add(jiff::SignedDuration::from_hours(24)).ok())
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

    #[test]
    fn the_pulse_question_goes_out_on_the_next_working_day_in_local_time() {
        let p = ProgramFile::parse_yaml(&FILE.replace(
            "  nudges:",
            "  recurring:\n    - {purpose: pulse, cron: \"0 10 1 * *\", question: How is it going?}\n  nudges:",
        ))
        .unwrap()
        .program;
        let c = cal();
        // 1 November 2026 is a Sunday: Monday the 2nd, 10:00 in Prague.
        let job = next_pulse(&p, &c, "2026-10-15T00:00:00Z".parse().unwrap(), None).unwrap();
        assert_eq!(job.purpose, JobPurpose::PulseQuestion);
        assert_eq!(job.period, "pq:2026-11-01");
        assert_eq!(
            job.due,
            "2026-11-02T09:00:00Z".parse::<Timestamp>().unwrap()
        );
        // The next one after it: 1 December (a Tuesday).
        let next = next_pulse(&p, &c, job.due, None).unwrap();
        assert_eq!(
            next.due,
            "2026-12-01T09:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(next_pulse(&p, &c, job.due, Some(date(2026, 11, 30))), None);
    }

    #[test]
    fn the_digest_reports_the_week_before_it_and_stops_after_the_end() {
        let mut p = ProgramFile::parse_yaml(FILE).unwrap().program;
        p.recurring = ProgramFile::parse_yaml(&FILE.replace(
            "  nudges:",
            "  recurring:\n    - {purpose: digest, cron: \"30 9 * * 1\"}\n  nudges:",
        ))
        .unwrap()
        .program
        .recurring;
        let zone = Zone::parse("Europe/Prague").unwrap();
        // Before the program: the first digest is Monday 14 September, for the week of the 7th.
        let (at, week) =
            next_digest(&p, &zone, "2026-09-01T00:00:00Z".parse().unwrap(), None).unwrap();
        assert_eq!(at, "2026-09-14T07:30:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(week.iso(), "2026-W37");
        // Right after it: the next Monday, for the following week.
        let (_, week) = next_digest(&p, &zone, at, None).unwrap();
        assert_eq!(week.iso(), "2026-W38");
        // Nothing for weeks past the program's end.
        assert_eq!(next_digest(&p, &zone, at, Some(date(2026, 9, 13))), None);
        // A week is composed at the digest that reports it.
        let w37 = ProgramWeek::of(date(2026, 9, 7));
        assert_eq!(
            composed_at(&p, &zone, &w37),
            Some("2026-09-14T07:30:00Z".parse().unwrap())
        );
        // Without a digest rule: a day after the week ends (Monday 24:00 local).
        p.recurring.clear();
        assert_eq!(
            composed_at(&p, &zone, &w37),
            Some("2026-09-14T22:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn a_session_is_asked_about_on_its_own_date_unless_completed_or_off() {
        use crate::domain::dates::OwnDate;
        let mut spec = ProgramFile::parse_yaml(include_str!("../../examples/program.yaml"))
            .unwrap()
            .program;
        let calendar = cal();
        let own = [
            (2, OwnDate::On(date(2026, 9, 23))),
            (3, OwnDate::Unscheduled),
        ];
        let plan = spec.planned_for(None, &own);
        let checks = session_checks(&spec, &plan, &[1], &calendar);
        let asked: Vec<(u32, String)> = checks
            .iter()
            .map(|c| (c.session, c.period.clone()))
            .collect();
        // Session 1 is done, session 3 has no date: 2, 4 and 5 are asked about.
        assert_eq!(
            asked,
            vec![
                (2, "s2?2026-09-23".to_string()),
                (4, "s4?2026-10-19".to_string()),
                (5, "s5?2026-11-02".to_string()),
            ]
        );
        assert_eq!(
            session_check_date(&checks[0].period),
            Some(date(2026, 9, 23))
        );
        let local = checks[0].due.to_zoned(calendar.zone.tz().clone());
        assert_eq!((local.hour(), local.minute()), (17, 0));
        spec.session_confirmation = None;
        assert!(session_checks(&spec, &plan, &[], &calendar).is_empty());
    }
}
