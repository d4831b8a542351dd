//! A program week: Monday to Sunday in the program's time zone.

use crate::domain::time::Zone;
use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProgramWeek {
    /// The Monday it starts on.
    pub monday: Date,
}

impl ProgramWeek {
    /// The week a date falls in.
    pub fn of(date: Date) -> ProgramWeek {
        let back = i64::from(date.weekday().to_monday_zero_offset());
        ProgramWeek {
            monday: date.checked_sub(back.days()).unwrap_or(date),
        }
    }

    /// An ISO week such as `2026-W48`.
    pub fn parse_iso(s: &str) -> Option<ProgramWeek> {
        let (year, week) = s.split_once("-W")?;
        let iso =
            jiff::civil::ISOWeekDate::new(year.parse().ok()?, week.parse().ok()?, Weekday::Monday)
                .ok()?;
        Some(ProgramWeek { monday: iso.date() })
    }

    /// `2026-W48`.
    pub fn iso(&self) -> String {
        let w = self.monday.iso_week_date();
        format!("{}-W{:02}", w.year(), w.week())
    }

    pub fn sunday(&self) -> Date {
        self.monday.checked_add(6.days()).unwrap_or(self.monday)
    }

    pub fn previous(&self) -> ProgramWeek {
        ProgramWeek {
            monday: self.monday.checked_sub(7.days()).unwrap_or(self.monday),
        }
    }

    pub fn next(&self) -> ProgramWeek {
        ProgramWeek {
            monday: self.monday.checked_add(7.days()).unwrap_or(self.monday),
        }
    }

    /// Its first instant (Monday 00:00 local) and the next week's.
    pub fn bounds(&self, zone: &Zone) -> Option<(Timestamp, Timestamp)> {
        Some((
            zone.instant(self.monday, Time::midnight())?,
            zone.instant(self.next().monday, Time::midnight())?,
        ))
    }

    /// The last complete week before `now`: what a digest sent now reports.
    pub fn last_complete(now: Timestamp, zone: &Zone) -> ProgramWeek {
        ProgramWeek::of(zone.date_of(now)).previous()
    }
}

/// The program week of instants read in time order: remembers the last
/// week's bounds, so most instants cost a comparison instead of a time
/// zone conversion (a digest places 100,000 prompts).
pub struct WeekOf<'z> {
    zone: &'z Zone,
    last: Option<(Timestamp, Timestamp, ProgramWeek)>,
}

impl<'z> WeekOf<'z> {
    pub fn new(zone: &'z Zone) -> Self {
        Self { zone, last: None }
    }

    pub fn week(&mut self, at: Timestamp) -> ProgramWeek {
        if let Some((start, end, week)) = &self.last {
            if *start <= at && at < *end {
                return week.clone();
            }
        }
        let week = ProgramWeek::of(self.zone.date_of(at));
        if let Some((start, end)) = week.bounds(self.zone) {
            self.last = Some((start, end, week.clone()));
        }
        week
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn weeks_run_monday_to_sunday_in_local_time() {
        let w = ProgramWeek::of(date(2026, 11, 29)); // a Sunday
        assert_eq!(w.monday, date(2026, 11, 23));
        assert_eq!(w.iso(), "2026-W48");
        assert_eq!(ProgramWeek::parse_iso("2026-W48"), Some(w.clone()));
        assert_eq!(ProgramWeek::parse_iso("2026-W54"), None);
        let prague = Zone::parse("Europe/Prague").unwrap();
        // The week with the October DST change is 169 hours long.
        let dst = ProgramWeek::of(date(2026, 10, 25));
        let (a, b) = dst.bounds(&prague).unwrap();
        assert_eq!(b.duration_since(a).as_hours(), 169);
        let monday_morning: Timestamp = "2026-11-30T08:30:00Z".parse().unwrap();
        assert_eq!(ProgramWeek::last_complete(monday_morning, &prague), w);
    }

    /// Remembering the last week's bounds places every instant in the week
    /// a full conversion would, across a DST change, in and out of order.
    #[test]
    fn week_of_agrees_with_the_zone_at_every_hour() {
        let prague = Zone::parse("Europe/Prague").unwrap();
        let mut weeks = WeekOf::new(&prague);
        let start: Timestamp = "2026-10-12T00:00:00Z".parse().unwrap();
        let hours: Vec<i64> = (0..24 * 28).chain((0..24 * 28).rev().step_by(5)).collect();
        for h in hours {
            let at = start + jiff::SignedDuration::from_hours(h);
            assert_eq!(weeks.week(at), ProgramWeek::of(prague.date_of(at)), "{at}");
        }
    }
}
