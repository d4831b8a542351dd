//! Participants' planned dates from the coaching platform's bookings: which
//! session a booking is (the next one not yet completed), and where a
//! program's bookings feed may be fetched from.

use super::dates::plan_date;
use jiff::civil::Date;

/// A program's bookings feed (`program.bookings_feed`): an https address.
/// Plain http is refused: the feed names participants and when they meet.
/// The address often carries the platform's secret token, so it is never
/// written to logs or echoed whole in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedUrl(url::Url);

/// The longest feed address accepted.
const MAX_FEED_URL: usize = 2000;

/// Why a bookings feed's address is refused. It never holds the address
/// itself, which may carry a secret token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedUrlError {
    #[error("an address of at most {MAX_FEED_URL} characters")]
    TooLong,
    #[error("not an address")]
    NotAnAddress(#[source] url::ParseError),
    #[error("a bookings feed is fetched over https only, not {0}")]
    NotHttps(String),
    #[error("the address names no host")]
    NoHost,
}

impl FeedUrl {
    pub fn parse(s: &str) -> Result<Self, FeedUrlError> {
        let s = s.trim();
        if s.len() > MAX_FEED_URL {
            return Err(FeedUrlError::TooLong);
        }
        let url = url::Url::parse(s).map_err(FeedUrlError::NotAnAddress)?;
        if url.scheme() != "https" {
            return Err(FeedUrlError::NotHttps(url.scheme().to_string()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(FeedUrlError::NoHost);
        }
        Ok(Self(url))
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host alone, for messages (the path may hold a secret token).
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }
}

/// The sessions a participant's bookings plan, as (number, date): the
/// bookings after the day of their last completed session, earliest first
/// (one per day), are their sessions not yet completed, in number order —
/// the first such booking is their next session. A booking moved in the
/// calendar moves the date; one cancelled gives the next its place. Bookings
/// beyond the program's `count` sessions, or outside the dates a program can
/// plan for, plan nothing.
pub fn booked_sessions(
    bookings: &[Date],
    completed: &[(u32, Date)],
    count: u32,
) -> Vec<(u32, Date)> {
    let last_completed = completed.iter().map(|(_, d)| *d).max();
    let mut upcoming: Vec<Date> = bookings
        .iter()
        .copied()
        .filter(|d| last_completed.is_none_or(|last| *d > last))
        .filter(|d| plan_date(&d.to_string()).is_ok())
        .collect();
    upcoming.sort();
    upcoming.dedup();
    let open = (1..=count).filter(|n| !completed.iter().any(|(c, _)| c == n));
    open.zip(upcoming).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_next_booking_after_the_last_completed_session_is_the_next_session() {
        let completed = [(1, date(2026, 9, 7))];
        let bookings = [
            date(2026, 10, 5),
            // The session already completed, still in the calendar.
            date(2026, 9, 7),
            date(2026, 9, 23),
            date(2026, 9, 23),
            date(2026, 10, 19),
        ];
        assert_eq!(
            booked_sessions(&bookings, &completed, 3),
            vec![(2, date(2026, 9, 23)), (3, date(2026, 10, 5))]
        );
        // Nothing completed: the first booking is session 1.
        assert_eq!(
            booked_sessions(&bookings[..1], &[], 5),
            vec![(1, date(2026, 10, 5))]
        );
        // All completed: nothing left to plan.
        let all: Vec<(u32, Date)> = (1..=3).map(|n| (n, date(2026, 9, 7))).collect();
        assert!(booked_sessions(&bookings, &all, 3).is_empty());
    }

    #[test]
    fn a_session_completed_out_of_order_is_not_planned_again() {
        let completed = [(1, date(2026, 9, 7)), (3, date(2026, 9, 14))];
        assert_eq!(
            booked_sessions(&[date(2026, 9, 28), date(2026, 10, 12)], &completed, 5),
            vec![(2, date(2026, 9, 28)), (4, date(2026, 10, 12))]
        );
    }

    #[test]
    fn a_moved_booking_moves_the_date() {
        let before = booked_sessions(&[date(2026, 9, 21), date(2026, 10, 5)], &[], 5);
        let after = booked_sessions(&[date(2026, 9, 24), date(2026, 10, 5)], &[], 5);
        assert_eq!(before[0], (1, date(2026, 9, 21)));
        assert_eq!(after[0], (1, date(2026, 9, 24)));
        // Moved past the next one, it swaps places with it.
        let swapped = booked_sessions(&[date(2026, 10, 8), date(2026, 10, 5)], &[], 5);
        assert_eq!(
            swapped,
            vec![(1, date(2026, 10, 5)), (2, date(2026, 10, 8))]
        );
    }

    #[test]
    fn a_feed_is_https() {
        assert!(FeedUrl::parse("https://coaching.example/feed/abc.ics").is_ok());
        for (bad, why) in [
            ("http://coaching.example/feed.ics", "https only"),
            ("ftp://coaching.example/feed.ics", "https only"),
            ("coaching.example/feed.ics", "not an address"),
            ("https://", "not an address"),
        ] {
            let e = crate::domain::errors::with_causes(&FeedUrl::parse(bad).unwrap_err());
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("https://coaching.example/{}", "a".repeat(MAX_FEED_URL));
        assert!(FeedUrl::parse(&long).is_err());
    }
}
