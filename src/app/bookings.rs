//! Participants' planned dates from the coaching platform's bookings: an
//! iCalendar file uploaded through the API, or the program's
//! `bookings_feed`, read again every hour. Bookings are matched to
//! participants by attendee email; the next booking after a participant's
//! last completed session is their next session (`domain::bookings`).
//!
//! A booking's date is the one it falls on in the participant's own zone
//! (the same zone their nudges use), so a call at 07:00 in Prague that the
//! platform writes as 05:00 UTC, or as the evening before in New York, is on
//! the participant's day.

use super::delivery::participant_calendar;
use super::*;
use crate::domain::bookings::{booked_sessions, FeedUrl};
use crate::domain::errors::with_causes;
use crate::domain::ics::bookings::{parse_bookings, Bookings};
use std::collections::BTreeSet;

/// How often a program's bookings feed is read.
pub const FEED_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// What reading a bookings calendar did.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct BookingsImport {
    /// Participants of the program the calendar names (as attendees).
    pub matched: usize,
    /// Attendees of bookings who are no participant of the program: counted,
    /// never listed, and nothing is done with them.
    pub unknown_attendees: usize,
    /// Session dates the calendar set.
    pub dates_set: u64,
    /// Events not read as bookings: cancelled, recurring, or without an
    /// attendee's email or a start.
    pub events_skipped: usize,
}

impl App {
    /// Reads an uploaded bookings calendar into program `key`'s
    /// participants' dates. A text that is not iCalendar changes nothing.
    pub async fn import_bookings(
        &self,
        org: OrgId,
        key: &str,
        text: &str,
    ) -> AppResult<BookingsImport> {
        let program = self.program_named(org, key).await?;
        let bookings = parse_bookings(text)
            .map_err(|e| AppError::Invalid(ConfigErrors::single("calendar", with_causes(&e))))?;
        self.apply_bookings(org, &program, &bookings).await
    }

    /// Reads every running program's bookings feed that was not read in the
    /// last [`FEED_EVERY`]; the claim is in the database, so one replica
    /// reads each feed. A feed that fails is logged (never its address) and
    /// tried again an hour later. Returns how many feeds were read.
    pub async fn refresh_booking_feeds(&self) -> AppResult<usize> {
        let mut read = 0;
        for org in self.store.orgs().await? {
            for program in self.store.programs(org.id).await? {
                let Some(feed) = program.spec.bookings_feed.as_ref() else {
                    continue;
                };
                let claim = format!("bookings:{}", program.id);
                if program.archived
                    || !self
                        .store
                        .claim_maintenance(&claim, self.clock.now(), FEED_EVERY)
                        .await?
                {
                    continue;
                }
                match self.read_feed(org.id, &program, feed).await {
                    Ok(done) => {
                        read += 1;
                        tracing::info!(
                            org = org.id.0,
                            program = program.id.0,
                            matched = done.matched,
                            unknown_attendees = done.unknown_attendees,
                            dates_set = done.dates_set,
                            "bookings feed read"
                        );
                    }
                    Err(e) => tracing::warn!(
                        org = org.id.0,
                        program = program.id.0,
                        error = %e,
                        "bookings feed not read"
                    ),
                }
            }
        }
        Ok(read)
    }

    async fn read_feed(
        &self,
        org: OrgId,
        program: &ProgramRow,
        feed: &FeedUrl,
    ) -> AppResult<BookingsImport> {
        let invalid =
            |e: String| AppError::Invalid(ConfigErrors::single("program.bookings_feed", e));
        let text = self
            .feeds
            .fetch(feed)
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let bookings = parse_bookings(&text).map_err(|e| invalid(with_causes(&e)))?;
        self.apply_bookings(org, program, &bookings).await
    }

    /// Sets the dates `bookings` give the program's participants, in one
    /// transaction. Only participants the calendar names are touched (a
    /// participant whose every booking was cancelled is named, and loses
    /// the calendar's dates): a calendar that covers some coaches' bookings
    /// leaves the others' participants as they are.
    async fn apply_bookings(
        &self,
        org: OrgId,
        program: &ProgramRow,
        bookings: &Bookings,
    ) -> AppResult<BookingsImport> {
        let org_row = self.store.org(org).await?;
        let participants = self.store.program_participants(org, program.id).await?;
        let by_email: HashMap<String, (ParticipantId, jiff::tz::TimeZone)> = participants
            .iter()
            .filter_map(|p| {
                let email = p.person.email.as_deref()?.trim().to_lowercase();
                let zone = participant_calendar(&org_row, program, p).zone;
                Some((email, (p.id, zone.tz().clone())))
            })
            .collect();
        let mut booked: HashMap<ParticipantId, Vec<Date>> = HashMap::new();
        let mut unknown: BTreeSet<&str> = BTreeSet::new();
        for b in &bookings.bookings {
            for who in b.people() {
                match by_email.get(who) {
                    Some((id, tz)) => booked.entry(*id).or_default().push(b.start.date_in(tz)),
                    // The organiser is usually the coach: not an attendee to count.
                    None if b.organiser.as_ref() != Some(who) => {
                        unknown.insert(who);
                    }
                    None => {}
                }
            }
        }
        for (id, _) in bookings.cancelled.iter().filter_map(|a| by_email.get(a)) {
            booked.entry(*id).or_default();
        }
        let completed = self
            .store
            .program_completed_sessions(org, program.id)
            .await?;
        let count = program.spec.session_count();
        let mut dates: Vec<(ParticipantId, Vec<(u32, Date)>)> = booked
            .iter()
            .map(|(id, days)| {
                let done = completed.get(id).map_or(&[][..], Vec::as_slice);
                (*id, booked_sessions(days, done, count))
            })
            .collect();
        // The same order in every replica's transaction.
        dates.sort_by_key(|(id, _)| *id);
        let dates_set = self.store.set_calendar_dates(org, &dates).await?;
        let ids: Vec<ParticipantId> = dates.iter().map(|(id, _)| *id).collect();
        self.after_dates_changed(org, program, &ids).await?;
        Ok(BookingsImport {
            matched: dates.len(),
            unknown_attendees: unknown.len(),
            dates_set,
            events_skipped: bookings.skipped,
        })
    }
}
