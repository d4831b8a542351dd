//! Recurrence rules (`RRULE`) of all-day events, read and expanded by the
//! `rrule` crate, with all-day dates as midnight UTC.

use super::content::{parse_when, ContentLine};
use super::IcsError;
use chrono::{Datelike, TimeZone};
use jiff::civil::Date;
use rrule::{RRule, RRuleSet, Tz, Unvalidated, Validated};

/// An `RRULE` value for an all-day event starting on `start`, validated by
/// the `rrule` crate. `UNTIL` is read here as a date (inclusive; RFC 5545
/// has it be a date when DTSTART is one, which the crate would take for the
/// server's local time); a rule that repeats within a day is refused.
pub(super) fn read_rule(value: &str, start: Date) -> Result<RRule<Validated>, IcsError> {
    let value = value.trim();
    let mut until = None;
    let mut rest = Vec::new();
    for part in value.split(';').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = k.trim().to_ascii_uppercase();
        match k.as_str() {
            "UNTIL" => {
                let w = parse_when(&ContentLine {
                    name: "UNTIL".into(),
                    params: Vec::new(),
                    value: v.to_string(),
                })?;
                until = Some(w.date);
            }
            "FREQ"
                if ["HOURLY", "MINUTELY", "SECONDLY"]
                    .contains(&v.trim().to_ascii_uppercase().as_str()) =>
            {
                return Err(IcsError::refused(format!(
                    "RRULE {value:?}: a holiday repeats by days, weeks, months or years, not {}",
                    v.trim().to_ascii_lowercase()
                )))
            }
            "BYHOUR" | "BYMINUTE" | "BYSECOND" => {
                return Err(IcsError::refused(format!(
                    "RRULE {value:?}: {k} repeats within a day; a holiday rule names days"
                )))
            }
            "INTERVAL" if v.trim().parse::<u16>().ok() == Some(0) => {
                return Err(IcsError::refused(format!(
                    "RRULE {value:?}: INTERVAL must be 1 or more"
                )))
            }
            _ => rest.push(part),
        }
    }
    let not_read = |source| IcsError::Rule {
        line: None,
        value: value.to_string(),
        source: Box::new(source),
    };
    let pattern = rest
        .iter()
        .filter(|p| !p.trim().to_ascii_uppercase().starts_with("COUNT="))
        .copied()
        .collect::<Vec<_>>()
        .join(";");
    let mut parsed: RRule<Unvalidated> = rest.join(";").parse().map_err(not_read)?;
    if let Some(u) = until {
        parsed = parsed.until(midnight(u)?);
    }
    let rule = parsed.validate(midnight(start)?).map_err(not_read)?;
    if !gives_a_date(&pattern, start, rule.get_interval())? {
        return Err(IcsError::refused(format!(
            "RRULE {value:?} gives no date at all"
        )));
    }
    Ok(rule)
}

/// Whether a rule's pattern (without COUNT or UNTIL) gives any date. The
/// `rrule` crate looks for a rule's next date for up to 100,000 rounds (or
/// to the year 10000), so a rule with none costs its whole search, each
/// time it is expanded. The Gregorian calendar repeats every 400 years
/// (146,097 days, a whole number of weeks), so the pattern started 400 ×
/// INTERVAL years later, any number of times, has the same dates moved as
/// much: started as late as that allows, the search ends at the year 10000
/// after one whole cycle of it (for a daily rule, at the crate's limit).
fn gives_a_date(pattern: &str, start: Date, interval: u16) -> Result<bool, IcsError> {
    let cycle = 400 * i32::from(interval.max(1));
    let room = 10_000 - cycle - i32::from(start.year());
    let shift = if room > 0 { room / cycle * cycle } else { 0 };
    let moved = i16::try_from(shift)
        .ok()
        .and_then(|y| start.checked_add(jiff::Span::new().years(y)).ok())
        .unwrap_or(start);
    let from = midnight(moved)?;
    let Ok(rule) = pattern
        .parse::<RRule<Unvalidated>>()
        .and_then(|r| r.validate(from))
    else {
        // The rule as written was read; its pattern alone is no worse.
        return Ok(true);
    };
    let set = RRuleSet::new(from).rrule(rule).limit();
    let found = (&set).into_iter().next().is_some();
    Ok(found)
}

/// Midnight UTC of a date: every all-day date is read as one, so that the
/// rules' dates are the calendar's dates, whatever the server's zone.
pub(super) fn midnight(d: Date) -> Result<chrono::DateTime<Tz>, IcsError> {
    Tz::UTC
        .with_ymd_and_hms(
            i32::from(d.year()),
            u32::from(d.month().unsigned_abs()),
            u32::from(d.day().unsigned_abs()),
            0,
            0,
            0,
        )
        .single()
        .ok_or_else(|| IcsError::refused(format!("{d} is not a date the rules can start from")))
}

pub(super) fn civil(at: &chrono::DateTime<Tz>) -> Result<Date, IcsError> {
    let d = at.date_naive();
    i16::try_from(d.year())
        .ok()
        .and_then(|y| Date::new(y, d.month() as i8, d.day() as i8).ok())
        .ok_or_else(|| {
            IcsError::refused(format!("a rule reached {d}, beyond the dates it can read"))
        })
}
