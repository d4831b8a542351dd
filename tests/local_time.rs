//! Local time, pinned: "N days after" is calendar days in the recipient's
//! zone; a time skipped by DST moves forward by the gap; an ambiguous time is
//! its first occurrence; quiet hours, non-working days and holidays are never
//! used — for random rules and zones too.

use jiff::civil::{date, Date, Weekday};
use jiff::Timestamp;
use momentum::domain::time::{DeliveryCalendar, QuietHours, Snooze, TimeOfDay, WorkingDays, Zone};
use proptest::prelude::*;

fn every_day(zone: &str) -> DeliveryCalendar {
    DeliveryCalendar {
        zone: Zone::parse(zone).unwrap(),
        working_days: WorkingDays::from_days(&[
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ]),
        quiet_hours: None,
        holidays: vec![],
    }
}

fn due(c: &DeliveryCalendar, on: Date, days: i64, at: &str) -> String {
    c.due(on, days, TimeOfDay::parse(at).unwrap())
        .unwrap()
        .to_string()
}

#[test]
fn europe_prague() {
    let c = every_day("Europe/Prague");
    // Spring forward 2026-03-29: 02:00 → 03:00. 02:30 does not exist: 03:30 CEST.
    assert_eq!(
        due(&c, date(2026, 3, 28), 1, "02:30"),
        "2026-03-29T01:30:00Z"
    );
    // "1 day after" is the next calendar day at 09:30, not 24 hours later.
    assert_eq!(
        due(&c, date(2026, 3, 28), 1, "09:30"),
        "2026-03-29T07:30:00Z"
    );
    assert_eq!(
        due(&c, date(2026, 3, 27), 1, "09:30"),
        "2026-03-28T08:30:00Z"
    );
    // Fall back 2026-10-25: 03:00 → 02:00. 02:30 happens twice: the first (CEST).
    assert_eq!(
        due(&c, date(2026, 10, 24), 1, "02:30"),
        "2026-10-25T00:30:00Z"
    );
}

#[test]
fn america_new_york() {
    let c = every_day("America/New_York");
    // Spring forward 2026-03-08 at 02:00.
    assert_eq!(
        due(&c, date(2026, 3, 7), 1, "02:30"),
        "2026-03-08T07:30:00Z"
    );
    assert_eq!(
        due(&c, date(2026, 3, 7), 1, "09:30"),
        "2026-03-08T13:30:00Z"
    );
    // Fall back 2026-11-01 at 02:00: 01:30 twice, the first is EDT.
    assert_eq!(
        due(&c, date(2026, 10, 31), 1, "01:30"),
        "2026-11-01T05:30:00Z"
    );
}

#[test]
fn australia_lord_howe_half_hour_dst() {
    let c = every_day("Australia/Lord_Howe");
    // 2026-10-04 02:00 → 02:30 (+10:30 → +11:00): 02:15 moves forward by the 30-minute gap.
    assert_eq!(
        due(&c, date(2026, 10, 3), 1, "02:15"),
        "2026-10-03T15:45:00Z"
    );
    // 2026-04-05 02:00 → 01:30: 01:45 happens twice; the first is +11:00.
    assert_eq!(
        due(&c, date(2026, 4, 4), 1, "01:45"),
        "2026-04-04T14:45:00Z"
    );
}

#[test]
fn asia_kolkata_has_no_dst() {
    let c = every_day("Asia/Kolkata");
    for (on, expected) in [
        (date(2026, 3, 28), "2026-03-29T04:00:00Z"),
        (date(2026, 10, 24), "2026-10-25T04:00:00Z"),
    ] {
        assert_eq!(due(&c, on, 1, "09:30"), expected);
    }
}

fn office(zone: &str) -> DeliveryCalendar {
    DeliveryCalendar {
        zone: Zone::parse(zone).unwrap(),
        working_days: WorkingDays::monday_to_friday(),
        quiet_hours: Some(QuietHours {
            from: TimeOfDay::parse("20:00").unwrap(),
            to: TimeOfDay::parse("08:00").unwrap(),
        }),
        holidays: vec![date(2026, 12, 24), date(2026, 12, 25)],
    }
}

#[test]
fn quiet_hours_weekends_and_holidays_move_the_nudge() {
    let c = office("Europe/Prague");
    // A rule at 22:00 is in quiet hours: the end of quiet hours, next morning.
    assert_eq!(
        due(&c, date(2026, 9, 8), 0, "22:00"),
        "2026-09-09T06:00:00Z"
    );
    // Before the end of quiet hours: the same morning.
    assert_eq!(
        due(&c, date(2026, 9, 8), 0, "06:00"),
        "2026-09-08T06:00:00Z"
    );
    // Wednesday 23 Dec + 1 day = Christmas Eve (holiday), Christmas, weekend → Monday 28th at 09:30.
    assert_eq!(
        due(&c, date(2026, 12, 23), 1, "09:30"),
        "2026-12-28T08:30:00Z"
    );
}

#[test]
fn the_send_window_ends_with_the_working_day() {
    let c = office("Europe/Prague");
    let due_at: Timestamp = "2026-09-08T07:30:00Z".parse().unwrap(); // 09:30 local
                                                                     // Quiet hours start at 20:00 local = 18:00Z.
    assert_eq!(
        c.send_window_end(due_at).to_string(),
        "2026-09-08T18:00:00Z"
    );
    let mut no_quiet = c.clone();
    no_quiet.quiet_hours = None;
    assert_eq!(
        no_quiet.send_window_end(due_at).to_string(),
        "2026-09-08T22:00:00Z"
    );
}

#[test]
fn snoozes_land_in_allowed_time() {
    let c = office("Europe/Prague");
    let morning = TimeOfDay::parse("09:00").unwrap();
    // Friday 19:30 local + 1 hour = 20:30, quiet → Monday 08:00.
    let fri_evening: Timestamp = "2026-09-11T17:30:00Z".parse().unwrap();
    assert_eq!(
        c.snoozed_until(fri_evening, Snooze::OneHour, morning)
            .unwrap()
            .to_string(),
        "2026-09-14T06:00:00Z"
    );
    assert_eq!(
        c.snoozed_until(fri_evening, Snooze::TomorrowMorning, morning)
            .unwrap()
            .to_string(),
        "2026-09-14T07:00:00Z"
    );
    let tuesday: Timestamp = "2026-09-08T10:00:00Z".parse().unwrap();
    assert_eq!(
        c.snoozed_until(tuesday, Snooze::OneHour, morning)
            .unwrap()
            .to_string(),
        "2026-09-08T11:00:00Z"
    );
    assert_eq!(
        c.snoozed_until(tuesday, Snooze::NextMonday, morning)
            .unwrap()
            .to_string(),
        "2026-09-14T07:00:00Z"
    );
}

const ZONES: &[&str] = &[
    "Europe/Prague",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/London",
    "UTC",
];

fn arb_calendar() -> impl Strategy<Value = DeliveryCalendar> {
    (
        prop::sample::select(ZONES),
        1u8..128,
        prop::option::of((0i8..24, 0i8..60, 0i8..24, 0i8..60)),
        prop::collection::vec((2026i16..2028, 1i8..13, 1i8..29), 0..30),
    )
        .prop_filter_map(
            "quiet hours need two different times",
            |(zone, days, quiet, holidays)| {
                let working: Vec<Weekday> = (0..7)
                    .filter(|i| days & (1 << i) != 0)
                    .map(|i| Weekday::Monday.wrapping_add(i))
                    .collect();
                let quiet_hours = match quiet {
                    Some((fh, fm, th, tm)) if (fh, fm) == (th, tm) => return None,
                    Some((fh, fm, th, tm)) => Some(QuietHours {
                        from: TimeOfDay::parse(&format!("{fh:02}:{fm:02}")).ok()?,
                        to: TimeOfDay::parse(&format!("{th:02}:{tm:02}")).ok()?,
                    }),
                    None => None,
                };
                Some(DeliveryCalendar {
                    zone: Zone::parse(zone).ok()?,
                    working_days: WorkingDays::from_days(&working),
                    quiet_hours,
                    holidays: holidays
                        .into_iter()
                        .map(|(y, m, d)| date(y, m, d))
                        .collect(),
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_nudge_is_ever_due_in_quiet_hours_on_a_day_off_or_a_holiday(
        c in arb_calendar(),
        start in (2026i16..2028, 1i8..13, 1i8..29),
        days in 0i64..60,
        at in (0i8..24, 0i8..60),
    ) {
        let at = TimeOfDay::parse(&format!("{:02}:{:02}", at.0, at.1)).unwrap();
        let on = date(start.0, start.1, start.2);
        let Some(due) = c.due(on, days, at) else { return Ok(()) };
        let local = due.to_zoned(c.zone.tz().clone());
        prop_assert!(c.working_days.contains(local.date().weekday()), "{local} is not a working day");
        prop_assert!(!c.holidays.contains(&local.date()), "{local} is a holiday");
        if let Some(q) = c.quiet_hours {
            prop_assert!(!q.contains(local.time()), "{local} is in quiet hours {q:?}");
        }
        prop_assert!(local.date() >= on.checked_add(jiff::ToSpan::days(days)).unwrap(), "{local} is earlier than asked");
    }
}
