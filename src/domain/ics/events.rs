//! A calendar's `VEVENT`s read as all-day events: their dates, length and
//! recurrence, and what is refused rather than misread.

use super::content::{
    parse_duration_days, parse_when, parse_whens, short, unescape, ContentLine, When,
};
use super::rule::read_rule;
use super::{Budget, Calendar, Event, IcsError, MAX_EVENT_DAYS, MAX_RULES};
use jiff::civil::Date;
use std::collections::HashMap;

/// A `VEVENT`'s own properties (not its alarms'), as read.
pub(super) struct RawEvent {
    pub(super) line: usize,
    pub(super) props: Vec<(usize, ContentLine)>,
}

impl RawEvent {
    pub(super) fn new(line: usize) -> Self {
        Self {
            line,
            props: Vec::new(),
        }
    }

    pub(super) fn one(&self, name: &str) -> Result<Option<&(usize, ContentLine)>, IcsError> {
        let mut found = self.props.iter().filter(|(_, l)| l.name == name);
        let first = found.next();
        if let Some((n, _)) = found.next() {
            return Err(IcsError::on(*n, format!("a second {name} in one event")));
        }
        Ok(first)
    }

    pub(super) fn all<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a (usize, ContentLine)> + 'a {
        self.props.iter().filter(move |(_, l)| l.name == name)
    }

    fn summary(&self) -> String {
        self.props
            .iter()
            .find(|(_, l)| l.name == "SUMMARY")
            .map(|(_, l)| short(&unescape(&l.value)))
            .unwrap_or_else(|| "(no summary)".into())
    }
}

/// Turns raw events into all-day events, refusing what would be misread;
/// instances overridden by `RECURRENCE-ID` are taken out of their series.
pub(super) fn read_events(raw: Vec<RawEvent>, budget: &mut Budget) -> Result<Calendar, IcsError> {
    let mut events: Vec<(Option<String>, Event)> = Vec::new();
    let mut overridden: HashMap<String, Vec<Date>> = HashMap::new();
    for r in raw {
        let at = |n: usize, m: String| IcsError::on(n, m);
        let summary = r.summary();
        let uid = r.one("UID")?.map(|(_, l)| l.value.trim().to_string());
        if let Some((n, rid)) = r.one("RECURRENCE-ID")? {
            if rid
                .param("RANGE")
                .is_some_and(|v| v.eq_ignore_ascii_case("THISANDFUTURE"))
            {
                return Err(at(
                    *n,
                    "RECURRENCE-ID;RANGE=THISANDFUTURE (changing every later instance) is not read"
                        .into(),
                ));
            }
            let when = parse_when(rid).map_err(|e| e.at(*n))?;
            let Some(uid) = uid.clone() else {
                return Err(at(
                    *n,
                    "an event with RECURRENCE-ID needs the UID of its series".into(),
                ));
            };
            overridden.entry(uid).or_default().push(when.date);
        }
        let cancelled = r
            .one("STATUS")?
            .is_some_and(|(_, l)| l.value.trim().eq_ignore_ascii_case("CANCELLED"));
        if cancelled {
            continue;
        }
        if let Some((n, _)) = r.all("EXRULE").next() {
            return Err(at(
                *n,
                "EXRULE (deprecated by RFC 5545) is not read; use EXDATE".into(),
            ));
        }
        let Some((n, dtstart)) = r.one("DTSTART")? else {
            return Err(at(r.line, format!("{summary:?}: an event without DTSTART")));
        };
        let start = parse_when(dtstart).map_err(|e| e.at(*n))?;
        let all_day_outlook = r
            .one("X-MICROSOFT-CDO-ALLDAYEVENT")?
            .is_some_and(|(_, l)| l.value.trim().eq_ignore_ascii_case("TRUE"));
        let timed = |w: &When| w.time.is_some() && !(all_day_outlook && w.time == Some(0));
        if timed(&start) {
            return Err(at(
                *n,
                format!(
                    "{summary:?} is a timed event (DTSTART {}): only all-day events are holidays; \
                     remove it, or list its date under dates if the whole day is off",
                    dtstart.value.trim()
                ),
            ));
        }
        let days = match (r.one("DTEND")?, r.one("DURATION")?) {
            (Some((n, _)), Some(_)) => {
                return Err(at(*n, "an event has DTEND or DURATION, not both".into()))
            }
            (Some((n, dtend)), None) => {
                let end = parse_when(dtend).map_err(|e| e.at(*n))?;
                if timed(&end) {
                    return Err(at(
                        *n,
                        format!("{summary:?}: DTEND has a time, DTSTART a date"),
                    ));
                }
                // DTEND is exclusive; an end on or before the start is one day.
                (end.date - start.date).get_days().max(1).into()
            }
            (None, Some((n, d))) => parse_duration_days(&d.value)
                .filter(|d| *d >= 0)
                .map(|d| d.max(1))
                .ok_or_else(|| {
                    at(
                        *n,
                        format!(
                            "DURATION {:?} is not a whole number of days (P1D, P2W)",
                            d.value.trim()
                        ),
                    )
                })?,
            (None, None) => 1,
        };
        if days > MAX_EVENT_DAYS {
            return Err(at(
                r.line,
                format!("{summary:?} lasts {days} days: an event of at most {MAX_EVENT_DAYS} days is a holiday"),
            ));
        }
        let mut extra = Vec::new();
        for (n, l) in r.all("RDATE") {
            if l.param("VALUE")
                .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"))
            {
                return Err(at(*n, "RDATE;VALUE=PERIOD is not read: list dates".into()));
            }
            for w in parse_whens(l).map_err(|e| e.at(*n))? {
                if timed(&w) {
                    return Err(at(
                        *n,
                        format!("{summary:?}: RDATE has a time, DTSTART a date"),
                    ));
                }
                extra.push(w.date);
            }
        }
        let mut except = Vec::new();
        for (n, l) in r.all("EXDATE") {
            // The date of an excluded instance, even when written with a time.
            except.extend(parse_whens(l).map_err(|e| e.at(*n))?.iter().map(|w| w.date));
        }
        let mut event_rules = Vec::new();
        for (n, l) in r.all("RRULE") {
            if budget.rules == 0 {
                return Err(at(
                    *n,
                    format!(
                        "more than {MAX_RULES} recurrence rules (RRULE) in the program's holiday calendars"
                    ),
                ));
            }
            budget.rules -= 1;
            event_rules.push(read_rule(&l.value, start.date).map_err(|e| e.at(*n))?);
        }
        events.push((
            uid,
            Event {
                line: r.line,
                summary,
                start: start.date,
                days,
                rules: event_rules,
                extra,
                except,
            },
        ));
    }
    let events = events
        .into_iter()
        .map(|(uid, mut e)| {
            if !e.rules.is_empty() || !e.extra.is_empty() {
                if let Some(moved) = uid.and_then(|u| overridden.get(&u)) {
                    e.except.extend(moved.iter().copied());
                }
            }
            e
        })
        .collect();
    Ok(Calendar { events })
}
