//! A coaching platform's bookings, from an iCalendar file or feed: who each
//! booking is with (its attendees' emails) and when it starts. Which
//! session a booking is, is `domain::bookings`' to say.
//!
//! The text's structure is checked as strictly as a holiday calendar's
//! (`read_components`): a text that is not iCalendar, is cut short or has an
//! unreadable DTSTART is refused whole, with its line. A booking feed is
//! written by software we do not control, so single events Momentum does not
//! use are skipped and counted, not refused: cancelled ones, ones without an
//! attendee's email or a start, and recurring series (a booking is one
//! meeting; platforms list each booking as its own event).

use super::content::{parse_when, ContentLine};
use super::events::RawEvent;
use super::{read_components, IcsError};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The longest bookings calendar read: some 4,000 bookings of a few hundred
/// bytes each, a year of a large organisation's coaching.
pub const MAX_BOOKINGS_BYTES: usize = 2 * 1024 * 1024;

/// What a bookings calendar is called in messages about its size.
pub const BOOKINGS_CALENDAR: &str = "a bookings calendar";

/// When a booking starts, as the calendar says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStart {
    /// An all-day booking.
    Day(Date),
    /// A time without a zone: floating (RFC 5545 §3.3.5, "the same hour
    /// wherever you are"), or with a TZID that is no IANA zone name (a
    /// Windows name such as "W. Europe Standard Time"): read as the
    /// participant's own local time. Off by at most the zones' difference,
    /// which moves the date only for a booking near midnight.
    Local(DateTime),
    /// An instant: a UTC time (`…Z`) or a time in a known TZID.
    At(Timestamp),
}

impl BookingStart {
    /// The date the booking falls on for someone living in `tz`.
    pub fn date_in(&self, tz: &TimeZone) -> Date {
        match self {
            BookingStart::Day(d) => *d,
            BookingStart::Local(dt) => dt.date(),
            BookingStart::At(t) => t.to_zoned(tz.clone()).date(),
        }
    }
}

/// One booking: its attendees and organiser (lower-case emails) and its
/// start.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub line: usize,
    /// Who attends and did not decline, the organiser left out.
    pub attendees: Vec<String>,
    /// Usually the coach; on some platforms the participant who booked.
    pub organiser: Option<String>,
    pub start: BookingStart,
}

impl Booking {
    /// Everyone the booking names: its attendees and its organiser.
    pub fn people(&self) -> impl Iterator<Item = &String> {
        self.attendees.iter().chain(self.organiser.as_ref())
    }
}

/// A bookings calendar as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bookings {
    pub bookings: Vec<Booking>,
    /// The attendees of cancelled bookings: a participant whose every
    /// booking was cancelled is still someone the calendar speaks about.
    pub cancelled: Vec<String>,
    /// Events not read as bookings (cancelled, recurring, without an
    /// attendee's email or a DTSTART).
    pub skipped: usize,
}

/// Reads a bookings calendar (at most [`MAX_BOOKINGS_BYTES`]).
pub fn parse_bookings(ics: &str) -> Result<Bookings, IcsError> {
    let raw = read_components(ics, MAX_BOOKINGS_BYTES, BOOKINGS_CALENDAR)?;
    let mut out = Bookings::default();
    for r in raw {
        let organiser = r.one("ORGANIZER")?.and_then(|(_, l)| email_of(l));
        let attendees = attendees(&r, organiser.as_ref())?;
        let cancelled = r
            .one("STATUS")?
            .is_some_and(|(_, l)| l.value.trim().eq_ignore_ascii_case("CANCELLED"));
        if cancelled {
            out.cancelled.extend(attendees.into_iter().chain(organiser));
            out.skipped += 1;
            continue;
        }
        let recurring = ["RRULE", "RDATE", "RECURRENCE-ID"]
            .iter()
            .any(|p| r.all(p).next().is_some());
        let start = match r.one("DTSTART")? {
            Some((n, l)) => Some(booking_start(l).map_err(|e| e.at(*n))?),
            None => None,
        };
        match start {
            Some(start) if !recurring && !attendees.is_empty() => out.bookings.push(Booking {
                line: r.line,
                attendees,
                organiser,
                start,
            }),
            _ => out.skipped += 1,
        }
    }
    Ok(out)
}

/// The emails of an event's attendees who did not decline, the organiser
/// (often listed as an attendee too) left out.
fn attendees(r: &RawEvent, organiser: Option<&String>) -> Result<Vec<String>, IcsError> {
    let mut out: Vec<String> = Vec::new();
    for (_, l) in r.all("ATTENDEE") {
        let declined = l
            .param("PARTSTAT")
            .is_some_and(|s| s.eq_ignore_ascii_case("DECLINED"));
        if let Some(e) = email_of(l).filter(|e| !declined && Some(e) != organiser) {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// `mailto:Jana@Example.com` as `jana@example.com`; nothing for another
/// kind of address.
fn email_of(l: &ContentLine) -> Option<String> {
    let v = l.value.trim();
    let (scheme, rest) = v.split_at(v.find(':')?);
    let email = rest[1..].trim().to_lowercase();
    (scheme.eq_ignore_ascii_case("mailto") && email.contains('@')).then_some(email)
}

fn booking_start(l: &ContentLine) -> Result<BookingStart, IcsError> {
    let when = parse_when(l)?;
    let Some(secs) = when.time else {
        return Ok(BookingStart::Day(when.date));
    };
    // A leap second (60) is read as the second before it.
    let (h, m, s) = (secs / 3600, secs / 60 % 60, (secs % 60).min(59));
    let local = when.date.at(h as i8, m as i8, s as i8, 0);
    if l.value.trim().ends_with(['Z', 'z']) {
        return TimeZone::UTC
            .to_timestamp(local)
            .map(BookingStart::At)
            .map_err(|source| IcsError::Start {
                line: None,
                value: l.value.trim().to_string(),
                source,
            });
    }
    let zone = l.param("TZID").and_then(|z| TimeZone::get(z.trim()).ok());
    Ok(match zone.and_then(|tz| tz.to_timestamp(local).ok()) {
        Some(t) => BookingStart::At(t),
        None => BookingStart::Local(local),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::errors::with_causes;
    use jiff::civil::date;

    /// A calendar of `events` (each a few lines, one property a line).
    fn cal(events: &[&str]) -> String {
        let all: String = events
            .iter()
            .map(|e| super::super::tests::event(e))
            .collect();
        super::super::tests::cal(&all)
    }

    fn prague() -> TimeZone {
        TimeZone::get("Europe/Prague").unwrap()
    }

    #[test]
    fn reads_attendees_and_starts_in_every_form() {
        let ics = cal(&[
            "UID:1\nDTSTART:20260921T223000Z\nORGANIZER:mailto:coach@coaching.example\n\
             ATTENDEE;CN=Coach:mailto:coach@coaching.example\nATTENDEE;CN=Jana:MAILTO:Jana.Novakova@Acme.example",
            "UID:2\nDTSTART;TZID=America/New_York:20260921T200000\nATTENDEE:mailto:tomas@acme.example",
            "UID:3\nDTSTART;VALUE=DATE:20261005\nATTENDEE:mailto:eva@acme.example",
            "UID:4\nDTSTART;TZID=W. Europe Standard Time:20261005T233000\nATTENDEE:mailto:eva@acme.example",
        ]);
        let b = parse_bookings(&ics).unwrap();
        assert_eq!(b.skipped, 0);
        let got: Vec<(Vec<String>, Date)> = b
            .bookings
            .iter()
            .map(|b| (b.attendees.clone(), b.start.date_in(&prague())))
            .collect();
        assert_eq!(
            got,
            vec![
                // 22:30 UTC is half past midnight the next day in Prague.
                (vec!["jana.novakova@acme.example".into()], date(2026, 9, 22)),
                // 20:00 in New York is 02:00 the next day in Prague.
                (vec!["tomas@acme.example".into()], date(2026, 9, 22)),
                (vec!["eva@acme.example".into()], date(2026, 10, 5)),
                // An unknown TZID: the time as written.
                (vec!["eva@acme.example".into()], date(2026, 10, 5)),
            ]
        );
        assert_eq!(
            b.bookings[0].organiser.as_deref(),
            Some("coach@coaching.example")
        );
        // A participant who booked (the organiser) is named too.
        let ics = cal(&[
            "UID:5\nDTSTART:20261005T080000Z\nORGANIZER:mailto:lucie@acme.example\nATTENDEE:mailto:coach@coaching.example",
        ]);
        let people: Vec<String> = parse_bookings(&ics).unwrap().bookings[0]
            .people()
            .cloned()
            .collect();
        assert_eq!(people, vec!["coach@coaching.example", "lucie@acme.example"]);
        // The same instant is still the 21st for someone in New York.
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(b.bookings[0].start.date_in(&ny), date(2026, 9, 21));
    }

    #[test]
    fn skips_and_counts_what_is_no_booking() {
        let ics = cal(&[
            "UID:1\nSTATUS:CANCELLED\nDTSTART:20260921T080000Z\nATTENDEE:mailto:jana@acme.example",
            "UID:2\nDTSTART:20260921T080000Z\nRRULE:FREQ=WEEKLY;COUNT=3\nATTENDEE:mailto:tomas@acme.example",
            "UID:3\nDTSTART:20260921T080000Z\nSUMMARY:No one",
            "UID:4\nDTSTART:20260921T080000Z\nATTENDEE;PARTSTAT=DECLINED:mailto:eva@acme.example",
            "UID:5\nATTENDEE:mailto:eva@acme.example",
            "UID:6\nDTSTART:20260921T080000Z\nATTENDEE:mailto:lucie@acme.example",
        ]);
        let b = parse_bookings(&ics).unwrap();
        assert_eq!(b.skipped, 5);
        assert_eq!(b.cancelled, vec!["jana@acme.example".to_string()]);
        assert_eq!(b.bookings.len(), 1);
        assert_eq!(b.bookings[0].attendees, vec!["lucie@acme.example"]);
    }

    #[test]
    fn refuses_what_is_not_icalendar_or_too_large() {
        let parse_bookings = |ics: &str| super::parse_bookings(ics).map_err(|e| with_causes(&e));
        let e = parse_bookings("name,email\nJana,jana@acme.example\n").unwrap_err();
        assert!(e.contains("not an iCalendar file"), "{e}");
        let e = parse_bookings(&cal(&[
            "UID:1\nDTSTART:2026-09-21\nATTENDEE:mailto:j@a.example",
        ]))
        .unwrap_err();
        assert!(e.starts_with("line 6: DTSTART"), "{e}");
        let big = cal(&[&format!(
            "UID:1\nDESCRIPTION:{}",
            "x".repeat(MAX_BOOKINGS_BYTES)
        )]);
        let e = parse_bookings(&big).unwrap_err();
        assert!(
            e.contains("more than the 2048 KiB a bookings calendar may hold"),
            "{e}"
        );
    }
}
