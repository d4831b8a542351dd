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
