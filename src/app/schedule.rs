//! The schedule preview: a program's nudges and check-ins as they will
//! arrive for someone in a given time zone (a participant's, or "someone in
//! Sydney"), each with why it was moved from its rule's time: a day off, a
//! holiday, quiet hours, or clocks going forward.

use super::*;
use crate::domain::dates::PlannedFor;
use crate::domain::time::{DeliveryCalendar, Moved, Zone};
use serde::Serialize;

/// One message as it will arrive.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PreviewEntry {
    pub session: u32,
    /// `small_step`, `one_tap_check` or `manager_checkin`.
    pub kind: &'static str,
    /// Local date (YYYY-MM-DD), weekday (mon…sun) and time (HH:MM).
    pub date: String,
    pub weekday: &'static str,
    pub time: String,
    /// The UTC offset then (it changes with daylight saving time).
    pub offset: String,
    pub moved: Vec<PreviewMove>,
}

/// Why an entry is not at its rule's time (`day_off`, `holiday`,
/// `quiet_hours`, `dst_gap`) and the day or time it moved from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PreviewMove {
    pub reason: &'static str,
    pub from: String,
}

/// At most this many entries: a preview, not an export.
const PREVIEW_LIMIT: usize = 40;

/// The preview as the console shows it.
#[derive(Debug, Clone)]
pub struct SchedulePreview {
    pub program: String,
    pub zone: Zone,
    pub entries: Vec<PreviewEntry>,
    /// The participants to preview for: (participant id, name, time zone).
    pub people: Vec<(i64, String, Option<String>)>,
}

impl App {
    /// The program's messages from its planned sessions, in `zone` (the
    /// participant's, else the program's, when `None`), on `participant`'s
    /// own dates (the program's when `None`); `None` for an unknown program
    /// or a participant not in it.
    pub async fn schedule_preview(
        &self,
        org: OrgId,
        key: &str,
        zone: Option<Zone>,
        participant: Option<ParticipantId>,
    ) -> AppResult<Option<SchedulePreview>> {
        let Some(program) = self.store.program_by_key(org, key).await? else {
            return Ok(None);
        };
        let org_row = self.store.org(org).await?;
        let (plan, own_zone) = match participant {
            None => (program.spec.planned_for(None, &[]), None),
            Some(id) => {
                let Ok(p) = self.store.participant(org, id).await else {
                    return Ok(None);
                };
                if p.program_id != program.id || p.deactivated {
                    return Ok(None);
                }
                let own = self.store.own_dates(org, id).await?;
                let zone = super::delivery::participant_calendar(&org_row, &program, &p).zone;
                (
                    program.spec.planned_for(p.cohort.as_deref(), &own),
                    Some(zone),
                )
            }
        };
        let zone = zone
            .or(own_zone)
            .unwrap_or_else(|| super::digest::program_zone(&org_row, &program));
        let calendar = DeliveryCalendar {
            zone: zone.clone(),
            ..self.program_calendar(&org_row, &program)
        };
        let people = self
            .store
            .participant_zones(org, program.id)
            .await?
            .into_iter()
            .collect();
        Ok(Some(SchedulePreview {
            entries: preview(&program.spec, &plan, &calendar),
            program: program.name,
            zone,
            people,
        }))
    }
}

/// Every rule after every planned session (`plan`: as planned for one
/// participant, or the program's dates), moved as delivery would move it.
/// A session waiting for a new date has nothing to preview yet.
pub fn preview(
    spec: &crate::domain::ProgramSpec,
    plan: &[PlannedFor],
    calendar: &DeliveryCalendar,
) -> Vec<PreviewEntry> {
    use jiff::ToSpan;
    let mut out = Vec::new();
    for (number, planned) in plan.iter().filter_map(|p| Some((p.number, p.planned?))) {
        for rule in spec.nudges.iter().filter(|r| r.applies_to(number)) {
            let Ok(day) = planned.checked_add(i64::from(rule.days_after_session).days()) else {
                continue;
            };
            let Some((at, moved)) = calendar.first_allowed_explained(day, rule.at.to_time()) else {
                continue;
            };
            let local = at.to_zoned(calendar.zone.tz().clone());
            out.push(PreviewEntry {
                session: number,
                kind: rule.kind.purpose().as_str(),
                date: local.date().to_string(),
                weekday: crate::domain::time::weekday_name(local.weekday()),
                time: local.strftime("%H:%M").to_string(),
                offset: local.strftime("%:z").to_string(),
                moved: moved.iter().map(describe).collect(),
            });
        }
    }
    out.sort_by(|a, b| (&a.date, &a.time).cmp(&(&b.date, &b.time)));
    out.truncate(PREVIEW_LIMIT);
    out
}

fn describe(m: &Moved) -> PreviewMove {
    let (reason, from) = match m {
        Moved::DayOff(d) => ("day_off", d.to_string()),
        Moved::Holiday(d) => ("holiday", d.to_string()),
        Moved::QuietHours(t) => ("quiet_hours", t.strftime("%H:%M").to_string()),
        Moved::DstGap(t) => ("dst_gap", t.strftime("%H:%M").to_string()),
    };
    PreviewMove { reason, from }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProgramFile;

    fn sample() -> crate::domain::ProgramSpec {
        ProgramFile::parse_yaml(include_str!("../../examples/program.yaml"))
            .unwrap()
            .program
    }

    fn calendar(spec: &crate::domain::ProgramSpec, zone: &str) -> DeliveryCalendar {
        DeliveryCalendar {
            zone: Zone::parse(zone).unwrap(),
            working_days: spec.working_days,
            quiet_hours: spec.quiet_hours,
            holidays: spec.holidays_for(None),
        }
    }

    #[test]
    fn the_same_local_time_across_the_end_of_summer_time() {
        let spec = sample();
        let entries = preview(
            &spec,
            &spec.planned_for(None, &[]),
            &calendar(&spec, "Europe/Prague"),
        );
        // Session 4 (19 Oct) is before the clocks go back on 25 Oct, session 5 after.
        let s4 = entries
            .iter()
            .find(|e| e.session == 4 && e.kind == "small_step")
            .unwrap();
        let s5 = entries
            .iter()
            .find(|e| e.session == 5 && e.kind == "small_step")
            .unwrap();
        assert_eq!((s4.time.as_str(), s4.offset.as_str()), ("09:30", "+02:00"));
        assert_eq!((s5.time.as_str(), s5.offset.as_str()), ("09:30", "+01:00"));
        assert!(s4.moved.is_empty());
    }

    #[test]
    fn a_weekend_and_quiet_hours_are_named_as_the_reason() {
        let mut spec = sample();
        // A check-in 5 days after a Monday session falls on Saturday; 07:00 is in quiet hours.
        spec.nudges[1].days_after_session = 5;
        spec.nudges[1].at = crate::domain::time::TimeOfDay::parse("07:00").unwrap();
        let entries = preview(
            &spec,
            &spec.planned_for(None, &[]),
            &calendar(&spec, "Australia/Sydney"),
        );
        let e = entries
            .iter()
            .find(|e| e.session == 1 && e.kind == "manager_checkin")
            .unwrap();
        assert_eq!(
            (e.date.as_str(), e.weekday, e.time.as_str()),
            ("2026-09-14", "mon", "08:00")
        );
        let reasons: Vec<&str> = e.moved.iter().map(|m| m.reason).collect();
        assert_eq!(reasons, ["day_off", "day_off", "quiet_hours"]);
        assert_eq!(e.moved[0].from, "2026-09-12");
    }
}
