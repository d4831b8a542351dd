//! Holiday dates from an iCalendar (`.ics`) file, as public-holiday calendars
//! publish them (RFC 5545): each all-day `VEVENT`, its exclusive `DTEND` or
//! its `DURATION` in days, and its recurrence (`RRULE`, `RDATE`, `EXDATE`,
//! and overridden instances with `RECURRENCE-ID`).
//!
//! A calendar is read in two steps: [`parse`] checks the whole text and
//! refuses, with its line, anything it cannot read exactly; then
//! [`Calendar::dates`] expands it over the dates a program needs. Programs do
//! this once, when they are applied, and store the dates (see
//! `program::holiday_span`): a stored program never reads iCalendar again.
//!
//! Recurrence rules are the `rrule` crate's (every `FREQ`, `INTERVAL`,
//! `COUNT`, `UNTIL` and `BY…` part of RFC 5545); a part it does not know is
//! refused, never ignored.

pub mod bookings;
mod content;
mod events;
mod rule;

use content::{unfold, ContentLine};
use events::{read_events, RawEvent};
use jiff::civil::Date;
use jiff::ToSpan;
use rrule::{RRule, RRuleSet, Validated};
use rule::{civil, midnight};
use std::collections::BTreeSet;

/// Why an iCalendar text is refused: on which line, when one line is to
/// blame, and what is wrong there. The `rrule` crate's and jiff's own errors
/// are kept as causes; the rest are this module's own words.
#[derive(Debug, thiserror::Error)]
pub enum IcsError {
    #[error("{}{problem}", on_line(*line))]
    Refused {
        line: Option<usize>,
        problem: String,
    },
    #[error("{}RRULE {value:?} is not read", on_line(*line))]
    Rule {
        line: Option<usize>,
        value: String,
        #[source]
        source: Box<rrule::RRuleError>,
    },
    #[error("{}DTSTART {value:?}", on_line(*line))]
    Start {
        line: Option<usize>,
        value: String,
        #[source]
        source: jiff::Error,
    },
}

fn on_line(line: Option<usize>) -> String {
    line.map(|n| format!("line {n}: ")).unwrap_or_default()
}

impl IcsError {
    /// A problem with the text as a whole.
    pub(crate) fn refused(problem: impl Into<String>) -> Self {
        IcsError::Refused {
            line: None,
            problem: problem.into(),
        }
    }

    /// A problem on line `n`.
    pub(crate) fn on(n: usize, problem: impl Into<String>) -> Self {
        IcsError::Refused {
            line: Some(n),
            problem: problem.into(),
        }
    }

    /// The same problem, found on line `n` (a line already named stays).
    pub(crate) fn at(mut self, n: usize) -> Self {
        let (IcsError::Refused { line, .. }
        | IcsError::Rule { line, .. }
        | IcsError::Start { line, .. }) = &mut self;
        line.get_or_insert(n);
        self
    }
}

/// The longest iCalendar text a holiday calendar may hold. A country's
/// public holidays for a decade, one event per holiday and year, take some
/// 100 KiB.
pub const MAX_ICS_BYTES: usize = 512 * 1024;

/// The most holiday dates one calendar may have over its program's span
/// (100 years of a generous 30 days off a year fit; a rule that makes every
/// day a holiday does not).
pub const MAX_DATES: usize = 5_000;

/// How much expanding may do, all of a program's calendars together: every
/// occurrence their rules step through from their first (before the span
/// too), and every day of every occurrence. Bounds what a hostile file can
/// ask of an apply, however many calendars it has.
pub const MAX_WORK: usize = 200_000;

/// The most recurrence rules (`RRULE`) in a program's holiday calendars,
/// all together: a public-holiday feed that uses them has one per holiday,
/// a few dozen. Each rule is first checked to give a date at all (see
/// `read_rule`), at a cost of up to 100,000 rounds of the `rrule` crate
/// (some 6 ms in a release build) for a rule with none: this keeps a
/// hostile file's apply under a second.
pub const MAX_RULES: usize = 100;

/// What reading a program's holiday calendars may still cost: rules to
/// check and expansion work. One budget is shared by all the calendars of
/// one program file.
#[derive(Debug, Clone)]
pub struct Budget {
    rules: usize,
    work: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            rules: MAX_RULES,
            work: MAX_WORK,
        }
    }
}

/// The longest single event read as days off.
const MAX_EVENT_DAYS: i64 = 366;

/// A parsed calendar: its all-day events, ready to expand.
#[derive(Debug, Clone)]
pub struct Calendar {
    events: Vec<Event>,
}

#[derive(Debug, Clone)]
struct Event {
    line: usize,
    summary: String,
    start: Date,
    /// How many days each occurrence lasts (1 to [`MAX_EVENT_DAYS`]).
    days: i64,
    rules: Vec<RRule<Validated>>,
    extra: Vec<Date>,
    except: Vec<Date>,
}

/// The dates of every all-day event of `ics` between `from` and `to`
/// (inclusive), sorted and unique: [`parse`] then [`Calendar::dates`].
pub fn holiday_dates(ics: &str, from: Date, to: Date) -> Result<Vec<Date>, IcsError> {
    let mut budget = Budget::default();
    parse(ics, &mut budget)?.dates(from, to, &mut budget)
}

/// Reads an iCalendar text, refusing what it cannot read exactly.
///
/// Timed events (a `DTSTART` with a time of day) are refused, with their
/// line and summary, not skipped: a holiday is a whole day off. A feed of
/// public holidays has none, so a timed event means the file is something
/// else (a team calendar) or holds a part-day closure (Christmas Eve from
/// noon), and only HR can say whether that day is off: they remove the event,
/// or list its date under `dates`. Skipping it would quietly send nudges on a
/// day HR believed was covered. Outlook's all-day events, written as
/// midnight-to-midnight with `X-MICROSOFT-CDO-ALLDAYEVENT:TRUE`, are all-day.
/// Cancelled events (`STATUS:CANCELLED`) are not holidays.
pub fn parse(ics: &str, budget: &mut Budget) -> Result<Calendar, IcsError> {
    read_events(
        read_components(ics, MAX_ICS_BYTES, "a holiday calendar")?,
        budget,
    )
}

/// Checks the whole text's structure (at most `max_bytes`; `what` names the
/// kind of calendar in the message) and returns its `VEVENT`s, each with its
/// own properties. What each kind of calendar reads from them is its own.
fn read_components(ics: &str, max_bytes: usize, what: &str) -> Result<Vec<RawEvent>, IcsError> {
    if ics.len() > max_bytes {
        return Err(IcsError::refused(too_large(ics.len(), max_bytes, what)));
    }
    let mut components: Vec<(String, usize)> = Vec::new();
    let mut seen_calendar = false;
    let mut current: Option<RawEvent> = None;
    let mut raw: Vec<RawEvent> = Vec::new();
    for (n, text) in unfold(ics) {
        if text.trim().is_empty() {
            continue;
        }
        if components.is_empty()
            && !text
                .trim()
                .to_ascii_uppercase()
                .starts_with("BEGIN:VCALENDAR")
        {
            return Err(not_icalendar(seen_calendar, n));
        }
        let line = ContentLine::parse(&text).map_err(|e| e.at(n))?;
        // An event's own properties: not those of its alarms.
        let in_event = components.len() == 2 && components[1].0 == "VEVENT";
        match line.name.as_str() {
            "BEGIN" => {
                let what = line.value.trim().to_ascii_uppercase();
                if what == "VEVENT" && components.len() == 1 {
                    current = Some(RawEvent::new(n));
                }
                seen_calendar = true;
                components.push((what, n));
            }
            "END" => {
                let what = line.value.trim().to_ascii_uppercase();
                match components.pop() {
                    Some((open, _)) if open == what => {}
                    Some((open, at)) => {
                        return Err(IcsError::on(
                            n,
                            format!("END:{what} does not close BEGIN:{open} of line {at}"),
                        ))
                    }
                    None => return Err(not_icalendar(seen_calendar, n)),
                }
                if what == "VEVENT" && components.len() == 1 {
                    if let Some(e) = current.take() {
                        raw.push(e);
                    }
                }
            }
            _ if in_event => {
                if let Some(e) = current.as_mut() {
                    e.props.push((n, line));
                }
            }
            _ => {}
        }
    }
    if let Some((open, at)) = components.last() {
        return Err(IcsError::refused(format!(
            "the text ends inside BEGIN:{open} of line {at} (is it cut short?)"
        )));
    }
    if !seen_calendar {
        return Err(not_icalendar(false, 1));
    }
    Ok(raw)
}

/// What is said of a text of `len` bytes when `what` may hold `max_bytes`.
pub fn too_large(len: usize, max_bytes: usize, what: &str) -> String {
    format!(
        "the iCalendar text is {} KiB, more than the {} KiB {what} may hold",
        len.div_ceil(1024),
        max_bytes / 1024
    )
}

fn not_icalendar(seen_calendar: bool, n: usize) -> IcsError {
    if seen_calendar {
        IcsError::on(n, "text outside BEGIN:VCALENDAR … END:VCALENDAR")
    } else {
        IcsError::refused("not an iCalendar file (it does not begin with BEGIN:VCALENDAR)")
    }
}

impl Calendar {
    /// The holiday dates between `from` and `to` (inclusive), sorted and
    /// unique. Refused when they are more than [`MAX_DATES`], or when the
    /// rules step through too much to get there.
    pub fn dates(&self, from: Date, to: Date, budget: &mut Budget) -> Result<Vec<Date>, IcsError> {
        let mut out = BTreeSet::new();
        let too_much = || {
            IcsError::refused(format!(
                "its events repeat too often to read: the program's holiday calendars may step \
                 through {MAX_WORK} occurrences and days, from their first ones to {to}"
            ))
        };
        for e in &self.events {
            let mut add = |start: Date, budget: &mut Budget| -> Result<(), IcsError> {
                for k in 0..e.days {
                    budget.work = budget.work.checked_sub(1).ok_or_else(too_much)?;
                    let Ok(d) = start.checked_add(k.days()) else {
                        break;
                    };
                    if d > to {
                        break;
                    }
                    if d >= from && out.insert(d) && out.len() > MAX_DATES {
                        return Err(IcsError::refused(format!(
                            "more than {MAX_DATES} holiday dates from {from} to {to} \
                             (line {}: {:?} adds some): a holiday calendar lists days off",
                            e.line, e.summary
                        )));
                    }
                }
                Ok(())
            };
            if e.rules.is_empty() {
                let mut starts: Vec<Date> = std::iter::once(e.start)
                    .chain(e.extra.iter().copied())
                    .filter(|d| !e.except.contains(d))
                    .collect();
                starts.sort();
                starts.dedup();
                for s in starts {
                    add(s, budget)?;
                }
                continue;
            }
            let set = RRuleSet::new(midnight(e.start)?)
                .set_rrules(e.rules.clone())
                .set_rdates(
                    e.extra
                        .iter()
                        .map(|d| midnight(*d))
                        .collect::<Result<_, _>>()?,
                )
                .set_exdates(
                    e.except
                        .iter()
                        .map(|d| midnight(*d))
                        .collect::<Result<_, _>>()?,
                )
                .limit();
            for at in &set {
                budget.work = budget.work.checked_sub(1).ok_or_else(too_much)?;
                let s = civil(&at)?;
                if s > to {
                    break;
                }
                add(s, budget)?;
            }
        }
        Ok(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::with_causes;
    use jiff::civil::date;

    /// [`super::parse`], refused as a person reads it.
    fn parse(ics: &str, budget: &mut Budget) -> Result<Calendar, String> {
        super::parse(ics, budget).map_err(|e| with_causes(&e))
    }

    /// [`super::holiday_dates`], refused as a person reads it.
    fn holiday_dates(ics: &str, from: Date, to: Date) -> Result<Vec<Date>, String> {
        super::holiday_dates(ics, from, to).map_err(|e| with_causes(&e))
    }

    pub(super) fn cal(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n{events}END:VCALENDAR\r\n")
    }

    pub(super) fn event(lines: &str) -> String {
        let body: String = lines.lines().map(|l| format!("{}\r\n", l.trim())).collect();
        format!("BEGIN:VEVENT\r\n{body}END:VEVENT\r\n")
    }

    fn dates(ics: &str, from: Date, to: Date) -> Vec<Date> {
        holiday_dates(ics, from, to).unwrap()
    }

    const CZ: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY;COUNT=2\r\nSUMMARY:New Year's Day,\r\n  continued\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn reads_multi_day_and_yearly_events() {
        let d = dates(CZ, date(2026, 1, 1), date(2030, 12, 31));
        assert_eq!(
            d,
            vec![
                date(2026, 1, 1),
                date(2026, 12, 24),
                date(2026, 12, 25),
                date(2026, 12, 26),
                date(2027, 1, 1)
            ]
        );
    }

    #[test]
    fn a_yearly_rule_without_an_end_lasts_to_the_end_of_the_span() {
        let ics = cal(&event(
            "UID:1\nDTSTART;VALUE=DATE:20200501\nRRULE:FREQ=YEARLY\nSUMMARY:Labour Day",
        ));
        let d = dates(&ics, date(2026, 1, 1), date(2040, 12, 31));
        assert_eq!(d.len(), 15, "2026 to 2040: {d:?}");
        assert_eq!(d[0], date(2026, 5, 1));
        assert_eq!(d[14], date(2040, 5, 1));
    }

    #[test]
    fn thanksgiving_is_the_fourth_thursday_of_november() {
        let ics = cal(&event(
            "UID:t\nDTSTART;VALUE=DATE:20221124\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\nSUMMARY:Thanksgiving",
        ));
        let d = dates(&ics, date(2026, 1, 1), date(2028, 12, 31));
        assert_eq!(
            d,
            vec![date(2026, 11, 26), date(2027, 11, 25), date(2028, 11, 23)]
        );
    }

    #[test]
    fn until_and_interval_are_kept() {
        // Every other year, until 2030 (a date, inclusive).
        let ics = cal(&event(
            "UID:u\nDTSTART;VALUE=DATE:20260704\nRRULE:FREQ=YEARLY;INTERVAL=2;UNTIL=20300704\nSUMMARY:Fete",
        ));
        let d = dates(&ics, date(2026, 1, 1), date(2040, 12, 31));
        assert_eq!(
            d,
            vec![date(2026, 7, 4), date(2028, 7, 4), date(2030, 7, 4)]
        );
        // UNTIL as a UTC date-time reads the same.
        let ics = ics.replace("UNTIL=20300704", "UNTIL=20300704T000000Z");
        assert_eq!(dates(&ics, date(2026, 1, 1), date(2040, 12, 31)).len(), 3);
        // The last Monday of May (BYDAY=-1MO), monthly every 12 months.
        let ics = cal(&event(
            "UID:m\nDTSTART;VALUE=DATE:20260525\nRRULE:FREQ=MONTHLY;INTERVAL=12;BYDAY=-1MO\nSUMMARY:Memorial Day",
        ));
        assert_eq!(
            dates(&ics, date(2026, 1, 1), date(2027, 12, 31)),
            vec![date(2026, 5, 25), date(2027, 5, 31)]
        );
    }

    #[test]
    fn exdate_rdate_and_moved_instances() {
        let ics = cal(&format!(
            "{}{}",
            event(
                "UID:b\nDTSTART;VALUE=DATE:20260504\nRRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=1MO\n\
                 EXDATE;VALUE=DATE:20270503\nRDATE;VALUE=DATE:20270508\nSUMMARY:Early May bank holiday"
            ),
            // 2028's is moved to Friday 5 May.
            event(
                "UID:b\nRECURRENCE-ID;VALUE=DATE:20280501\nDTSTART;VALUE=DATE:20280505\nSUMMARY:Early May bank holiday (moved)"
            )
        ));
        assert_eq!(
            dates(&ics, date(2026, 1, 1), date(2028, 12, 31)),
            vec![date(2026, 5, 4), date(2027, 5, 8), date(2028, 5, 5)]
        );
        // A cancelled instance is no holiday.
        let cancelled = ics.replace(
            "DTSTART;VALUE=DATE:20280505",
            "STATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20280501",
        );
        assert_eq!(
            dates(&cancelled, date(2026, 1, 1), date(2028, 12, 31)),
            vec![date(2026, 5, 4), date(2027, 5, 8)]
        );
    }

    #[test]
    fn multi_day_events_by_dtend_or_duration() {
        let ics = cal(&format!(
            "{}{}",
            event(
                "UID:1\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261227\nSUMMARY:Christmas"
            ),
            event("UID:2\nDTSTART;VALUE=DATE:20260406\nDURATION:P2D\nSUMMARY:Easter")
        ));
        assert_eq!(
            dates(&ics, date(2026, 1, 1), date(2026, 12, 31)),
            vec![
                date(2026, 4, 6),
                date(2026, 4, 7),
                date(2026, 12, 24),
                date(2026, 12, 25),
                date(2026, 12, 26)
            ]
        );
        // Clipped to the span, at both ends.
        assert_eq!(
            dates(&ics, date(2026, 4, 7), date(2026, 12, 24)),
            vec![date(2026, 4, 7), date(2026, 12, 24)]
        );
        let bad = cal(&event(
            "UID:3\nDTSTART;VALUE=DATE:20260406\nDURATION:PT12H\nSUMMARY:Half",
        ));
        assert!(holiday_dates(&bad, date(2026, 1, 1), date(2026, 12, 31))
            .unwrap_err()
            .contains("is not a whole number of days"));
    }

    #[test]
    fn timed_events_are_refused_with_their_line_and_summary() {
        let ics = cal(&event(
            "UID:1\nDTSTART;TZID=Europe/Prague:20261224T120000\nDTEND;TZID=Europe/Prague:20261224T170000\nSUMMARY:Christmas Eve (afternoon)",
        ));
        let e = parse(&ics, &mut Budget::default()).unwrap_err();
        assert!(
            e.starts_with("line 6: \"Christmas Eve (afternoon)\" is a timed event"),
            "{e}"
        );
        assert!(e.contains("list its date under dates"), "{e}");
        // Outlook's all-day events, midnight to midnight, are all-day.
        let outlook = cal(&event(
            "UID:1\nDTSTART;TZID=\"W. Europe Standard Time\":20261224T000000\nDTEND;TZID=\"W. Europe Standard Time\":20261225T000000\n\
             X-MICROSOFT-CDO-ALLDAYEVENT:TRUE\nSUMMARY:Christmas Eve",
        ));
        assert_eq!(
            dates(&outlook, date(2026, 1, 1), date(2026, 12, 31)),
            vec![date(2026, 12, 24)]
        );
    }

    #[test]
    fn rules_it_cannot_read_are_refused_never_guessed() {
        for (rule, says) in [
            ("FREQ=YEARLY;BYEASTER=1", "not read"),
            ("FREQ=YEARLY;X-SPECIAL=1", "not read"),
            ("FREQ=FORTNIGHTLY", "not read"),
            ("BYMONTH=5", "not read"),
            ("FREQ=DAILY;BYMINUTE=0", "BYMINUTE repeats within a day"),
            ("FREQ=HOURLY", "not hourly"),
            ("FREQ=DAILY;BYHOUR=9", "BYHOUR repeats within a day"),
            ("FREQ=YEARLY;INTERVAL=0", "INTERVAL must be 1 or more"),
            ("FREQ=YEARLY;UNTIL=2030", "not an iCalendar date"),
            ("FREQ=YEARLY;BYMONTH=13", "not read"),
        ] {
            let ics = cal(&event(&format!(
                "UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:{rule}\nSUMMARY:X"
            )));
            let e = parse(&ics, &mut Budget::default()).map(|_| ()).unwrap_err();
            assert!(e.starts_with("line 7: "), "{rule}: {e}");
            assert!(
                e.to_lowercase().contains(&says.to_lowercase()),
                "{rule}: {e}"
            );
        }
        let exrule = cal(&event("UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY\nEXRULE:FREQ=YEARLY;INTERVAL=2\nSUMMARY:X"));
        assert!(parse(&exrule, &mut Budget::default())
            .unwrap_err()
            .contains("EXRULE"));
    }

    #[test]
    fn too_many_dates_or_too_much_work_is_refused() {
        let daily = cal(&event(
            "UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY\nSUMMARY:Every day",
        ));
        assert_eq!(dates(&daily, date(2026, 1, 1), date(2026, 1, 31)).len(), 31);
        let e = holiday_dates(&daily, date(2026, 1, 1), date(2050, 12, 31)).unwrap_err();
        assert!(
            e.contains("more than 5000 holiday dates from 2026-01-01 to 2050-12-31"),
            "{e}"
        );
        // Stepping from 1601 to today every day is refused before it is done.
        let old = daily.replace("20260101", "16010101");
        let e = holiday_dates(&old, date(2026, 1, 1), date(2026, 12, 31)).unwrap_err();
        assert!(e.contains("repeat too often"), "{e}");
        // A rule with no date at all is refused (its search is cut short).
        for rule in [
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31;COUNT=3",
            "FREQ=DAILY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=6",
        ] {
            let never = cal(&event(&format!(
                "UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:{rule}\nSUMMARY:Never"
            )));
            let e = parse(&never, &mut Budget::default()).unwrap_err();
            assert!(
                e.ends_with("gives no date at all") || e.contains("not read"),
                "{rule}: {e}"
            );
        }
        // A rare one is not: 29 February on a Monday, every 28 years or so.
        let rare = cal(&event("UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO\nSUMMARY:Rare"));
        assert_eq!(
            dates(&rare, date(2026, 1, 1), date(2100, 12, 31)),
            vec![date(2044, 2, 29), date(2072, 2, 29)]
        );
        // One budget for all of a program's calendars.
        let yearly = cal(&event(
            "UID:1\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY\nSUMMARY:New Year",
        ));
        let mut budget = Budget::default();
        for _ in 0..MAX_RULES {
            parse(&yearly, &mut budget).unwrap();
        }
        let e = parse(&yearly, &mut budget).unwrap_err();
        assert!(
            e.contains("more than 100 recurrence rules (RRULE) in the program's holiday calendars"),
            "{e}"
        );
    }

    #[test]
    fn size_limit() {
        let filler = format!("X-FILLER:{}\r\n", "x".repeat(70));
        let big = cal(&filler.repeat(MAX_ICS_BYTES / filler.len() + 1));
        let e = parse(&big, &mut Budget::default()).unwrap_err();
        assert!(
            e.contains("more than the 512 KiB a holiday calendar may hold"),
            "{e}"
        );
        let fits = cal(&filler.repeat(MAX_ICS_BYTES / filler.len() - 2));
        assert!(parse(&fits, &mut Budget::default()).is_ok());
    }

    #[test]
    fn refuses_what_is_not_a_calendar() {
        assert!(parse("hello", &mut Budget::default())
            .unwrap_err()
            .contains("not an iCalendar file"));
        assert!(parse("", &mut Budget::default())
            .unwrap_err()
            .contains("not an iCalendar file"));
        assert!(parse(
            "SUMMARY:x\nBEGIN:VCALENDAR\nEND:VCALENDAR",
            &mut Budget::default()
        )
        .unwrap_err()
        .contains("not an iCalendar file"));
        let bad = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-12-24\nEND:VEVENT\nEND:VCALENDAR";
        assert!(parse(bad, &mut Budget::default())
            .unwrap_err()
            .starts_with("line 3: "));
        let cut = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\n";
        assert_eq!(
            parse(cut, &mut Budget::default()).unwrap_err(),
            "the text ends inside BEGIN:VEVENT of line 2 (is it cut short?)"
        );
        let crossed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n";
        assert!(parse(crossed, &mut Budget::default())
            .unwrap_err()
            .contains("END:VCALENDAR does not close BEGIN:VEVENT of line 2"));
        let no_start = cal(&event("UID:1\nSUMMARY:Nothing"));
        assert!(parse(&no_start, &mut Budget::default())
            .unwrap_err()
            .contains("\"Nothing\": an event without DTSTART"));
    }

    #[test]
    fn alarms_and_time_zones_do_not_leak_into_events() {
        let ics = cal(&format!(
            "BEGIN:VTIMEZONE\r\nTZID:Europe/Prague\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n{}",
            event(
                "UID:1\nDTSTART;VALUE=DATE:20260928\nSUMMARY:St Wenceslas\nBEGIN:VALARM\nTRIGGER:-PT15M\nDTSTART:20260927T090000Z\nEND:VALARM"
            )
        ));
        assert_eq!(
            dates(&ics, date(2026, 1, 1), date(2026, 12, 31)),
            vec![date(2026, 9, 28)]
        );
    }

    proptest::proptest! {
        /// Whatever rule parts a file combines, reading it ends, and never panics.
        #[test]
        fn any_rule_is_read_or_refused_without_panicking(
            freq in proptest::sample::select(vec!["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "X"]),
            parts in proptest::collection::vec(
                (proptest::sample::select(vec!["BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO", "COUNT", "INTERVAL", "WKST", "UNTIL"]),
                 proptest::sample::select(vec!["1", "-1", "4TH", "-1MO", "53", "366", "0", "31", "2", "MO", "20300101", "99999", "SU,SA"])),
                0..4),
            start in 1995i16..2030,
        ) {
            let rule: String = std::iter::once(format!("FREQ={freq}"))
                .chain(parts.iter().map(|(k, v)| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(";");
            let ics = cal(&event(&format!("UID:1\nDTSTART;VALUE=DATE:{start}0229\nRRULE:{rule}\nSUMMARY:X")));
            let _ = holiday_dates(&ics, date(2026, 1, 1), date(2032, 12, 31));
        }
    }
}
