//! Property-based fuzzing on stable Rust (proptest): the program file
//! parser and the Slack inbound routes take arbitrary input without a
//! panic or a 5xx; what they refuse, they refuse by name.

use crate::helpers::*;
use momentum::domain::ProgramFile;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Arbitrary JSON, a few levels deep.
/// Cases per property: brief in CI; `MOMENTUM_FUZZ_CASES=5000` runs longer by hand.
fn cases(ci: u32) -> u32 {
    std::env::var("MOMENTUM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z0-9:_ .@/-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("key".to_string()),
                    Just("name".to_string()),
                    Just("sessions".to_string()),
                    Just("nudges".to_string()),
                    Just("at".to_string()),
                    Just("kind".to_string()),
                    Just("quiet_hours".to_string()),
                    Just("admins".to_string()),
                    Just("participants".to_string()),
                    Just("email".to_string()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), .. ProptestConfig::default() })]

    #[test]
    fn program_files_never_panic_and_refusals_name_a_field(program in any_json(), participants in any_json()) {
        let doc = json!({"version": 1, "program": program, "participants": participants});
        if let Err(errs) = ProgramFile::from_value(&doc) {
            prop_assert!(!errs.0.is_empty());
            for e in &errs.0 {
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn program_file_text_never_panics(text in "\\PC{0,300}") {
        let _ = ProgramFile::parse_yaml(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), .. ProptestConfig::default() })]

    #[test]
    fn signed_slack_payloads_of_any_shape_get_an_answer_below_500(
        payload in any_json(),
        text in "\\PC{0,200}",
        route in 0usize..3,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let t = spawn_app().await;
            let (path, body) = match route {
                0 => ("/slack/events", payload.to_string()),
                1 => ("/slack/interactions", url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("payload", &payload.to_string()).finish()),
                _ => ("/slack/commands", url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("team_id", "T0SIMTEAM1").append_pair("user_id", "U00000001")
                        .append_pair("text", &text).finish()),
            };
            let reply = t.sim.deliver(path, body).await.unwrap();
            prop_assert!(reply.status < 500, "{path}: {} {}", reply.status, reply.body);
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), .. ProptestConfig::default() })]

    #[test]
    fn signed_teams_activities_of_any_shape_get_an_answer_below_500(
        value in any_json(),
        channel_data in any_json(),
        text in "\\PC{0,200}",
        kind in 0usize..5,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let t = spawn_app().await;
            let jana = t.sim.teams_add_user("Jana", "jana@acme.example", "UTC", "en-US");
            let kinds = ["message", "invoke", "installationUpdate", "conversationUpdate", "typing"];
            let mut a = t.sim.teams_activity(&jana, kinds[kind]).unwrap();
            a["name"] = serde_json::json!("adaptiveCard/action");
            a["text"] = serde_json::json!(text);
            a["value"] = value.clone();
            // Wrong shapes for typed fields are refused at parsing (400);
            // only some cases try them, so that most reach the handlers.
            if value.is_string() {
                a["action"] = value.clone();
            }
            if kind == 3 && value.is_array() {
                a["membersAdded"] = value.clone();
            }
            // Half the cases keep a tenant the service knows, so parsing goes deep.
            if channel_data.is_object() {
                a["channelData"] = channel_data.clone();
            }
            let reply = t.sim.teams_deliver(&a).await.unwrap();
            prop_assert!(reply.status < 500, "{}: {} {}", kinds[kind], reply.status, reply.body);
            Ok(())
        })?;
    }
}
