//! Socket Mode end to end: the service connects with the app-level token
//! (`apps.connections.open`), and taps, slash commands, events and modal
//! submissions arrive as envelopes on the WebSocket, acknowledged by
//! `envelope_id`. A forced disconnect in the middle of a burst of taps loses
//! none and stores none twice.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use serde_json::Value;

#[tokio::test]
async fn taps_commands_events_and_modals_arrive_over_the_socket() {
    let t = spawn_app_socket().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    let jana = t.user_id("jana.novakova");
    let dm = SimWorkspace::dm_channel(&jana);
    // The step, typed and sent with Enter, arrives over the socket too.
    let step = t.sim.messages_in(&dm)[0].clone();
    let reply = t
        .sim
        .enter_text(
            &jana,
            &dm,
            &step.ts,
            "step:name",
            "Ask for feedback on Friday",
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(t.count("steps").await, 1);
    // Friday's follow-up, tapped.
    t.advance_to("2026-09-11T14:00:00Z").await;
    let nudge = t.sim.messages_in(&dm).pop().unwrap();
    let reply = t
        .sim
        .tap(&jana, &dm, &nudge.ts, "report:done")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(t.count("reports").await, 1);
    assert!(
        t.eventually(|| t.sim.message(&dm, &nudge.ts).is_some_and(|m| m
            .content
            .text
            .contains("Recorded")
            || m.content.blocks.to_string().contains("Recorded")))
            .await,
        "the message shows what was recorded"
    );
    // A slash command's reply comes back in the acknowledgement.
    let status = t
        .sim
        .slash_command(&jana, "/momentum", "status")
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&status.body).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("1 of 5 done"),
        "{body}"
    );
    assert_eq!(body["response_type"], "ephemeral");
    // An event (the home tab) and a modal with a field error, then saved.
    t.sim.open_home(&jana, "EvSOCK1").await.unwrap();
    assert!(t.eventually(|| t.sim.home_of(&jana).is_some()).await);
    t.sim.tap(&jana, &dm, &nudge.ts, "note:open").await.unwrap();
    let modal = t.sim.open_modals(&jana).pop().expect("the note form");
    let empty = t.sim.submit_view(&jana, &modal.id, " ").await.unwrap();
    let answer: Value = serde_json::from_str(&empty.body).unwrap();
    assert_eq!(answer["response_action"], "errors", "{answer}");
    t.sim
        .submit_view(&jana, &modal.id, "Over the socket")
        .await
        .unwrap();
    assert_eq!(t.count("notes").await, 1);
    assert!(t.sim.open_modals(&jana).is_empty());
}

#[tokio::test]
async fn a_disconnect_in_the_middle_of_a_burst_of_taps_loses_none() {
    let t = spawn_app_socket().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people: Vec<String> = t
        .sim
        .users()
        .into_iter()
        .filter(|u| u.email.ends_with("@acme.example") && !u.name.contains("svoboda"))
        .map(|u| u.name)
        .filter(|n| {
            ![
                "hana.stastna",
                "richard.dolezal",
                "emma.wilson",
                "klara.vesela",
            ]
            .contains(&n.as_str())
        })
        .collect();
    assert_eq!(people.len(), 18);
    assert_eq!(t.follow_ups_for(&people).await, 18);
    let taps = people.iter().map(|p| {
        let user = t.user_id(p);
        let dm = SimWorkspace::dm_channel(&user);
        let nudge = t.sim.messages_in(&dm).pop().unwrap();
        let sim = t.sim.clone();
        async move { sim.tap(&user, &dm, &nudge.ts, "report:partly").await }
    });
    // The sockets drop right after the ninth tap's envelope leaves.
    t.sim.disconnect_after_envelopes(9);
    let replies = futures_util::future::join_all(taps).await;
    for r in &replies {
        assert_eq!(r.as_ref().map(|r| r.status).ok(), Some(200), "{r:?}");
    }
    assert_eq!(t.count("reports").await, 18, "every tap stored");
    assert_eq!(t.count("taps").await, 18, "none stored twice");
    assert!(
        t.sim.socket_redeliveries() > 0,
        "envelopes in flight at the disconnect were delivered again"
    );
    assert!(
        t.eventually(|| t.sim.socket_connections() > 0).await,
        "the client reconnected"
    );
}
