//! Holiday dates from an iCalendar (`.ics`) file, as public-holiday calendars
//! publish them: each `VEVENT` with an all-day `DTSTART;VALUE=DATE`, an
//! optional exclusive `DTEND`, and optionally a yearly `RRULE`.

use jiff::civil::Date;
use jiff::ToSpan;

/// How many years a yearly rule without an end is expanded to.
const YEARLY_HORIZON: i16 = 5;

/// The dates of every all-day event in the calendar, sorted and unique.
pub fn holiday_dates(ics: &str) -> Result<Vec<Date>, String> {
    if !ics.contains("BEGIN:VCALENDAR") {
        return Err("not an iCalendar file (no BEGIN:VCALENDAR)".into());
    }
    // Unfold continuation lines (RFC 5545 §3.1): a line starting with a space or tab continues the previous one.
    let mut lines: Vec<String> = Vec::new();
    for raw in ics.lines() {
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        lines.push(raw.trim_end_matches('\r').to_string());
    }
    let mut out = Vec::new();
    let mut event: Option<(Option<Date>, Option<Date>, Option<String>)> = None;
    for (n, line) in lines.iter().enumerate() {
        let (name, value) = match line.split_once(':') {
            Some((k, v)) => (
                k.split(';').next().unwrap_or_default().to_ascii_uppercase(),
                v.trim(),
            ),
            None => continue,
        };
        match (name.as_str(), &mut event) {
            ("BEGIN", None) if value.eq_ignore_ascii_case("VEVENT") => {
                event = Some((None, None, None))
            }
            ("DTSTART", Some(e)) => {
                e.0 = Some(parse_date(value).map_err(|m| format!("line {}: {m}", n + 1))?)
            }
            ("DTEND", Some(e)) => {
                e.1 = Some(parse_date(value).map_err(|m| format!("line {}: {m}", n + 1))?)
            }
            ("RRULE", Some(e)) => e.2 = Some(value.to_ascii_uppercase()),
            ("END", Some(_)) if value.eq_ignore_ascii_case("VEVENT") => {
                let (start, end, rule) = event.take().unwrap_or_default();
                let start =
                    start.ok_or_else(|| format!("line {}: an event without DTSTART", n + 1))?;
                let days = match end {
                    Some(end) if end > start => (end - start).get_days().clamp(1, 366),
                    _ => 1,
                };
                let years = match rule.as_deref() {
                    Some(r) if r.contains("FREQ=YEARLY") => yearly_count(r),
                    _ => 1,
                };
                for y in 0..years {
                    let first = start
                        .checked_add(i64::from(y).years())
                        .map_err(|e| e.to_string())?;
                    for d in 0..days {
                        out.push(first.checked_add(d.days()).map_err(|e| e.to_string())?);
                    }
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn yearly_count(rule: &str) -> i16 {
    rule.split(';')
        .find_map(|p| p.strip_prefix("COUNT="))
        .and_then(|c| c.parse::<i16>().ok())
        .map(|c| c.clamp(1, 50))
        .unwrap_or(YEARLY_HORIZON)
}

/// `20261224` or `20261224T000000Z` (the date part counts for all-day events).
fn parse_date(v: &str) -> Result<Date, String> {
    let digits: String = v.chars().take(8).collect();
    if digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{v:?} is not an iCalendar date"));
    }
    let (y, m, d) = (&digits[0..4], &digits[4..6], &digits[6..8]);
    Date::new(
        y.parse().map_err(|_| format!("{v:?}: bad year"))?,
        m.parse().map_err(|_| format!("{v:?}: bad month"))?,
        d.parse().map_err(|_| format!("{v:?}: bad day"))?,
    )
    .map_err(|e| format!("{v:?} is not a date: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const CZ: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY;COUNT=2\r\nSUMMARY:New Year's Day,\r\n  continued\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn reads_multi_day_and_yearly_events() {
        let d = holiday_dates(CZ).unwrap();
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
    fn refuses_what_is_not_a_calendar() {
        assert!(holiday_dates("hello").is_err());
        let bad = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-12-24\nEND:VEVENT\nEND:VCALENDAR";
        assert!(holiday_dates(bad).unwrap_err().contains("line 3"));
    }
}
