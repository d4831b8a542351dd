//! `momentum demo`: the sample program (`examples/program.yaml`) run end to
//! end on a temporary SQLite database against the local workspace, with a
//! virtual clock that moves through the program's weeks. Simulated people
//! behave differently — some tap every time, some rarely, two never start,
//! one pauses — and everything goes through the real wire: Slack Web API
//! calls to the simulator, signed taps back to the service.

use crate::app::{CompletedSession, ParticipantLookup};
use crate::chat::sim::{SimConfig, SimMessage, SimWorkspace};
use crate::chat::{ChatPort, Chats};
use crate::clock::{Clock, SharedClock, VirtualClock};
use crate::crypto::SecretKey;
use crate::domain::Platform;
use crate::domain::ProgramId;
use crate::scheduler::Dispatcher;
use crate::startup::{self, ServiceOptions};
use crate::store::Store;
use anyhow::{Context, Result};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const PROGRAM_FILE: &str = include_str!("../examples/program.yaml");

/// How a simulated person answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Taps every nudge, mostly "did it"; sometimes changes an answer later.
    Diligent,
    /// Taps most nudges, mixed answers.
    Steady,
    /// Taps about every second nudge.
    Occasional,
    /// Taps now and then.
    Rare,
    /// Never completes a session, so is never nudged.
    NeverStarts,
    /// Taps at first, then pauses nudges with `/momentum pause` after session 2.
    Pauses,
    /// Like Steady, but skips the last session.
    MissesLastSession,
    /// A manager who answers almost every check-in.
    SupportiveManager,
    /// A manager who answers some check-ins.
    BusyManager,
}

pub struct Person {
    pub name: &'static str,
    pub handle: &'static str,
    pub tz: &'static str,
    pub behaviour: Behaviour,
}

const fn p(
    name: &'static str,
    handle: &'static str,
    tz: &'static str,
    behaviour: Behaviour,
) -> Person {
    Person {
        name,
        handle,
        tz,
        behaviour,
    }
}

use Behaviour::*;

/// Everyone in the sample program: 18 leaders and their 4 managers.
pub const ROSTER: &[Person] = &[
    p("Jana Nováková", "jana.novakova", "Europe/Prague", Diligent),
    p("Tomáš Dvořák", "tomas.dvorak", "Europe/Prague", Steady),
    p("Eva Černá", "eva.cerna", "Europe/Prague", Diligent),
    p(
        "Martin Procházka",
        "martin.prochazka",
        "Europe/Prague",
        Occasional,
    ),
    p("Lucie Kučerová", "lucie.kucerova", "Europe/Prague", Steady),
    p("Petr Veselý", "petr.vesely", "Europe/Prague", Rare),
    p(
        "Kateřina Horáková",
        "katerina.horakova",
        "Europe/Prague",
        Steady,
    ),
    p("David Němec", "david.nemec", "Europe/Prague", Occasional),
    p("Alena Marková", "alena.markova", "Europe/Prague", Diligent),
    p("Jakub Pokorný", "jakub.pokorny", "Europe/Prague", Pauses),
    p(
        "Tereza Pospíšilová",
        "tereza.pospisilova",
        "Europe/Prague",
        Steady,
    ),
    p("Ondřej Hájek", "ondrej.hajek", "Europe/Prague", NeverStarts),
    p(
        "Veronika Jelínková",
        "veronika.jelinkova",
        "Europe/Prague",
        Occasional,
    ),
    p("Michal Král", "michal.kral", "Europe/Prague", Steady),
    p(
        "Sarah Mitchell",
        "sarah.mitchell",
        "Europe/London",
        Diligent,
    ),
    p(
        "James Carter",
        "james.carter",
        "America/New_York",
        Occasional,
    ),
    p(
        "Barbora Růžičková",
        "barbora.ruzickova",
        "Europe/Prague",
        NeverStarts,
    ),
    p(
        "Filip Beneš",
        "filip.benes",
        "Europe/Prague",
        MissesLastSession,
    ),
    p(
        "Pavel Svoboda",
        "pavel.svoboda",
        "Europe/Prague",
        SupportiveManager,
    ),
    p("Hana Šťastná", "hana.stastna", "Europe/Prague", BusyManager),
    p(
        "Richard Doležal",
        "richard.dolezal",
        "Europe/Prague",
        BusyManager,
    ),
    p(
        "Emma Wilson",
        "emma.wilson",
        "Europe/London",
        SupportiveManager,
    ),
];

/// The sample program's HR admin in the local workspace.
pub const HR_ADMIN: &str = "klara.vesela";

pub fn email(handle: &str) -> String {
    format!("{handle}@acme.example")
}

/// Fills a local workspace with the sample program's people and the sponsors' channel.
pub fn seed_workspace(sim: &SimWorkspace) -> HashMap<String, &'static Person> {
    let mut by_user = HashMap::new();
    for person in ROSTER {
        let id = sim.add_user(person.handle, person.name, &email(person.handle), person.tz);
        by_user.insert(id, person);
    }
    // HR's admin of the program (its file lists her under `admins`).
    sim.add_user(HR_ADMIN, "Klára Veselá", &email(HR_ADMIN), "Europe/Prague");
    sim.add_channel("leadership-sponsors");
    by_user
}

#[derive(Debug, Clone)]
enum Event {
    CompleteSession {
        email: String,
        number: u32,
    },
    Tap {
        user: String,
        channel: String,
        ts: String,
        action: String,
    },
    Pause {
        user: String,
    },
}

struct Timeline {
    events: BTreeMap<(Timestamp, u64), Event>,
    seq: u64,
}

impl Timeline {
    fn push(&mut self, at: Timestamp, e: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), e);
    }

    fn next_at(&self) -> Option<Timestamp> {
        self.events.keys().next().map(|(t, _)| *t)
    }

    fn pop_due(&mut self, now: Timestamp) -> Option<Event> {
        let key = *self.events.keys().next()?;
        if key.0 <= now {
            self.events.remove(&key)
        } else {
            None
        }
    }
}

fn at_local(date: Date, hour: i8, minute: i8, tz: &str) -> Timestamp {
    let tz = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    tz.to_ambiguous_timestamp(date.to_datetime(Time::constant(hour, minute, 0, 0)))
        .compatible()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Decides whether and how a simulated person answers a message.
/// What the person reads first: the message's first section (the step is
/// repeated there, never in the notification text), else its text.
fn shown_text(content: &crate::chat::sim::SimContent) -> String {
    content
        .blocks
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["type"] == "section")
        .and_then(|b| b["text"]["text"].as_str())
        .map(|t| t.replace('*', ""))
        .unwrap_or_else(|| content.text.clone())
}

/// The small step a version of a nudge shows (its input's value).
fn named_step(content: &crate::chat::sim::SimContent) -> Option<String> {
    content.input()?["element"]["initial_value"]
        .as_str()
        .map(str::to_string)
}

fn decide(
    person: &Person,
    message: &SimMessage,
    rng: &mut StdRng,
    nudges_seen: usize,
) -> Option<(String, i64)> {
    let buttons = message.buttons();
    let is_checkin = buttons.iter().any(|(id, ..)| id.starts_with("checkin:"));
    let (p_tap, weights): (f64, [u32; 3]) = match (person.behaviour, is_checkin) {
        (SupportiveManager, true) => (0.95, [6, 3, 1]),
        (BusyManager, true) => (0.5, [3, 4, 3]),
        (_, true) => (0.0, [1, 1, 1]),
        (Diligent, false) => (1.0, [7, 2, 1]),
        (Steady | MissesLastSession, false) => (0.8, [4, 4, 2]),
        (Occasional, false) => (0.5, [3, 3, 4]),
        (Rare, false) => (0.2, [2, 3, 5]),
        (Pauses, false) => (if nudges_seen < 3 { 0.9 } else { 0.0 }, [3, 4, 3]),
        _ => (0.0, [1, 1, 1]),
    };
    if !rng.gen_bool(p_tap) {
        return None;
    }
    let total: u32 = weights.iter().sum();
    let mut pick = rng.gen_range(0..total);
    let mut index = 0;
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            index = i;
            break;
        }
        pick -= w;
    }
    let action = buttons.get(index)?.0.clone();
    // Most people answer within the day; some the next morning.
    let delay_minutes = rng.gen_range(20..(26 * 60));
    Some((action, delay_minutes))
}

/// The demo's world: an SQLite store in a temporary folder, the local
/// workspace with the sample's people, the service on a free port, an
/// organisation with the sample program applied, and a virtual clock at
/// 07:00 in Prague on the first session's day.
pub struct DemoEnv {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub clock: VirtualClock,
    pub sim: SimWorkspace,
    pub app: Arc<crate::app::App>,
    pub org: crate::store::Org,
    pub service: startup::Running,
    pub program: crate::domain::ProgramSpec,
    pub program_id: ProgramId,
    pub people: HashMap<String, &'static Person>,
}

pub async fn environment() -> Result<DemoEnv> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let db_path = dir.path().join("momentum-demo.db");
    let store = Store::connect(&format!("sqlite://{}", db_path.display())).await?;
    store.migrate().await?;

    let program = crate::domain::program::ProgramFile::parse_yaml(PROGRAM_FILE)
        .map_err(|e| anyhow::anyhow!("examples/program.yaml is invalid:\n{e}"))?
        .program;
    let start = program
        .sessions
        .first()
        .map(|s| s.planned)
        .context("the sample plans no sessions")?;
    let clock = VirtualClock::new(at_local(start, 7, 0, "Europe/Prague"));
    let shared: SharedClock = Arc::new(clock.clone());

    // The local workspace, served over HTTP like Slack.
    let sim = SimWorkspace::new(SimConfig::default(), shared.clone());
    let people = seed_workspace(&sim);
    let (sim_addr, _sim_task) = sim.serve("127.0.0.1:0".parse()?).await?;
    let client = crate::chat::slack::http_client(&format!("http://{sim_addr}/api"))?;
    // The local workspace runs without Slack's limits here, so no pacing either.
    let options = crate::chat::slack::SlackOptions {
        limits: None,
        ..Default::default()
    };
    let slack = crate::chat::slack::SlackChat::connect_with(client, &sim.config.bot_token, options)
        .await
        .map_err(|e| anyhow::anyhow!("the local workspace refused the bot token: {e}"))?;
    let chats = Chats::default();
    let team = slack.workspace().to_string();
    chats.add(Arc::new(slack));

    let app = startup::build_app(store.clone(), shared.clone(), chats, SecretKey::generate());
    let org = app
        .create_org("Acme (demo)", "Europe/Prague", "en")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .link_workspace(org.id, Platform::Slack, &team, clock.now())
        .await?;
    let service = startup::start(
        app.clone(),
        ServiceOptions {
            slack_signing_secret: Some(sim.config.signing_secret.clone()),
            ..ServiceOptions::local("127.0.0.1:0".parse()?)
        },
    )
    .await?;
    sim.set_service_url(&service.url());

    let doc: serde_json::Value = serde_norway::from_str(PROGRAM_FILE)?;
    let applied = app
        .apply_program(org.id, &doc, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        applied.unresolved.is_empty(),
        "unresolved people: {:?}",
        applied.unresolved
    );
    Ok(DemoEnv {
        dir,
        store,
        clock,
        sim,
        app,
        org,
        service,
        program,
        program_id: applied.program_id,
        people,
    })
}

pub async fn run(seed: u64, summary_only: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let DemoEnv {
        dir: _dir,
        store,
        clock,
        sim,
        app,
        org,
        service,
        program,
        program_id,
        people,
    } = environment().await?;
    let start = program
        .sessions
        .first()
        .map(|s| s.planned)
        .context("the sample plans no sessions")?;
    let last = program.sessions.last().map(|s| s.planned).unwrap_or(start);

    // Script: sessions happen at 10:00 on their planned dates.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut timeline = Timeline {
        events: BTreeMap::new(),
        seq: 0,
    };
    let participants: Vec<&Person> = ROSTER
        .iter()
        .filter(|p| !matches!(p.behaviour, SupportiveManager | BusyManager))
        .collect();
    for person in &participants {
        for s in &program.sessions {
            let skip = match person.behaviour {
                NeverStarts => true,
                MissesLastSession => s.number == program.session_count(),
                _ => false,
            };
            if !skip {
                let at = at_local(s.planned, 10, rng.gen_range(0..50), person.tz);
                timeline.push(
                    at,
                    Event::CompleteSession {
                        email: email(person.handle),
                        number: s.number,
                    },
                );
            }
        }
    }
    let end = at_local(
        last.checked_add(jiff::ToSpan::days(7))?,
        0,
        0,
        "Europe/Prague",
    );

    let dispatcher = Dispatcher::new(app.clone());
    let mut seen = 0usize;
    let mut nudges_seen: HashMap<String, usize> = HashMap::new();
    let mut paused: Vec<String> = Vec::new();
    let mut commands: Vec<(String, Timestamp, String)> = Vec::new();
    loop {
        let next_job = store.next_due_at().await?;
        let next = match (next_job, timeline.next_at()) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(t) => t,
                None => break,
            },
        };
        if next > end {
            break;
        }
        if next > clock.now() {
            clock.set(next);
        }
        while let Some(event) = timeline.pop_due(clock.now()) {
            match event {
                Event::CompleteSession { email, number } => {
                    let who = ParticipantLookup {
                        email: Some(email),
                        ..Default::default()
                    };
                    let report = CompletedSession {
                        program_key: &program.key,
                        who: &who,
                        number,
                        completed_on: None,
                        source: "demo",
                        external_id: None,
                    };
                    app.record_session(org.id, &report)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                Event::Tap {
                    user,
                    channel,
                    ts,
                    action,
                } => {
                    let reply = sim
                        .tap(&user, &channel, &ts, &action)
                        .await
                        .map_err(anyhow::Error::msg)?;
                    anyhow::ensure!(
                        reply.status == 200,
                        "tap refused: {} {}",
                        reply.status,
                        reply.body
                    );
                }
                Event::Pause { user } => {
                    let reply = sim
                        .slash_command(&user, "/momentum", "pause")
                        .await
                        .map_err(anyhow::Error::msg)?;
                    let text = serde_json::from_str::<serde_json::Value>(&reply.body)
                        .ok()
                        .and_then(|v| v["text"].as_str().map(String::from))
                        .unwrap_or_default();
                    commands.push((user.clone(), clock.now(), text));
                    paused.push(user);
                }
            }
        }
        while dispatcher.run_once().await?.handled() > 0 {}
        let messages = sim.messages();
        for m in &messages[seen..] {
            let user = format!("U{}", m.channel.trim_start_matches('D'));
            let Some(person) = people.get(&user) else {
                continue;
            };
            let count = nudges_seen.entry(user.clone()).or_default();
            *count += 1;
            if let Some((action, delay)) = decide(person, m, &mut rng, *count) {
                let at = clock.now() + SignedDuration::from_mins(delay);
                timeline.push(
                    at,
                    Event::Tap {
                        user: user.clone(),
                        channel: m.channel.clone(),
                        ts: m.ts.clone(),
                        action: action.clone(),
                    },
                );
                // Diligent people sometimes come back and upgrade "partly" to "did it".
                if person.behaviour == Diligent && action == "report:partly" {
                    let later = at + SignedDuration::from_hours(rng.gen_range(24..72));
                    timeline.push(
                        later,
                        Event::Tap {
                            user: user.clone(),
                            channel: m.channel.clone(),
                            ts: m.ts.clone(),
                            action: "report:done".into(),
                        },
                    );
                }
            }
            if person.behaviour == Pauses && *count == 3 && !paused.contains(&user) {
                timeline.push(
                    clock.now() + SignedDuration::from_hours(30),
                    Event::Pause { user: user.clone() },
                );
            }
        }
        seen = messages.len();
    }
    // Message updates run after each tap is acknowledged; let the last ones land.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let messages = sim.messages();
    if !summary_only {
        print_transcript(&sim, &messages, &people, &commands);
    }
    let statuses = store.participant_statuses(org.id, program_id).await?;
    let program_row = store.program(org.id, program_id).await?;
    let health = app.program_health(org.id, &program_row).await?;
    let taps: usize = messages.iter().map(|m| m.edits.len()).sum();
    println!("\n══ Summary ══");
    println!(
        "program {:?}: {} participants enrolled, {} never started, {} paused",
        program.name,
        statuses.len(),
        participants
            .iter()
            .filter(|p| p.behaviour == NeverStarts)
            .count(),
        paused.len()
    );
    println!(
        "messages delivered: {}, taps recorded (including changed answers): {taps}",
        messages.len()
    );
    // What HR sees: the last composed week, by category; behavioural
    // categories only as counts of at least k.
    println!(
        "HR's delivery view (week {}):",
        health.week.as_deref().unwrap_or("none composed yet")
    );
    println!("  sent      {:>4}", health.sent.unwrap_or(0));
    for p in &health.problems {
        let count = p
            .count
            .map_or(format!("<{}", health.anonymity_threshold), |n| {
                n.to_string()
            });
        println!("  {:<26} {:>4}", p.category.as_str(), count);
    }
    // The sponsors' view: the digest of the last complete week.
    let digest = app.digest(org.id, &program.key, None).await?;
    println!(
        "\n══ Weekly digest for the sponsors ══\n{}",
        crate::app::digest_text(&program.name, &program.locale, &digest)?
    );
    if let Some(week) = crate::domain::metrics::ProgramWeek::parse_iso(&digest.week) {
        let png = app.digest_chart(org.id, &program.key, &week).await?;
        let path = std::env::temp_dir().join("momentum-demo-digest.png");
        std::fs::write(&path, png)?;
        println!("chart: {}", path.display());
    }
    println!(
        "virtual time {} → {}; wall time {:.1} s",
        start,
        clock
            .now()
            .to_zoned(TimeZone::get("Europe/Prague").unwrap_or(TimeZone::UTC))
            .date(),
        started.elapsed().as_secs_f64()
    );
    service.stop().await;
    Ok(())
}

fn print_transcript(
    sim: &SimWorkspace,
    messages: &[SimMessage],
    people: &HashMap<String, &'static Person>,
    commands: &[(String, Timestamp, String)],
) {
    let mut users: Vec<(&String, &&Person)> = people.iter().collect();
    users.sort_by_key(|(id, _)| (*id).clone());
    for (user, person) in users {
        let channel = SimWorkspace::dm_channel(user);
        let tz = TimeZone::get(person.tz).unwrap_or(TimeZone::UTC);
        let local = |t: Timestamp| {
            t.to_zoned(tz.clone())
                .strftime("%a %d %b %H:%M")
                .to_string()
        };
        let role = match person.behaviour {
            SupportiveManager | BusyManager => "manager",
            _ => "participant",
        };
        println!("\n── DM with {} ({role}, {}) ──", person.name, person.tz);
        let mine: Vec<&SimMessage> = messages.iter().filter(|m| m.channel == channel).collect();
        if mine.is_empty() {
            println!("   (no messages: no completed session yet)");
        }
        let first = person.name.split(' ').next().unwrap_or(person.name);
        for m in mine {
            let original = m.edits.first().unwrap_or(&m.content);
            println!("{}  Momentum: {}", local(original.at), shown_text(original));
            // Each later version of the message shows an answer the person tapped.
            for version in m
                .edits
                .iter()
                .skip(1)
                .chain(std::iter::once(&m.content))
                .skip(usize::from(m.edits.is_empty()))
            {
                let chosen = SimMessage {
                    content: version.clone(),
                    ..m.clone()
                }
                .buttons()
                .into_iter()
                .find(|b| b.3)
                .map(|b| b.1.trim_start_matches("✓ ").to_string());
                if let Some(label) = chosen {
                    println!("{}    {first} tapped: {label}", local(version.at));
                } else if let Some(step) = named_step(version) {
                    println!(
                        "{}    {first} named a small step: {step}",
                        local(version.at)
                    );
                } else if version.input().is_some()
                    && !version.blocks.to_string().contains("step:pick")
                {
                    println!("{}    {first}: no step this time", local(version.at));
                }
            }
        }
        for (_, at, text) in commands.iter().filter(|(u, ..)| u == user) {
            println!("{}  {first}: /momentum pause → {text}", local(*at));
        }
    }
    let _ = sim;
}
