//! Logs never hold what they must not: names, emails, note text, tokens,
//! secrets. Everything the service logs (at every level of its own code)
//! while people are enrolled, nudged, answer, write notes, download and
//! erase their data, and a workspace installs, is captured and searched.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::*;
use momentum::chat::sim::SimWorkspace;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const NOTE: &str = "I told Petr his report was late again";
/// Her small step: her words, in her DM only, never in a log.
const STEP: &str = "Give Petr the client call without rehearsing it";

#[tokio::test]
async fn nothing_personal_or_secret_is_ever_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,hyper=info,h2=info,sqlx=debug,reqwest=debug,rustls=info,tungstenite=info,tokio_tungstenite=info,slack_morphism=debug"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM_WITH_PULSES).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.advance_to("2026-09-07T08:00:00Z").await;
    t.advance_to("2026-09-08T07:30:00Z").await;
    let jana = t.user_id("jana.novakova");
    let dm = SimWorkspace::dm_channel(&jana);
    for m in t.sim.messages_in(&dm) {
        if let Some((id, ..)) = m.buttons().into_iter().find(|b| b.0 == "pulse:4") {
            t.sim.tap(&jana, &dm, &m.ts, &id).await.unwrap();
        }
    }
    // She names her small step, and on Friday it is repeated back to her.
    let nudge = t.sim.messages_in(&dm).pop().unwrap();
    let reply = t
        .sim
        .enter_text(&jana, &dm, &nudge.ts, "step:name", STEP)
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    // Thursday: her manager's check-in names her.
    t.advance_to("2026-09-10T08:00:00Z").await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    let check = t.sim.messages_in(&dm).pop().unwrap();
    assert!(check.content.blocks.to_string().contains(STEP));
    t.sim
        .tap(&jana, &dm, &check.ts, "report:done")
        .await
        .unwrap();
    let pavel = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    assert!(t
        .sim
        .messages_in(&pavel)
        .iter()
        .any(|m| m.content.text.contains("Jana Nováková")));
    for text in [
        &format!("note {NOTE}"),
        "status",
        "my-data",
        "forget-me confirm",
    ] {
        t.sim.slash_command(&jana, "/momentum", text).await.unwrap();
    }
    // A bad request, an unknown command, a refused signature.
    t.sim
        .slash_command(&t.user_id("tomas.dvorak"), "/momentum", "nonsense")
        .await
        .unwrap();
    let _ = t
        .http
        .post(format!("{}/slack/events", t.url))
        .header("X-Slack-Signature", "v0=forged")
        .header("X-Slack-Request-Timestamp", "1")
        .body("{}")
        .send()
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(logs.len() > 1000, "the capture works: {logs}");
    let admin_token = t.admin_token.clone();
    for secret in [
        "jana.novakova@acme.example",
        "Jana Nováková",
        "Nováková",
        NOTE,
        "told Petr",
        STEP,
        t.sim.config.bot_token.as_str(),
        t.sim.config.signing_secret.as_str(),
        t.sim.config.client_secret.as_str(),
        t.sim.config.app_token.as_str(),
        admin_token.as_str(),
        "xoxb-",
    ] {
        let at = logs.find(secret);
        assert!(
            at.is_none(),
            "{secret:?} was logged: …{}…",
            at.map(|i| &logs[i.saturating_sub(300)..(i + 100).min(logs.len())])
                .unwrap_or_default()
        );
    }
}
