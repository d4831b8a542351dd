//! Program files: every mistake named with its path, and no input — however
//! hostile — makes the parser panic or return a half-valid program.

use momentum::domain::program::ProgramFile;
use proptest::prelude::*;
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("../examples/program.yaml");

fn errors_of(yaml: &str) -> Vec<String> {
    match ProgramFile::parse_yaml(yaml) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

fn with(program_extra: &str, participants: &str) -> String {
    format!(
        "version: 1\nprogram:\n  key: p\n  name: P\n  themes: [feedback, delegation]\n  sessions:\n    - {{number: 1, planned: 2026-09-07}}\n{program_extra}\ncohorts:\n  - {{key: a}}\nparticipants:\n{participants}"
    )
}

#[test]
fn the_example_is_valid() {
    let f = ProgramFile::parse_yaml(EXAMPLE).unwrap();
    assert_eq!(f.participants.len(), 18);
    assert_eq!(f.program.session_count(), 5);
    assert_eq!(f.program.nudges.len(), 3);
    assert_eq!(f.program.recurring[0].cron.source(), "30 9 * * 1");
}

#[test]
fn each_kind_of_mistake_is_named() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "  quiet_hours: {from: \"20:00\", to: \"20:00\"}",
            "  - {email: a@x.example}",
            "program.quiet_hours: quiet hours start and end at the same time",
        ),
        (
            "  quiet_hours: {from: \"8pm\", to: \"08:00\"}",
            "  - {email: a@x.example}",
            "program.quiet_hours.from: \"8pm\" is not a time of day",
        ),
        (
            "  working_days: [mon, funday]",
            "  - {email: a@x.example}",
            "program.working_days[1]: \"funday\" is not a day",
        ),
        (
            "  recurring: [{purpose: digest, cron: \"30 9 * *\"}]",
            "  - {email: a@x.example}",
            "program.recurring[0].cron: \"30 9 * *\" is not a 5-field cron expression",
        ),
        (
            "  recurring: [{purpose: party, cron: \"30 9 * * 1\"}]",
            "  - {email: a@x.example}",
            "program.recurring[0].purpose: \"party\" is not a recurring purpose",
        ),
        (
            "  holidays: [0001-01-01]",
            "  - {email: a@x.example}",
            "program.holidays[0]: \"0001-01-01\" is outside the dates a program can plan for (2000 to 2100)",
        ),
        (
            "  anonymity_threshold: 2",
            "  - {email: a@x.example}",
            "program.anonymity_threshold: 2 is out of range: the anonymity threshold must be between 3 and 1000",
        ),
        (
            "  metrics: {alpha: 0}",
            "  - {email: a@x.example}",
            "program.metrics.alpha: 0 is out of range",
        ),
        (
            "  metrics: {dropping_weeks: 13}",
            "  - {email: a@x.example}",
            "program.metrics.dropping_weeks: 13 is out of range",
        ),
        (
            "  recurring: [{purpose: pulse, cron: \"0 10 1 * *\", question: Q, scale: {min: 5, max: 1}}]",
            "  - {email: a@x.example}",
            "program.recurring[0].scale: the scale 5..1 must go up",
        ),
        (
            "  locale: de",
            "  - {email: a@x.example}",
            "program.locale: \"de\" is not a supported language",
        ),
        (
            "  sponsor_channel: general",
            "  - {email: a@x.example}",
            "program.sponsor_channel: \"general\" is not a channel",
        ),
        (
            "",
            "  - {email: not-an-email}",
            "participants[0].email: \"not-an-email\" is not an email address",
        ),
        (
            "",
            "  - {name: Nobody}",
            "participants[0]: needs an email or a chat identity",
        ),
        (
            "",
            "  - {email: a@x.example, focus: juggling}",
            "participants[0].focus: \"juggling\" is not one of the program's themes",
        ),
        (
            "",
            "  - {email: a@x.example, cohort: b}",
            "participants[0].cohort: cohort \"b\" is not listed under cohorts",
        ),
        (
            "",
            "  - {email: a@x.example, manager: a@x.example}",
            "participants[0].manager: a participant cannot be their own manager",
        ),
        (
            "",
            "  - {email: a@x.example, chat: \"slack:U1\"}",
            "participants[0].chat: \"slack:U1\" is not a chat identity",
        ),
        (
            "",
            "  - {email: a@x.example, share_focus_with_manager: yes please}",
            "participants[0].share_focus_with_manager: expected true or false",
        ),
        (
            "",
            "  - {email: a@x.example, time_zone: CEST}",
            "participants[0].time_zone: \"CEST\" is not a known time zone",
        ),
        (
            "",
            "  - {chat: \"slack:T1/U1\"}\n  - {chat: \"slack:T1/U1\"}",
            "participants[1]: duplicate participant",
        ),
    ];
    for (program, participants, expected) in cases {
        let errs = errors_of(&with(program, participants));
        assert!(
            errs.iter().any(|e| e.starts_with(expected)),
            "expected {expected:?}, got {errs:#?}"
        );
        assert_eq!(
            errs.len(),
            1,
            "only one mistake in {program:?} {participants:?}: {errs:#?}"
        );
    }
}

#[test]
fn structural_mistakes_are_named_too() {
    assert_eq!(
        errors_of(
            "version: 2\nprogram: {key: p, name: P, sessions: [{number: 1, planned: 2026-09-07}]}"
        ),
        vec!["version: version 2 is not supported (this build reads version 1)"]
    );
    assert!(errors_of("- a list\n- not a program")[0].starts_with("expected a mapping"));
    assert!(errors_of("program: [")[0].starts_with("not a readable YAML or JSON document"));
    let errs = errors_of("version: 1\nprogram: {key: P!, sessions: []}");
    assert!(
        errs.iter()
            .any(|e| e.starts_with("program.key: \"P!\" is not a key")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("program.name: is required")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("program.sessions: a program plans at least one session")),
        "{errs:?}"
    );
    let errs = errors_of("version: 1\nprogram: {key: p, name: P, sessions: [{number: 2, planned: 2026-09-07}, {number: 2, planned: 2026-09-01}]}");
    assert!(
        errs.iter().any(|e| e.starts_with(
            "program.sessions[0].number: sessions are numbered 1..N in order: expected 1, found 2"
        )),
        "{errs:?}"
    );
}

/// A program file whose `program.holiday_calendars` is `calendars` (JSON),
/// with sessions on 7 September 2026 and 1 March 2027.
fn with_calendars(calendars: Value) -> Value {
    json!({
        "version": 1,
        "program": {
            "key": "p", "name": "P",
            "sessions": [{"number": 1, "planned": "2026-09-07"}, {"number": 2, "planned": "2027-03-01"}],
            "holiday_calendars": calendars,
        },
        "participants": [{"email": "a@x.example", "holidays": "us"}],
    })
}

const US: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nUID:thanksgiving\r\nDTSTART;VALUE=DATE:20201126\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\r\nSUMMARY:Thanksgiving\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:july4\r\nDTSTART;VALUE=DATE:20200704\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Independence Day\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

#[test]
fn an_icalendar_is_read_once_at_apply_and_kept_as_dates() {
    let doc = with_calendars(json!([{"key": "us", "dates": ["2026-12-24"], "ics": US}]));
    let today = jiff::civil::date(2026, 6, 1);
    let file = ProgramFile::applied_on(&doc, today).unwrap();
    let dates: Vec<String> = file.program.holiday_calendars[0]
        .dates
        .iter()
        .map(|d| d.to_string())
        .collect();
    // From the day before it is applied to the last session plus two years.
    assert_eq!(
        dates,
        [
            "2026-07-04",
            "2026-11-26",
            "2026-12-24",
            "2027-07-04",
            "2027-11-25",
            "2028-07-04",
            "2028-11-23"
        ]
    );
    // What is stored (and downloaded) holds those dates, not the iCalendar text.
    let stored = &file.program.source;
    assert_eq!(
        stored["program"]["holiday_calendars"],
        json!([{"key": "us", "dates": dates}])
    );
    assert!(!stored.to_string().contains("VCALENDAR"));
    // Loading it again, or applying the downloaded file later, gives the same.
    let loaded = momentum::domain::program::ProgramSpec::from_stored(stored).unwrap();
    assert_eq!(loaded.holiday_calendars, file.program.holiday_calendars);
    assert!(loaded.notices.is_empty());
    let again = ProgramFile::applied_on(
        &loaded.file_with(stored["program"].clone()),
        jiff::civil::date(2030, 1, 1),
    )
    .unwrap();
    assert_eq!(
        again.program.holiday_calendars,
        file.program.holiday_calendars
    );
    assert_eq!(again.program.source, file.program.source);
    // Applied long before the first session, the calendar starts then.
    let early = ProgramFile::applied_on(&doc, jiff::civil::date(2025, 11, 28)).unwrap();
    assert_eq!(
        early.program.holiday_calendars[0].dates[0].to_string(),
        "2025-11-27"
    );
}

#[test]
fn the_holiday_span_is_the_programs_and_two_years_within_the_planning_range() {
    use jiff::civil::date;
    use momentum::domain::program::holiday_span;
    let planned = [date(2026, 9, 7), date(2027, 3, 1)];
    assert_eq!(
        holiday_span(&planned, None),
        Some((date(2026, 9, 7), date(2029, 3, 1)))
    );
    assert_eq!(
        holiday_span(&planned, Some(date(2026, 6, 1))),
        Some((date(2026, 5, 31), date(2029, 3, 1)))
    );
    // Applied after the first session: from the first session.
    assert_eq!(
        holiday_span(&planned, Some(date(2027, 1, 1))),
        Some((date(2026, 9, 7), date(2029, 3, 1)))
    );
    assert_eq!(
        holiday_span(
            &[date(2000, 1, 1), date(2100, 6, 1)],
            Some(date(2000, 1, 1))
        ),
        Some((date(2000, 1, 1), date(2100, 12, 31)))
    );
    assert_eq!(holiday_span(&[], Some(date(2026, 1, 1))), None);
}

#[test]
fn a_calendar_it_cannot_read_is_refused_with_its_field() {
    let cases = [
        (
            US.replace("RRULE:FREQ=YEARLY\r\n", "RRULE:FREQ=YEARLY;BYEASTER=0\r\n"),
            "program.holiday_calendars[0].ics: line 12: RRULE \"FREQ=YEARLY;BYEASTER=0\" is not read",
        ),
        (
            US.replace("DTSTART;VALUE=DATE:20200704", "DTSTART:20200704T090000Z"),
            "program.holiday_calendars[0].ics: line 11: \"Independence Day\" is a timed event",
        ),
        (
            "hello".to_string(),
            "program.holiday_calendars[0].ics: not an iCalendar file",
        ),
        (
            format!("{US}{}", " ".repeat(600 * 1024)),
            "program.holiday_calendars[0].ics: the iCalendar text is 601 KiB, more than the 512 KiB",
        ),
        (
            US.replace("RRULE:FREQ=YEARLY\r\n", "RRULE:FREQ=DAILY\r\n")
                .replace("20200704", "16010704"),
            "program.holiday_calendars[0].ics: its events repeat too often to read",
        ),
    ];
    for (ics, says) in cases {
        let errs =
            match ProgramFile::from_value(&with_calendars(json!([{"key": "us", "ics": ics}]))) {
                Ok(_) => vec![],
                Err(e) => e.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            };
        assert!(
            errs.len() == 1 && errs[0].starts_with(says),
            "{says}: {errs:#?}"
        );
    }
    let many: Vec<String> = (0..5001)
        .map(|i| (jiff::civil::date(2026, 1, 1) + jiff::Span::new().days(i)).to_string())
        .collect();
    let errs = ProgramFile::from_value(&with_calendars(json!([{"key": "us", "dates": many}])))
        .unwrap_err()
        .to_string();
    assert!(
        errs.contains(
            "program.holiday_calendars[0]: 5001 dates: a holiday calendar has at most 5000"
        ),
        "{errs}"
    );
}

#[test]
fn a_program_stored_with_icalendar_text_still_loads_and_says_so() {
    use momentum::domain::program::ProgramSpec;
    // As stored before calendars were kept as dates.
    let readable = json!({"program": with_calendars(json!([{"key": "us", "ics": US}]))["program"]});
    let spec = ProgramSpec::from_stored(&readable).unwrap();
    assert_eq!(spec.holiday_calendars[0].dates[0].to_string(), "2026-11-26");
    assert!(spec.notices[0].contains("program.holiday_calendars[0] is stored as iCalendar text"));
    assert!(
        !spec.source.to_string().contains("VCALENDAR"),
        "saving it stores the dates"
    );
    // One this version refuses loads without its dates, and says why.
    let timed = US.replace("DTSTART;VALUE=DATE:20200704", "DTSTART:20200704T090000Z");
    let refused = json!({"program": with_calendars(json!([{"key": "us", "dates": ["2026-12-24"], "ics": timed}]))["program"]});
    let spec = ProgramSpec::from_stored(&refused).unwrap();
    assert_eq!(spec.holiday_calendars[0].dates.len(), 1);
    assert!(
        spec.notices[0].starts_with(
            "program.holiday_calendars[0].ics: line 11: \"Independence Day\" is a timed event"
        ),
        "{:?}",
        spec.notices
    );
}

/// Arbitrary JSON-like documents, biased towards the shape of a program file.
fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("09:30"),
            Just("25:00"),
            Just("Europe/Prague"),
            Just("2026-09-07"),
            Just("slack:T1/U1"),
            Just("a@b.example")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("version"),
            Just("program"),
            Just("participants"),
            Just("cohorts"),
            Just("key"),
            Just("name"),
            Just("sessions"),
            Just("nudges"),
            Just("at"),
            Just("kind"),
            Just("number"),
            Just("planned"),
            Just("email"),
            Just("manager"),
            Just("time_zone"),
            Just("working_days"),
            Just("junk"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.prop_map(String::from), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn no_document_panics_and_every_error_has_a_reason(doc in arb_value()) {
        if let Err(errs) = ProgramFile::from_value(&doc) {
            prop_assert!(!errs.is_empty());
            for e in errs.iter() {
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn mutating_the_example_never_panics(path_pick in 0usize..200, replacement in arb_value()) {
        let mut doc: Value = serde_norway::from_str(EXAMPLE).unwrap();
        // Replace one value somewhere in the example with something arbitrary.
        let mut seen = 0usize;
        fn walk(v: &mut Value, pick: usize, seen: &mut usize, with: &Value) -> bool {
            if *seen == pick { *v = with.clone(); return true; }
            *seen += 1;
            match v {
                Value::Object(m) => m.values_mut().any(|c| walk(c, pick, seen, with)),
                Value::Array(a) => a.iter_mut().any(|c| walk(c, pick, seen, with)),
                _ => false,
            }
        }
        walk(&mut doc, path_pick, &mut seen, &replacement);
        let _ = ProgramFile::from_value(&doc);
    }
}
