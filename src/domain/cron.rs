//! Recurring rules in standard 5-field cron (`30 9 * * 1` = Mondays 09:30,
//! Monday = 1, Sunday = 0 or 7, names allowed), evaluated in a local time zone.
//!
//! The `cron` crate parses the fields but wants a seconds field and counts
//! Sunday as 1, so the day-of-week field is translated to names first. Next
//! occurrences are computed here, date by date in the local zone, so that DST
//! follows the same rules as nudges (see `Zone::instant`).

use super::time::Zone;
use cron::{Schedule, TimeUnitSpec};
use jiff::Timestamp;
use std::str::FromStr;

/// Why a cron rule is refused, naming the expression (and the field).
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    #[error("{0:?} is not a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. \"30 9 * * 1\")")]
    NotFiveFields(String),
    #[error("{0:?} restricts both day of month and day of week; use one of them")]
    BothDays(String),
    #[error("{expr:?}: {problem}")]
    DayOfWeek {
        expr: String,
        problem: DayOfWeekProblem,
    },
    #[error("{expr:?} is not a valid cron expression")]
    Invalid {
        expr: String,
        #[source]
        source: cron::error::Error,
    },
}

/// What is wrong with one item of a day-of-week field (part of the
/// message, not a cause: the item is what was typed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayOfWeekProblem {
    #[error("{0:?} has a bad step")]
    BadStep(String),
    #[error("{0:?} is a backwards day-of-week range")]
    Backwards(String),
    #[error("{0:?} is not a day of week (0-7, Sunday is 0 or 7)")]
    OutOfRange(String),
    #[error("{0:?} is not a day of week")]
    NotADay(String),
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

#[derive(Debug, Clone)]
pub struct CronRule {
    source: String,
    schedule: Schedule,
}

impl PartialEq for CronRule {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl CronRule {
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError::NotFiveFields(expr.to_string()));
        }
        let (dom, dow) = (fields[2], fields[4]);
        if dom != "*" && dom != "?" && dow != "*" && dow != "?" {
            return Err(CronError::BothDays(expr.to_string()));
        }
        let dow = translate_day_of_week(dow).map_err(|problem| CronError::DayOfWeek {
            expr: expr.to_string(),
            problem,
        })?;
        let translated = format!(
            "0 {} {} {} {} {}",
            fields[0], fields[1], dom, fields[3], dow
        );
        let schedule = Schedule::from_str(&translated).map_err(|source| CronError::Invalid {
            expr: expr.to_string(),
            source,
        })?;
        Ok(Self {
            source: expr.split_whitespace().collect::<Vec<_>>().join(" "),
            schedule,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first occurrence strictly after `after`, in `zone`'s local time.
    pub fn next_after(&self, after: Timestamp, zone: &Zone) -> Option<Timestamp> {
        let mut date = zone.date_of(after);
        // Five years covers every satisfiable 5-field expression (Feb 29 included).
        for _ in 0..(366 * 5) {
            if self.date_matches(date) {
                for hour in self.schedule.hours().iter() {
                    for minute in self.schedule.minutes().iter() {
                        let time = jiff::civil::Time::new(hour as i8, minute as i8, 0, 0).ok()?;
                        if let Some(t) = zone.instant(date, time) {
                            if t > after {
                                return Some(t);
                            }
                        }
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    fn date_matches(&self, d: jiff::civil::Date) -> bool {
        self.schedule.months().includes(d.month() as u32)
            && self.schedule.days_of_month().includes(d.day() as u32)
            && self
                .schedule
                .days_of_week()
                .includes(d.weekday().to_sunday_one_offset() as u32)
    }
}

/// Standard day-of-week field → a comma list of day names (or `*`).
fn translate_day_of_week(field: &str) -> Result<String, DayOfWeekProblem> {
    if field == "*" || field == "?" {
        return Ok("*".into());
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<usize>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| DayOfWeekProblem::BadStep(item.to_string()))?,
            ),
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day_number(a)?, day_number(b)?)
        } else {
            let d = day_number(range)?;
            (d, if step > 1 { 6 } else { d })
        };
        // 7 is Sunday too; a range may end on it ("5-7").
        let hi = if hi < lo && hi == 0 { 7 } else { hi };
        if hi < lo {
            return Err(DayOfWeekProblem::Backwards(item.to_string()));
        }
        for d in (lo..=hi).step_by(step) {
            days[d % 7] = true;
        }
    }
    Ok(DAY_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| days[*i])
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(","))
}

fn day_number(s: &str) -> Result<usize, DayOfWeekProblem> {
    if let Ok(n) = s.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(DayOfWeekProblem::OutOfRange(s.to_string()))
        };
    }
    let lower = s.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|n| lower.starts_with(&n.to_ascii_lowercase()) && lower.len() >= 3)
        .ok_or_else(|| DayOfWeekProblem::NotADay(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(expr: &str, after: &str, zone: &str) -> String {
        let z = Zone::parse(zone).unwrap();
        let t: Timestamp = after.parse().unwrap();
        CronRule::parse(expr)
            .unwrap()
            .next_after(t, &z)
            .unwrap()
            .to_zoned(z.tz().clone())
            .strftime("%a %Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn monday_is_one_as_in_standard_cron() {
        // 2026-11-24 is a Tuesday.
        assert_eq!(
            next("30 9 * * 1", "2026-11-24T12:00:00Z", "Europe/Prague"),
            "Mon 2026-11-30 09:30"
        );
        assert_eq!(
            next("30 9 * * mon", "2026-11-24T12:00:00Z", "Europe/Prague"),
            "Mon 2026-11-30 09:30"
        );
    }

    #[test]
    fn sunday_is_zero_and_seven() {
        assert_eq!(
            next("0 18 * * 0", "2026-11-24T12:00:00Z", "UTC"),
            "Sun 2026-11-29 18:00"
        );
        assert_eq!(
            next("0 18 * * 7", "2026-11-24T12:00:00Z", "UTC"),
            "Sun 2026-11-29 18:00"
        );
        assert_eq!(
            next("0 18 * * 5-7", "2026-11-24T12:00:00Z", "UTC"),
            "Fri 2026-11-27 18:00"
        );
    }

    #[test]
    fn ranges_and_steps() {
        assert_eq!(
            next("0 8 * * 1-5", "2026-11-27T09:00:00Z", "UTC"),
            "Mon 2026-11-30 08:00"
        );
        assert_eq!(
            next("0 8 1 * *", "2026-11-27T09:00:00Z", "UTC"),
            "Tue 2026-12-01 08:00"
        );
    }

    #[test]
    fn bad_expressions_are_refused_with_the_reason() {
        assert!(CronRule::parse("30 9 * *")
            .unwrap_err()
            .to_string()
            .contains("5-field"));
        assert!(CronRule::parse("61 9 * * 1").is_err());
        assert!(CronRule::parse("30 9 * * 8")
            .unwrap_err()
            .to_string()
            .contains("day of week"));
        assert!(CronRule::parse("30 9 1 * 1")
            .unwrap_err()
            .to_string()
            .contains("both"));
    }

    #[test]
    fn follows_local_time_across_dst() {
        // Prague leaves summer time on 2026-10-25; 09:30 local stays 09:30.
        assert_eq!(
            next("30 9 * * 1", "2026-10-20T00:00:00Z", "Europe/Prague"),
            "Mon 2026-10-26 09:30"
        );
    }
}
