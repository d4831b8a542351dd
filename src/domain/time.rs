//! Local time: times of day, time zones, working days and quiet hours, and
//! turning "N days after the session at 09:30 local" into one UTC instant.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::fmt;

/// Why a time of day or a time zone is refused, naming what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("{0:?} is not a time of day (HH:MM, 00:00 to 23:59)")]
    NotATimeOfDay(String),
    #[error("{0:?} is not a known time zone (use an IANA name such as Europe/Prague)")]
    UnknownZone(String),
}

/// A wall-clock time of day, `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    pub hour: i8,
    pub minute: i8,
}

impl TimeOfDay {
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::NotATimeOfDay(s.to_string());
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let hour: i8 = h.parse().map_err(|_| bad())?;
        let minute: i8 = m.parse().map_err(|_| bad())?;
        if !(0..=23).contains(&hour) || !(0..=59).contains(&minute) {
            return Err(bad());
        }
        Ok(Self { hour, minute })
    }

    pub fn to_time(self) -> Time {
        Time::constant(self.hour, self.minute, 0, 0)
    }

    fn minutes(self) -> i32 {
        i32::from(self.hour) * 60 + i32::from(self.minute)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// An IANA time zone that is known to exist (checked when parsed).
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    pub fn parse(name: &str) -> Result<Self, TimeError> {
        let name = name.trim();
        match TimeZone::get(name) {
            Ok(tz) => Ok(Self {
                name: name.to_string(),
                tz,
            }),
            Err(_) => Err(TimeError::UnknownZone(name.to_string())),
        }
    }

    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The calendar date of an instant in this zone.
    pub fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// A local date and time as an instant: a time skipped by a DST gap moves
    /// forward by the gap, an ambiguous one is its first occurrence (RFC 5545).
    pub fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, time))
            .compatible()
            .ok()
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// The days on which nudges may be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingDays(u8);

impl WorkingDays {
    pub fn monday_to_friday() -> Self {
        Self(0b0011111)
    }

    pub fn from_days(days: &[Weekday]) -> Self {
        Self(days.iter().fold(0, |acc, d| acc | Self::bit(*d)))
    }

    fn bit(d: Weekday) -> u8 {
        1 << (d.to_monday_zero_offset() as u8)
    }

    pub fn contains(self, d: Weekday) -> bool {
        self.0 & Self::bit(d) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn days(self) -> Vec<Weekday> {
        (0..7)
            .map(|i| Weekday::Monday.wrapping_add(i))
            .filter(|d| self.contains(*d))
            .collect()
    }
}

/// Hours in which nobody is disturbed, e.g. 20:00 to 08:00 (may wrap midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
}

impl QuietHours {
    pub fn contains(&self, t: Time) -> bool {
        let m = i32::from(t.hour()) * 60 + i32::from(t.minute());
        let (f, to) = (self.from.minutes(), self.to.minutes());
        if f <= to {
            (f..to).contains(&m)
        } else {
            m >= f || m < to
        }
    }
}

/// Why a message does not go at the time its rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// Not a working day.
    DayOff(Date),
    Holiday(Date),
    /// The time fell in quiet hours.
    QuietHours(Time),
    /// The clocks went forward over the time (it does not exist that day).
    DstGap(Time),
}

/// Where and when a recipient may be reached.
#[derive(Debug, Clone)]
pub struct DeliveryCalendar {
    pub zone: Zone,
    pub working_days: WorkingDays,
    pub quiet_hours: Option<QuietHours>,
    pub holidays: Vec<Date>,
}

/// A local date and time as people read it in their language: "Wed 09 Sep
/// 09:00" in English, "st 9. 9. 09:00" in Czech.
pub fn when_text(at: &jiff::Zoned, locale: &str) -> String {
    match locale {
        "cs" => {
            let day = ["po", "út", "st", "čt", "pá", "so", "ne"]
                [at.weekday().to_monday_zero_offset() as usize];
            format!(
                "{day} {}. {}. {}",
                at.day(),
                at.month(),
                at.strftime("%H:%M")
            )
        }
        _ => at.strftime("%a %d %b %H:%M").to_string(),
    }
}

/// Ways to put off a nudge, as offered on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snooze {
    OneHour,
    TomorrowMorning,
    NextMonday,
}

impl Snooze {
    pub fn as_str(self) -> &'static str {
        match self {
            Snooze::OneHour => "1h",
            Snooze::TomorrowMorning => "tomorrow",
            Snooze::NextMonday => "monday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Snooze::OneHour, Snooze::TomorrowMorning, Snooze::NextMonday]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl QuietHours {
    /// Quiet hours that run over midnight (20:00 to 08:00).
    fn wraps(&self) -> bool {
        self.from > self.to
    }
}

impl DeliveryCalendar {
    fn allowed_day(&self, d: Date) -> bool {
        self.working_days.contains(d.weekday()) && !self.holidays.contains(&d)
    }

    fn in_quiet_hours(&self, t: Time) -> bool {
        self.quiet_hours.is_some_and(|q| q.contains(t))
    }

    /// The instant for `days_after` calendar days after `date` at `at` local
    /// time. A non-working day or a holiday moves it to the same time on the
    /// next allowed day; a time inside quiet hours moves to the end of quiet
    /// hours. `None` only when no allowed day exists.
    pub fn due(&self, date: Date, days_after: i64, at: TimeOfDay) -> Option<Timestamp> {
        let day = date.checked_add(days_after.days()).ok()?;
        self.first_allowed(day, at.to_time())
    }

    /// When the one reminder of a message sent at `sent` goes: `days` later,
    /// at the local time the message was planned for, moved like any nudge.
    pub fn reminder_due(
        &self,
        sent: Timestamp,
        planned: Timestamp,
        days: u32,
    ) -> Option<Timestamp> {
        let tz = self.zone.tz().clone();
        let day = sent
            .to_zoned(tz.clone())
            .date()
            .checked_add(i64::from(days).days())
            .ok()?;
        self.first_allowed(day, planned.to_zoned(tz).time())
    }

    /// The first allowed instant at or after local `time` on `day`.
    pub fn first_allowed(&self, day: Date, time: Time) -> Option<Timestamp> {
        self.first_allowed_explained(day, time).map(|(at, _)| at)
    }

    /// The same, with why it is not at `day` `time` (each move, in order).
    pub fn first_allowed_explained(
        &self,
        mut day: Date,
        mut time: Time,
    ) -> Option<(Timestamp, Vec<Moved>)> {
        if self.working_days.is_empty() {
            return None;
        }
        let mut moved = Vec::new();
        // Each round moves forward; two years of holidays is beyond any calendar.
        for _ in 0..800 {
            if !self.allowed_day(day) {
                moved.push(if self.holidays.contains(&day) {
                    Moved::Holiday(day)
                } else {
                    Moved::DayOff(day)
                });
                day = day.tomorrow().ok()?;
                continue;
            }
            if let Some(q) = self.quiet_hours.filter(|q| q.contains(time)) {
                moved.push(Moved::QuietHours(time));
                if q.wraps() && time >= q.from.to_time() {
                    day = day.tomorrow().ok()?;
                }
                time = q.to.to_time();
                continue;
            }
            let at = self.zone.instant(day, time)?;
            let actual = at.to_zoned(self.zone.tz().clone()).time();
            if actual != time {
                // The clocks went forward over that time.
                moved.push(Moved::DstGap(time));
                // A DST gap can push the wall time forward into quiet hours.
                if self.in_quiet_hours(actual) {
                    time = actual;
                    continue;
                }
            }
            return Some((at, moved));
        }
        None
    }

    /// When a job due at `due` stops being worth sending: the end of that
    /// local working day — the start of the evening's quiet hours, or midnight.
    pub fn send_window_end(&self, due: Timestamp) -> Timestamp {
        let local = due.to_zoned(self.zone.tz().clone());
        let day = local.date();
        let evening = self
            .quiet_hours
            .map(|q| q.from.to_time())
            .filter(|from| *from > local.time());
        let end = match evening {
            Some(from) => self.zone.instant(day, from),
            None => day
                .tomorrow()
                .ok()
                .and_then(|d| self.zone.instant(d, Time::midnight())),
        };
        end.unwrap_or(due)
    }

    /// When a snoozed nudge comes back, from `now`; `morning` is the local time
    /// a "tomorrow morning" or "next Monday" snooze returns at.
    pub fn snoozed_until(
        &self,
        now: Timestamp,
        snooze: Snooze,
        morning: TimeOfDay,
    ) -> Option<Timestamp> {
        let today = self.zone.date_of(now);
        match snooze {
            Snooze::OneHour => {
                let later =
                    (now + jiff::SignedDuration::from_hours(1)).to_zoned(self.zone.tz().clone());
                self.first_allowed(later.date(), later.time())
            }
            Snooze::TomorrowMorning => {
                self.first_allowed(today.tomorrow().ok()?, morning.to_time())
            }
            Snooze::NextMonday => {
                let mut day = today.tomorrow().ok()?;
                while day.weekday() != jiff::civil::Weekday::Monday {
                    day = day.tomorrow().ok()?;
                }
                self.first_allowed(day, morning.to_time())
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn times_read_in_each_language() {
        let at = jiff::civil::date(2026, 9, 9)
            .at(9, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::get("Europe/Prague").unwrap())
            .unwrap();
        assert_eq!(when_text(&at, "en"), "Wed 09 Sep 09:00");
        assert_eq!(when_text(&at, "cs"), "st 9. 9. 09:00");
    }

    use super::*;
    use jiff::civil::date;

    fn cal(zone: &str) -> DeliveryCalendar {
        DeliveryCalendar {
            zone: Zone::parse(zone).unwrap(),
            working_days: WorkingDays::monday_to_friday(),
            quiet_hours: Some(QuietHours {
                from: TimeOfDay::parse("20:00").unwrap(),
                to: TimeOfDay::parse("08:00").unwrap(),
            }),
            holidays: vec![],
        }
    }

    #[test]
    fn times_of_day_parse_and_refuse() {
        assert_eq!(TimeOfDay::parse("09:30").unwrap().to_string(), "09:30");
        assert_eq!(TimeOfDay::parse("7:05").unwrap().to_string(), "07:05");
        for bad in ["25:00", "12:60", "noon", "12", "12:5", "-1:00", ""] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(TimeOfDay::parse("25:00")
            .unwrap_err()
            .to_string()
            .contains("\"25:00\" is not a time of day"));
    }

    #[test]
    fn unknown_zone_is_refused_by_name() {
        let e = Zone::parse("Mars/Olympus").unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn due_is_local_time_n_days_later() {
        let c = cal("Europe/Prague");
        // Tuesday 2026-09-08 + 1 day = Wednesday, 09:30 CEST = 07:30 UTC.
        let t = c
            .due(date(2026, 9, 8), 1, TimeOfDay::parse("09:30").unwrap())
            .unwrap();
        assert_eq!(t.to_string(), "2026-09-09T07:30:00Z");
    }

    #[test]
    fn weekend_moves_to_monday_at_the_rule_time() {
        let c = cal("Europe/Prague");
        // Thursday + 2 days = Saturday -> Monday.
        let t = c
            .due(date(2026, 9, 10), 2, TimeOfDay::parse("09:30").unwrap())
            .unwrap();
        assert_eq!(c.zone.date_of(t), date(2026, 9, 14));
    }

    #[test]
    fn quiet_hours_move_to_their_end() {
        let c = cal("Europe/Prague");
        let t = c
            .due(date(2026, 9, 8), 0, TimeOfDay::parse("06:00").unwrap())
            .unwrap();
        assert_eq!(
            t.to_zoned(c.zone.tz().clone()).time(),
            Time::constant(8, 0, 0, 0)
        );
    }

    #[test]
    fn spring_forward_gap_shifts_forward() {
        let mut c = cal("Europe/Prague");
        c.quiet_hours = None;
        c.working_days = WorkingDays::from_days(&[Weekday::Sunday]);
        // 2026-03-29 02:30 does not exist in Prague: becomes 03:30 CEST.
        let t = c
            .due(date(2026, 3, 29), 0, TimeOfDay::parse("02:30").unwrap())
            .unwrap();
        assert_eq!(t.to_string(), "2026-03-29T01:30:00Z");
    }
}
