//! The database goes away (a loopback proxy in front of PostgreSQL cuts
//! every connection; the server itself stays up): `/readyz` says so, a tap
//! gets "not saved, please tap again" and stores nothing half, an event is
//! refused so that Slack delivers it again, and all of it works once the
//! database is back. PostgreSQL only: SQLite has no connection to cut.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards connections to the database until cut; cut drops every open
/// connection and refuses new ones.
struct CutProxy {
    addr: String,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CutProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, o) = (cut.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                o.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self { addr, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for h in self.open.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

async fn readyz(t: &TestApp) -> u16 {
    t.http
        .get(format!("{}/readyz", t.url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_outage_of_the_database_is_reported_and_nothing_is_half_stored() {
    let Some(target) = postgres_address() else {
        eprintln!("PostgreSQL only (MOMENTUM_TEST_DATABASE_URL): SQLite has no connection to cut");
        return;
    };
    let proxy = CutProxy::start(target).await;
    let t = spawn_app_through(&proxy.addr).await.unwrap();
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    // Friday's follow-up, with its one-tap answers.
    assert_eq!(t.follow_ups_for(&["jana.novakova".to_string()]).await, 1);
    let jana = t.user_id("jana.novakova");
    let nudge = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&jana))
        .pop()
        .unwrap();
    assert_eq!(readyz(&t).await, 200);

    proxy.cut();
    assert_eq!(readyz(&t).await, 503, "unready while the database is cut");
    let reply = t
        .sim
        .tap(&jana, &nudge.channel, &nudge.ts, "report:done")
        .await
        .unwrap();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply.body.contains("not saved, please tap again"),
        "{}",
        reply.body
    );
    // Slack retries an event it got no 2xx for.
    let event = t.sim.user_change_event(&{
        let mut u = t.sim.user(&jana).unwrap();
        u.status_text = "Vacationing".into();
        u.status_emoji = ":palm_tree:".into();
        u.status_expiration = t.sim.now().as_second() + 3 * 86_400;
        u
    });
    let refused = t
        .sim
        .deliver_json("/slack/events", event.to_string())
        .await
        .unwrap();
    assert_eq!(refused.status, 503, "{}", refused.body);

    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if readyz(&t).await == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the database is back");
    assert_eq!(t.count("taps").await, 0, "nothing half-stored");
    assert_eq!(t.count("reports").await, 0);
    let again = t
        .sim
        .tap(&jana, &nudge.channel, &nudge.ts, "report:done")
        .await
        .unwrap();
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(t.count("reports").await, 1);
    let retried = t
        .sim
        .deliver_json("/slack/events", event.to_string())
        .await
        .unwrap();
    assert_eq!(retried.status, 200, "{}", retried.body);
    let away: Option<i64> = sqlx::query_scalar("SELECT away_until FROM people WHERE user_id = $1")
        .bind(&jana)
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert!(away.is_some(), "the retried event was processed");
}
