//! Self-assessment and manager observation pulses (Kirkpatrick level 3):
//! baseline and follow-ups counted from the first completed session, one tap
//! on the program's scale, and the digest's shift with n — against a
//! comparison cohort when the program names one.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use serde_json::Value;

const PROGRAM_HANDS: [&str; 5] = [
    "jana.novakova",
    "tomas.dvorak",
    "eva.cerna",
    "martin.prochazka",
    "lucie.kucerova",
];
const WAITLIST: [&str; 5] = [
    "petr.vesely",
    "katerina.horakova",
    "david.nemec",
    "alena.markova",
    "jakub.pokorny",
];

/// The sample program, with the second five in a waitlist cohort that the
/// digest compares against.
fn with_waitlist() -> String {
    let mut file = PROGRAM_WITH_PULSES
        .clone()
        .replace(
            "    days: [0, 30, 60, 90]                       # baseline, then +30, +60, +90 days",
            "    days: [0, 30, 60, 90]\n    comparison_cohort: waitlist",
        )
        .replace(
            "  - { key: autumn-2026, name: Autumn 2026 }",
            "  - { key: autumn-2026, name: Autumn 2026 }\n  - { key: waitlist, name: Waitlist }",
        );
    for p in WAITLIST {
        let line = file
            .lines()
            .find(|l| l.contains(&format!("email: {p}@")))
            .unwrap()
            .to_string();
        file = file.replace(
            &line,
            &line.replace("cohort: autumn-2026", "cohort: waitlist"),
        );
    }
    file
}

/// Taps `value` on the latest pulse in `handle`'s DM.
async fn answer(t: &TestApp, handle: &str, value: i64) -> u16 {
    let user = t.user_id(handle);
    let channel = SimWorkspace::dm_channel(&user);
    let pulse = t
        .sim
        .messages_in(&channel)
        .into_iter()
        .rfind(|m| m.buttons().iter().any(|b| b.0.starts_with("pulse:")))
        .unwrap_or_else(|| panic!("no pulse for {handle}"));
    t.sim
        .tap(&user, &channel, &pulse.ts, &format!("pulse:{value}"))
        .await
        .unwrap()
        .status
}

async fn pulses(t: &TestApp) -> Vec<(String, i64, i64)> {
    sqlx::query_as("SELECT kind, day, value FROM pulses WHERE org_id = $1 ORDER BY id")
        .bind(t.org.id.0)
        .fetch_all(t.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn pulses_follow_the_first_session_and_the_digest_shows_the_shift_against_the_waitlist() {
    let t = spawn_app().await;
    let resp = t.apply_yaml(&t.admin_token, &with_waitlist()).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // The waitlist has no coaching sessions: its self-assessments count
    // from enrolment (today, 7 September), the program's from session 1.
    for p in PROGRAM_HANDS {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Baseline: Monday 7 September, 10:00 in Prague.
    t.advance_to("2026-09-07T08:00:00Z").await;
    let jana = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    let baseline = t.sim.messages_in(&jana).remove(0);
    assert!(
        baseline
            .content
            .text
            .starts_with("A short self-assessment: How confident"),
        "{}",
        baseline.content.text
    );
    assert_eq!(baseline.buttons().len(), 5, "1 to 5, one tap");
    for p in PROGRAM_HANDS.iter().chain(&WAITLIST) {
        assert_eq!(answer(&t, p, 2).await, 200);
    }
    // One changes her mind: the answer is replaced, not added.
    answer(&t, "jana.novakova", 3).await;
    assert_eq!(pulses(&t).await.len(), 10);

    // +30 days: Wednesday 7 October. The program's five moved up 2 on
    // average (Jana 3 → 5), the waitlist 1.
    for day in ["2026-09-14", "2026-09-21", "2026-09-28", "2026-10-05"] {
        t.advance_to(&format!("{day}T12:00:00Z")).await;
    }
    t.advance_to("2026-10-07T08:00:00Z").await;
    for (p, v) in PROGRAM_HANDS.iter().zip([5, 4, 4, 4, 4]) {
        assert_eq!(answer(&t, p, v).await, 200);
    }
    for p in WAITLIST {
        answer(&t, p, 3).await;
    }
    // +60 days, Friday 6 November: the managers' observation.
    t.advance_to("2026-11-06T09:00:00Z").await;
    let pavel = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    let asked: Vec<_> = t
        .sim
        .messages_in(&pavel)
        .into_iter()
        .filter(|m| m.content.text.starts_with("A quick question about"))
        .collect();
    // One message about his four reports, a row of buttons each.
    assert_eq!(asked.len(), 1, "{asked:?}");
    let rows: Vec<String> = asked[0]
        .buttons()
        .into_iter()
        .filter(|b| b.0 == "pulse:1")
        .map(|b| b.2)
        .collect();
    assert_eq!(rows.len(), 4, "{:?}", asked[0].content.blocks);
    // His answer on the second row is Tomáš's observation, and only his.
    let reply = t
        .sim
        .tap_row(
            &t.user_id("pavel.svoboda"),
            &pavel,
            &asked[0].ts,
            "pulse:4",
            &rows[1],
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let observed: Vec<(i64, String)> = sqlx::query_as(
        "SELECT u.job_id, pe.email FROM pulses u JOIN participants pa ON pa.id = u.participant_id \
         JOIN people pe ON pe.id = pa.person_id WHERE u.org_id = $1 AND u.kind = 'manager'",
    )
    .bind(t.org.id.0)
    .fetch_all(t.store.pool())
    .await
    .unwrap();
    assert_eq!(
        observed,
        vec![(
            rows[1].parse().unwrap(),
            "tomas.dvorak@acme.example".to_string()
        )]
    );

    t.clock.set("2026-10-12T08:00:00Z".parse().unwrap());
    let digest = t
        .app
        .digest(
            t.org.id,
            "leaders-2026",
            momentum::domain::metrics::ProgramWeek::parse_iso("2026-W41"),
        )
        .await
        .unwrap();
    let d: Value = serde_json::to_value(&digest).unwrap();
    assert_eq!(d["self_assessment_shift"]["n"], 5, "{d}");
    assert_eq!(d["self_assessment_shift"]["mean"], 2.0, "{d}");
    // Per follow-up day: at +30 the program moved 2.0, the waitlist 1.0.
    let at30 = &d["follow_ups"][0];
    assert_eq!(at30["day"], 30, "{d}");
    assert_eq!(at30["shift"]["mean"], 2.0, "{d}");
    assert_eq!(at30["comparison"]["status"], "shown", "{d}");
    assert_eq!(at30["comparison"]["difference"], 1.0, "{d}");
    assert_eq!(at30["comparison"]["n_comparison"], 5, "{d}");
    assert_eq!(
        d["follow_ups"][1]["comparison"]["status"],
        "program_too_small"
    );
    // The waitlist is not part of the program's own figures, and got no
    // coaching prompt of any kind: only its self-assessments.
    assert_eq!(d["enrolled"], 13, "18 enrolled, 5 of them waiting: {d}");
    for p in WAITLIST {
        let dm = SimWorkspace::dm_channel(&t.user_id(p));
        for m in t.sim.messages_in(&dm) {
            assert!(
                m.content.text.starts_with("A short self-assessment"),
                "{p} got {}",
                m.content.text
            );
        }
    }
}

#[tokio::test]
async fn the_digest_text_speaks_of_the_shift_and_the_comparison() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &with_waitlist()).await;
    for p in PROGRAM_HANDS {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    t.advance_to("2026-09-07T08:00:00Z").await;
    for p in PROGRAM_HANDS {
        answer(&t, p, 2).await;
    }
    t.advance_to("2026-10-07T08:00:00Z").await;
    for p in PROGRAM_HANDS {
        answer(&t, p, 4).await;
    }
    t.clock.set("2026-10-12T08:00:00Z".parse().unwrap());
    let week = momentum::domain::metrics::ProgramWeek::parse_iso("2026-W41");
    let digest = t.app.digest(t.org.id, "leaders-2026", week).await.unwrap();
    let text = momentum::app::digest_text("Leaders", "en", &digest).unwrap();
    assert!(
        text.contains("Self-assessment: +2.0 from baseline to the latest follow-up (n = 5)"),
        "{text}"
    );
    assert!(
        text.contains("at +30 days: +2.0 (n = 5); comparison not shown (fewer than 5 on one side)"),
        "{text}"
    );
    let cs = momentum::app::digest_text("Leaders", "cs", &digest).unwrap();
    assert!(cs.contains("Sebehodnocení: +2.0"), "{cs}");
}

#[tokio::test]
async fn self_assessments_outlive_a_short_retention_until_30_days_after_the_last_follow_up() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM_WITH_PULSES).await;
    for p in PROGRAM_HANDS {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Baseline on 7 September, then +30, +60 and +90 (Sunday 6 December
    // moves to Monday the 7th); the shortest retention (30 days) runs
    // between them.
    let steps = [
        ("2026-09-07T08:00:00Z", 2, "2026-09-20T08:00:00Z"),
        ("2026-10-07T08:00:00Z", 3, "2026-10-20T08:00:00Z"),
        ("2026-11-06T09:00:00Z", 4, "2026-11-20T08:00:00Z"),
        ("2026-12-07T09:00:00Z", 5, "2026-12-10T08:00:00Z"),
    ];
    for (asked, value, retention) in steps {
        t.advance_to(asked).await;
        for p in PROGRAM_HANDS {
            assert_eq!(answer(&t, p, value).await, 200, "{p} at {asked}");
        }
        t.advance_to(retention).await;
        t.app.apply_retention(30).await.unwrap();
    }
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pulses WHERE org_id = $1 AND kind = 'self'")
            .bind(t.org.id.0)
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    assert_eq!(kept, 20, "baselines and every follow-up kept");
    t.clock.set("2026-12-14T08:00:00Z".parse().unwrap());
    let digest = t
        .app
        .digest(
            t.org.id,
            "leaders-2026",
            momentum::domain::metrics::ProgramWeek::parse_iso("2026-W50"),
        )
        .await
        .unwrap();
    let d: Value = serde_json::to_value(&digest).unwrap();
    let at90 = d["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["day"] == 90)
        .cloned()
        .unwrap();
    assert_eq!(at90["shift"]["mean"], 3.0, "5 − 2 for everyone: {d}");
    assert_eq!(at90["shift"]["n"], 5, "{d}");
    // Thirty days after the last follow-up they go like every raw event.
    t.clock.set("2027-01-10T08:00:00Z".parse().unwrap());
    t.app.apply_retention(30).await.unwrap();
    assert_eq!(t.count("pulses").await, 0);
}
