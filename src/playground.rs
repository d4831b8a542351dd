//! The playground (`momentum demo --web`): the demo's local workspace as a
//! web page. Each person's direct messages, the managers' check-ins and the
//! sponsors' channel; tap a message's buttons as that person; move the
//! virtual clock a day or a week (sessions happen on their planned dates,
//! the dispatcher sends what falls due, hour by hour) and watch nudges and
//! the weekly digest arrive; the program's health as HR sees it.

use crate::app::sessions::ParticipantLookup;
use crate::chat::sim::SimWorkspace;
use crate::clock::Clock;
use crate::demo::DemoEnv;
use crate::scheduler::Dispatcher;
use crate::templates;
use anyhow::Result;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

struct Playground {
    env: DemoEnv,
    dispatcher: Dispatcher,
    /// Sessions already reported (participant email, session number).
    reported: Mutex<Vec<(String, u32)>>,
}

/// Serves the playground on `listen` until Ctrl-C.
pub async fn serve(listen: std::net::SocketAddr) -> Result<()> {
    let env = crate::demo::environment().await?;
    let dispatcher = Dispatcher::new(env.app.clone());
    // The sample's HR admin runs the demo organisation.
    let hr = crate::domain::PersonRef::parse_short("klara.vesela@acme.example")
        .map_err(anyhow::Error::msg)?;
    env.app
        .grant_org_admin(env.org.id, &hr, "playground")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let login = env
        .app
        .console_login_token(env.org.id, &hr)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let console = format!("{}/admin/login?token={login}", env.service.url());
    let state = Arc::new(Playground {
        env,
        dispatcher,
        reported: Mutex::new(Vec::new()),
    });
    let router = Router::new()
        .route("/", get(|| async { Redirect::to("/playground") }))
        .route("/playground", get(page))
        .route("/playground/tap", post(tap))
        .route("/playground/enter", post(enter))
        .route("/playground/advance", post(advance))
        .route("/playground/version", get(version))
        .route("/playground/home", post(home))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("playground: http://{}/playground", listener.local_addr()?);
    println!("HR console (one-time link): {console}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// A message as the page shows it: its text and its buttons.
fn shown(m: &crate::chat::sim::SimMessage) -> Value {
    let mut lines = Vec::new();
    for block in m.content.blocks.as_array().into_iter().flatten() {
        if let Some(t) = block["text"]["text"].as_str() {
            lines.push(t.to_string());
        }
        for f in block["fields"].as_array().into_iter().flatten() {
            lines.extend(f["text"].as_str().map(str::to_string));
        }
        for e in block["elements"].as_array().into_iter().flatten() {
            if block["type"] == "context" {
                lines.extend(e["text"].as_str().map(str::to_string));
            }
        }
    }
    let buttons: Vec<Value> = m
        .buttons()
        .into_iter()
        .filter(|(id, ..)| id.contains(':') && !id.ends_with(":open"))
        .map(|(id, label, _, selected)| json!({ "action": id, "label": label, "selected": selected }))
        .collect();
    // A text input (the small step): its label and what it holds now.
    let input = m.content.input().map(|b| {
        json!({
            "action": b["element"]["action_id"],
            "label": b["label"]["text"],
            "value": b["element"]["initial_value"],
            "max": b["element"]["max_length"],
        })
    });
    json!({ "channel": m.channel, "ts": m.ts, "text": lines.join("\n"), "buttons": buttons, "input": input })
}

async fn page(
    State(p): State<Arc<Playground>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let env = &p.env;
    let people: Vec<Value> = env
        .sim
        .users()
        .into_iter()
        .filter(|u| !u.is_bot)
        .map(|u| json!({ "id": u.id, "name": u.real_name }))
        .collect();
    let who = q
        .get("person")
        .cloned()
        .or_else(|| {
            people
                .first()
                .and_then(|p| p["id"].as_str().map(str::to_string))
        })
        .unwrap_or_default();
    let dm: Vec<Value> = env
        .sim
        .messages_in(&SimWorkspace::dm_channel(&who))
        .iter()
        .rev()
        .map(shown)
        .collect();
    let sponsors: Vec<Value> = env
        .program
        .sponsor_channel
        .as_ref()
        .map(|c| {
            env.sim
                .messages_in(&c.channel)
                .iter()
                .rev()
                .map(shown)
                .collect()
        })
        .unwrap_or_default();
    // The home tab, when asked for: its blocks' text.
    let home: Option<String> = q
        .get("home")
        .and_then(|_| env.sim.home_of(&who))
        .map(|view| {
            let mut lines = Vec::new();
            for block in view["blocks"].as_array().into_iter().flatten() {
                lines.extend(block["text"]["text"].as_str().map(str::to_string));
                for e in block["elements"].as_array().into_iter().flatten() {
                    lines.extend(e["text"].as_str().map(str::to_string));
                }
            }
            lines.join("\n")
        });
    let health = match env.store.program_by_key(env.org.id, &env.program.key).await {
        Ok(Some(row)) => env.app.program_health(env.org.id, &row).await.ok(),
        _ => None,
    };
    let zone = jiff::tz::TimeZone::get("Europe/Prague").unwrap_or(jiff::tz::TimeZone::UTC);
    let now = env
        .clock
        .now()
        .to_zoned(zone)
        .strftime("%a %d %b %Y %H:%M")
        .to_string();
    let html = templates::render_page(
        "admin/playground.html",
        context! { now, people, who, dm, sponsors, health, home, program => env.program.name.clone() },
    );
    match html {
        Ok(h) => Html(h).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The person opens the app's home tab (Slack's `app_home_opened`); the
/// page then shows it.
async fn home(
    State(p): State<Arc<Playground>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let person = f.get("person").cloned().unwrap_or_default();
    let n = p.env.clock.now().as_millisecond();
    if let Err(e) = p
        .env
        .sim
        .open_home(&person, &format!("EvHome{person}{n}"))
        .await
    {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    // The home tab is published after the event's acknowledgement.
    for _ in 0..20 {
        if p.env.sim.home_of(&person).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Redirect::to(&format!("/playground?person={person}&home=1")).into_response()
}

/// What the page shows has changed when this does: the clock and the
/// number of messages and edits (the page polls it to update itself).
async fn version(State(p): State<Arc<Playground>>) -> String {
    let messages = p.env.sim.messages();
    let edits: usize = messages.iter().map(|m| m.edits.len()).sum();
    format!(
        "{}-{}-{}",
        p.env.clock.now().as_second(),
        messages.len(),
        edits
    )
}

async fn tap(State(p): State<Arc<Playground>>, Form(f): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let person = field("person");
    if let Err(e) = p
        .env
        .sim
        .tap(&person, &field("channel"), &field("ts"), &field("action"))
        .await
    {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    // The message update runs after the answer: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    Redirect::to(&format!("/playground?person={person}")).into_response()
}

/// Types into a message's text input (the small step) and presses Enter.
async fn enter(
    State(p): State<Arc<Playground>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let person = field("person");
    if let Err(e) = p
        .env
        .sim
        .enter_text(
            &person,
            &field("channel"),
            &field("ts"),
            &field("action"),
            &field("text"),
        )
        .await
    {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    Redirect::to(&format!("/playground?person={person}")).into_response()
}

/// Moves the clock `hours` forward an hour at a time: sessions on their
/// planned dates are reported at 10:00, and what falls due is sent.
async fn advance(
    State(p): State<Arc<Playground>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let hours: i64 = f
        .get("hours")
        .and_then(|h| h.parse().ok())
        .unwrap_or(24)
        .clamp(1, 24 * 14);
    let env = &p.env;
    for _ in 0..hours {
        env.clock.advance(jiff::SignedDuration::from_hours(1));
        if let Err(e) = report_due_sessions(&p).await {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
        let _ = p.dispatcher.run_once().await;
    }
    let person = f.get("person").cloned().unwrap_or_default();
    Redirect::to(&format!("/playground?person={person}")).into_response()
}

async fn report_due_sessions(p: &Playground) -> Result<()> {
    let env = &p.env;
    let now = env.clock.now();
    let mut reported = p.reported.lock().await;
    for person in env.people.values() {
        if matches!(
            person.behaviour,
            crate::demo::Behaviour::SupportiveManager | crate::demo::Behaviour::BusyManager
        ) {
            continue;
        }
        let zone = jiff::tz::TimeZone::get(person.tz).unwrap_or(jiff::tz::TimeZone::UTC);
        for s in &env.program.sessions {
            let Some(at) = s
                .planned
                .at(10, 0, 0, 0)
                .to_zoned(zone.clone())
                .ok()
                .map(|z| z.timestamp())
            else {
                continue;
            };
            let email = crate::demo::email(person.handle);
            if at > now || reported.contains(&(email.clone(), s.number)) {
                continue;
            }
            let who = ParticipantLookup {
                email: Some(email.clone()),
                ..Default::default()
            };
            let report = crate::app::sessions::CompletedSession {
                program_key: &env.program.key,
                who: &who,
                number: s.number,
                completed_on: None,
                source: "playground",
                external_id: None,
            };
            env.app
                .record_session(env.org.id, &report)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            reported.push((email, s.number));
        }
    }
    Ok(())
}
