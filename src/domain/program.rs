//! Program files: parse a YAML or JSON document into a typed, fully validated
//! program. Every mistake is reported with its field path; nothing partial is
//! ever returned.

use super::cron::CronRule;
use super::errors::ConfigErrors;
use super::identity::{ChannelRef, ChatIdentity, Email, PersonRef, Platform};
use super::metrics::MomentumSettings;
use super::reader::{Field, Obj};
use super::time::{parse_weekday, weekday_name, QuietHours, TimeOfDay, WorkingDays, Zone};
use super::JobPurpose;
use jiff::civil::Date;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

pub const FILE_VERSION: i64 = 1;
pub const DEFAULT_ANONYMITY_THRESHOLD: u32 = 5;
/// No group of fewer people is ever published, whatever a file says.
pub const MIN_ANONYMITY_THRESHOLD: u32 = 3;
pub const DEFAULT_WEEKLY_CAP: u32 = 10;
/// Whether a session happened is asked at 17:00 local on its planned date.
pub const DEFAULT_CONFIRMATION_AT: TimeOfDay = TimeOfDay {
    hour: 17,
    minute: 0,
};
/// An unanswered nudge is reminded once, two days later.
pub const DEFAULT_REMINDER_AFTER_DAYS: u32 = 2;
/// Languages that templates exist for.
pub const LOCALES: [&str; 2] = ["en", "cs"];

/// A whole program file: the program's settings and the people in it.
#[derive(Debug, Clone)]
pub struct ProgramFile {
    pub program: ProgramSpec,
    pub participants: Vec<ParticipantSpec>,
}

/// Everything about a program except its participants. Stored as the JSON
/// of its `program` and `cohorts` sections and re-parsed when loaded.
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    pub key: String,
    pub name: String,
    /// What the program is for, in HR's words: the behaviour it targets and
    /// the sponsor's business goal. They head every digest.
    pub target_behaviour: Option<String>,
    pub business_goal: Option<String>,
    pub time_zone: Option<Zone>,
    pub locale: String,
    pub sponsor_channel: Option<ChannelRef>,
    /// HR admins of the program in chat (an email or a chat identity each):
    /// they see its health, delivery problems and digest preview there.
    pub admins: Vec<PersonRef>,
    pub anonymity_threshold: u32,
    pub quiet_hours: Option<QuietHours>,
    pub working_days: WorkingDays,
    pub themes: Vec<String>,
    pub sessions: Vec<PlannedSession>,
    pub nudges: Vec<NudgeRule>,
    pub recurring: Vec<RecurringRule>,
    pub self_assessment: Option<SelfAssessment>,
    pub cohorts: Vec<Cohort>,
    /// Days off for everyone in the program.
    pub holidays: Vec<Date>,
    /// Named extra calendars (one per country, say) that participants pick.
    pub holiday_calendars: Vec<HolidayCalendar>,
    /// The coaching platform's bookings (an https iCalendar feed), read
    /// hourly for participants' planned dates.
    pub bookings_feed: Option<super::bookings::FeedUrl>,
    /// Send a late job only this many hours after it fell due; `None` = until
    /// the end of the recipient's working day.
    pub send_window_hours: Option<u32>,
    /// At most this many messages reach one person in 7 days, across all the
    /// programs they are in; more are skipped with that reason.
    pub weekly_cap: u32,
    /// An unanswered nudge or check-in is reminded once, this many days after
    /// it went out, at its local time; 0 = no reminders.
    pub reminder_after_days: u32,
    /// Welcome each participant on enrolment (what is recorded, who sees
    /// what, how to stop) and ask for their focus. On by default.
    pub welcome: bool,
    /// On each participant's planned date, at this local time, ask whether
    /// the session happened; `None` when the coaching platform always
    /// reports sessions (`session_confirmation: false`).
    pub session_confirmation: Option<TimeOfDay>,
    /// α and the dropping rule (`metrics:`).
    pub metrics: MomentumSettings,
    /// The validated source, kept so the program can be stored and downloaded.
    pub source: Value,
    /// What was changed when a stored program was loaded under stricter
    /// rules (an anonymity threshold below the minimum raised to it): the
    /// console shows these to HR.
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSession {
    pub number: u32,
    pub planned: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NudgeKind {
    SmallStep,
    OneTapCheck,
    ManagerCheckin,
}

impl NudgeKind {
    const NAMES: [&'static str; 3] = ["small_step", "one_tap_check", "manager_checkin"];

    pub fn purpose(self) -> JobPurpose {
        match self {
            NudgeKind::SmallStep => JobPurpose::SmallStep,
            NudgeKind::OneTapCheck => JobPurpose::OneTapCheck,
            NudgeKind::ManagerCheckin => JobPurpose::ManagerCheckin,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "small_step" => Some(NudgeKind::SmallStep),
            "one_tap_check" => Some(NudgeKind::OneTapCheck),
            "manager_checkin" => Some(NudgeKind::ManagerCheckin),
            _ => None,
        }
    }
}

/// "N days after a completed session, at HH:MM local: send this."
#[derive(Debug, Clone, PartialEq)]
pub struct NudgeRule {
    pub kind: NudgeKind,
    pub days_after_session: u32,
    pub at: TimeOfDay,
    /// `None` = after every session.
    pub sessions: Option<Vec<u32>>,
}

impl NudgeRule {
    pub fn applies_to(&self, session: u32) -> bool {
        self.sessions.as_ref().is_none_or(|s| s.contains(&session))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurringPurpose {
    Digest,
    Pulse,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecurringRule {
    pub purpose: RecurringPurpose,
    pub cron: CronRule,
    /// The pulse question's text and scale (a pulse rule has one).
    pub question: Option<PulseQuestion>,
}

/// A recurring one-tap question to every participant (PRODUCT.md's "pulse
/// question"), answered on its own scale.
#[derive(Debug, Clone, PartialEq)]
pub struct PulseQuestion {
    pub text: String,
    pub scale_min: i64,
    pub scale_max: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelfAssessment {
    pub question: String,
    pub scale_min: i64,
    pub scale_max: i64,
    /// Days after the participant's first completed session: 0 = baseline.
    pub days: Vec<u32>,
    /// Local time the pulses go out.
    pub at: TimeOfDay,
    /// The manager's observation pulse (same scale), and when.
    pub manager_question: String,
    pub manager_days: Vec<u32>,
    /// A cohort that serves as the comparison group (a waitlist, say): the
    /// digest shows the difference in differences when both sides reach k.
    pub comparison_cohort: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HolidayCalendar {
    pub key: String,
    pub dates: Vec<Date>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub key: String,
    pub name: String,
    /// Dates for the cohort's sessions (group sessions, or a cohort that
    /// meets on its own calendar); the program's dates for the rest.
    pub sessions: Vec<PlannedSession>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantSpec {
    pub person: PersonRef,
    pub manager: Option<PersonRef>,
    pub focus: Option<String>,
    pub time_zone: Option<Zone>,
    pub share_focus_with_manager: bool,
    pub cohort: Option<String>,
    /// The key of one of the program's holiday calendars.
    pub holidays: Option<String>,
    /// The participant's own planned dates (their coach's calendar); `None`
    /// when the file does not say, leaving dates given elsewhere as they are.
    pub sessions: Option<Vec<PlannedSession>>,
}

impl ProgramFile {
    /// Every chat workspace (Slack team or Teams tenant) the file names,
    /// with the field that names it: each must be linked to the organisation
    /// applying the file.
    pub fn workspaces_named(&self) -> Vec<(String, Platform, &str)> {
        let mut out = Vec::new();
        if let Some(c) = &self.program.sponsor_channel {
            out.push((
                "program.sponsor_channel".to_string(),
                c.platform,
                c.workspace.as_str(),
            ));
        }
        for (i, a) in self.program.admins.iter().enumerate() {
            if let Some(c) = &a.chat {
                out.push((
                    format!("program.admins[{i}]"),
                    c.platform,
                    c.workspace.as_str(),
                ));
            }
        }
        for (i, p) in self.participants.iter().enumerate() {
            if let Some(c) = &p.person.chat {
                out.push((
                    format!("participants[{i}].chat"),
                    c.platform,
                    c.workspace.as_str(),
                ));
            }
            if let Some(c) = p.manager.as_ref().and_then(|m| m.chat.as_ref()) {
                out.push((
                    format!("participants[{i}].manager"),
                    c.platform,
                    c.workspace.as_str(),
                ));
            }
        }
        out
    }

    /// Parses YAML (JSON is YAML too) into a validated program file.
    pub fn parse_yaml(text: &str) -> Result<Self, ConfigErrors> {
        let value: Value = serde_norway::from_str(text).map_err(|e| {
            ConfigErrors::single("", format!("not a readable YAML or JSON document: {e}"))
        })?;
        Self::from_value(&value)
    }

    /// Validates an already-parsed document, reporting every problem at once.
    /// Its iCalendar holiday calendars are read and expanded over
    /// [`holiday_span`], and `program.source` holds their dates, never the
    /// iCalendar text.
    pub fn from_value(doc: &Value) -> Result<Self, ConfigErrors> {
        Self::read(doc, None)
    }

    /// As [`Self::from_value`], for a file applied on `today` (UTC): its
    /// iCalendar holiday calendars start then when that is earlier than the
    /// first session.
    pub fn applied_on(doc: &Value, today: Date) -> Result<Self, ConfigErrors> {
        Self::read(doc, Some(today))
    }

    fn read(doc: &Value, applied_on: Option<Date>) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let root = Field {
            path: String::new(),
            value: doc.clone(),
        };
        let Some(obj) = root.obj(
            &["version", "program", "cohorts", "participants"],
            &mut errs,
        ) else {
            return Err(errs);
        };
        if let Some(v) = obj.req("version", &mut errs) {
            if let Some(n) = v.int(&mut errs) {
                if n != FILE_VERSION {
                    errs.push(v.path, format!("version {n} is not supported (this build reads version {FILE_VERSION})"));
                }
            }
        }
        let cohorts = obj
            .get("cohorts")
            .map(|f| parse_cohorts(&f, &mut errs))
            .unwrap_or_default();
        let program = obj
            .req("program", &mut errs)
            .and_then(|f| parse_program(&f, cohorts, applied_on, &mut errs));
        let participants = match (obj.get("participants"), &program) {
            (Some(f), Some(p)) => parse_participants(&f, p, &mut errs),
            (Some(f), None) => {
                // Still report participant mistakes when the program section is broken.
                let stub = stub_program();
                parse_participants(&f, &stub, &mut errs)
            }
            (None, _) => Vec::new(),
        };
        match program {
            Some(program) if errs.is_empty() => Ok(Self {
                program,
                participants,
            }),
            _ => Err(errs),
        }
    }
}

/// A program stored before holiday calendars were kept as dates holds the
/// iCalendar text itself: it is read here, at every load until the program
/// is saved (which stores its dates). One this version refuses (a rule it
/// once misread, a timed event) loads without those dates. Each is told in a
/// notice.
fn stored_calendars_as_dates(program: &mut Value) -> Vec<String> {
    let planned: Vec<Date> = program
        .get("sessions")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|s| s.get("planned")?.as_str()?.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let span = holiday_span(&planned, None);
    let mut budget = super::ics::Budget::default();
    let mut notices = Vec::new();
    let Some(list) = program
        .get_mut("holiday_calendars")
        .and_then(Value::as_array_mut)
    else {
        return notices;
    };
    for (i, item) in list.iter_mut().enumerate() {
        let Some(o) = item.as_object_mut() else {
            continue;
        };
        let Some(text) = o.remove("ics") else {
            continue;
        };
        let read = super::ics::parse(text.as_str().unwrap_or_default(), &mut budget)
            .and_then(|c| span.map_or(Ok(Vec::new()), |(from, to)| c.dates(from, to, &mut budget)));
        let mut dates = o
            .get("dates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match read {
            Ok(d) => {
                dates.extend(d.iter().map(|d| json!(d.to_string())));
                notices.push(format!(
                    "program.holiday_calendars[{i}] is stored as iCalendar text, read again at every load: \
                     save the program to store its dates."
                ));
            }
            Err(e) => notices.push(format!(
                "program.holiday_calendars[{i}].ics: {e}. This version does not read it, so the calendar \
                 has none of its dates: apply the program with a calendar it reads."
            )),
        }
        o.insert("dates".into(), Value::Array(dates));
    }
    notices
}

/// A program file (version, `program`, and the `cohorts` of `source` when it
/// has any) with `program` as its program section: how an edit of a stored
/// program, or a template, goes through the file's own validation.
pub fn file_document(source: &Value, program: Value) -> Value {
    let mut doc = json!({ "version": FILE_VERSION, "program": program });
    if let Some(c) = source.get("cohorts").filter(|c| !c.is_null()) {
        doc["cohorts"] = c.clone();
    }
    doc
}

impl ProgramSpec {
    /// Re-reads a stored spec (the `program` and `cohorts` sections). A
    /// program stored before a rule became stricter is brought up to it,
    /// never left unloadable: the change is kept in `notices`.
    pub fn from_stored(value: &Value) -> Result<Self, ConfigErrors> {
        let mut program = value.get("program").cloned().unwrap_or(Value::Null);
        let mut notices = Vec::new();
        if let Some(k) = program
            .get("anonymity_threshold")
            .and_then(Value::as_i64)
            .filter(|k| *k < i64::from(MIN_ANONYMITY_THRESHOLD))
        {
            program["anonymity_threshold"] = json!(MIN_ANONYMITY_THRESHOLD);
            notices.push(format!(
                "program.anonymity_threshold was {k}, below the minimum {MIN_ANONYMITY_THRESHOLD}: \
                 it is {MIN_ANONYMITY_THRESHOLD} now. Save the program to keep the new value."
            ));
        }
        notices.extend(stored_calendars_as_dates(&mut program));
        ProgramFile::from_value(&file_document(value, program)).map(|f| ProgramSpec {
            notices,
            ..f.program
        })
    }

    /// This program as a program file, its program section replaced by `program`.
    pub fn file_with(&self, program: Value) -> Value {
        file_document(&self.source, program)
    }

    /// The pulse question's rule, when the program has one.
    pub fn pulse_rule(&self) -> Option<(&CronRule, &PulseQuestion)> {
        self.recurring
            .iter()
            .find_map(|r| Some((&r.cron, r.question.as_ref()?)))
    }

    pub fn session_count(&self) -> u32 {
        self.sessions.len() as u32
    }

    pub fn planned(&self, number: u32) -> Option<Date> {
        self.sessions
            .iter()
            .find(|s| s.number == number)
            .map(|s| s.planned)
    }

    /// The date after which nothing more follows from sessions up to
    /// `latest_completed` (or planned for someone up to it): the last
    /// session (planned, or completed later)
    /// plus the longest follow-up and its reminder.
    pub fn ends_on(&self, latest_completed: Option<Date>) -> Option<Date> {
        let last = self.last_planned(latest_completed)?;
        let follow_up = self
            .nudges
            .iter()
            .map(|n| n.days_after_session)
            .max()
            .unwrap_or(0)
            + self.reminder_after_days;
        last.checked_add(jiff::Span::new().days(i64::from(follow_up)))
            .ok()
    }

    /// The program's holidays plus those of a participant's calendar.
    pub fn holidays_for(&self, calendar: Option<&str>) -> Vec<Date> {
        let mut out = self.holidays.clone();
        if let Some(c) = calendar.and_then(|k| self.holiday_calendars.iter().find(|c| c.key == k)) {
            out.extend(c.dates.iter().copied());
        }
        out.sort();
        out.dedup();
        out
    }
}

fn stub_program() -> ProgramSpec {
    ProgramSpec {
        key: String::new(),
        name: String::new(),
        target_behaviour: None,
        business_goal: None,
        metrics: MomentumSettings::default(),
        time_zone: None,
        locale: "en".into(),
        sponsor_channel: None,
        welcome: false,
        admins: Vec::new(),
        anonymity_threshold: DEFAULT_ANONYMITY_THRESHOLD,
        quiet_hours: None,
        working_days: WorkingDays::monday_to_friday(),
        themes: vec![],
        sessions: vec![],
        nudges: vec![],
        recurring: vec![],
        self_assessment: None,
        cohorts: vec![],
        holidays: vec![],
        holiday_calendars: vec![],
        bookings_feed: None,
        send_window_hours: None,
        weekly_cap: DEFAULT_WEEKLY_CAP,
        reminder_after_days: DEFAULT_REMINDER_AFTER_DAYS,
        session_confirmation: None,
        source: Value::Null,
        notices: vec![],
    }
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn key_field(f: &Field, errs: &mut ConfigErrors) -> Option<String> {
    let s = f.non_empty_str(errs)?;
    if is_key(&s) {
        Some(s)
    } else {
        errs.push(
            &f.path,
            format!("{s:?} is not a key (lower-case letters, digits, - and _, at most 64)"),
        );
        None
    }
}

/// Dates a program may plan for: a session in year 0001 would make every
/// week since then a week to compute.
pub const DATE_RANGE: (i16, i16) = (2000, 2100);

fn date_field(f: &Field, errs: &mut ConfigErrors) -> Option<Date> {
    let s = f.str(errs)?;
    super::dates::plan_date(&s)
        .map_err(|e| errs.push_error(&f.path, &e))
        .ok()
}

fn time_field(f: &Field, errs: &mut ConfigErrors) -> Option<TimeOfDay> {
    let s = f.str(errs)?;
    TimeOfDay::parse(&s)
        .map_err(|e| errs.push_error(&f.path, &e))
        .ok()
}

fn zone_field(f: &Field, errs: &mut ConfigErrors) -> Option<Zone> {
    let s = f.str(errs)?;
    Zone::parse(&s)
        .map_err(|e| errs.push_error(&f.path, &e))
        .ok()
}

fn int_in(f: &Field, lo: i64, hi: i64, what: &str, errs: &mut ConfigErrors) -> Option<i64> {
    let n = f.int(errs)?;
    if n < lo || n > hi {
        errs.push(&f.path, format!("{n} is out of range: {what}"));
        return None;
    }
    Some(n)
}

fn parse_cohorts(f: &Field, errs: &mut ConfigErrors) -> Vec<Cohort> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for item in f.list(errs).unwrap_or_default() {
        let Some(o) = item.obj(&["key", "name", "sessions"], errs) else {
            continue;
        };
        let key = o.req("key", errs).and_then(|k| key_field(&k, errs));
        let name = o.get("name").and_then(|n| n.non_empty_str(errs));
        let sessions = o
            .get("sessions")
            .map(|s| parse_own_sessions(&s, errs))
            .unwrap_or_default();
        if let Some(key) = key {
            if !seen.insert(key.clone()) {
                errs.push(
                    format!("{}.key", item.path),
                    format!("cohort {key:?} is listed twice"),
                );
                continue;
            }
            out.push(Cohort {
                name: name.unwrap_or_else(|| key.clone()),
                key,
                sessions,
            });
        }
    }
    out
}

const PROGRAM_FIELDS: [&str; 26] = [
    "session_confirmation",
    "key",
    "target_behaviour",
    "business_goal",
    "metrics",
    "welcome",
    "admins",
    "name",
    "time_zone",
    "locale",
    "sponsor_channel",
    "anonymity_threshold",
    "quiet_hours",
    "working_days",
    "themes",
    "sessions",
    "nudges",
    "recurring",
    "self_assessment",
    "description",
    "holidays",
    "holiday_calendars",
    "bookings_feed",
    "send_window_hours",
    "weekly_cap",
    "reminder_after_days",
];

fn parse_program(
    f: &Field,
    cohorts: Vec<Cohort>,
    applied_on: Option<Date>,
    errs: &mut ConfigErrors,
) -> Option<ProgramSpec> {
    let before = errs.len();
    let o = f.obj(&PROGRAM_FIELDS, errs)?;
    let key = o.req("key", errs).and_then(|k| key_field(&k, errs));
    let name = o.req("name", errs).and_then(|n| n.non_empty_str(errs));
    let target_behaviour = o.get("target_behaviour").and_then(|t| hr_text(&t, errs));
    let business_goal = o.get("business_goal").and_then(|t| hr_text(&t, errs));
    let metrics = o
        .get("metrics")
        .map_or(Some(MomentumSettings::default()), |m| {
            parse_metrics(&m, errs)
        });
    let time_zone = o.get("time_zone").and_then(|z| zone_field(&z, errs));
    let locale = match o.get("locale") {
        None => Some("en".to_string()),
        Some(l) => l.str(errs).and_then(|s| {
            if LOCALES.contains(&s.as_str()) {
                Some(s)
            } else {
                errs.push(
                    &l.path,
                    format!(
                        "{s:?} is not a supported language (one of: {})",
                        LOCALES.join(", ")
                    ),
                );
                None
            }
        }),
    };
    let sponsor_channel = o.get("sponsor_channel").and_then(|c| {
        c.str(errs).and_then(|s| {
            ChannelRef::parse(&s)
                .map_err(|e| errs.push_error(&c.path, &e))
                .ok()
        })
    });
    let admins = o
        .get("admins")
        .map(|a| {
            let mut out: Vec<PersonRef> = Vec::new();
            for item in a.list(errs).unwrap_or_default() {
                let parsed = item.str(errs).map(|s| {
                    PersonRef::parse_short(&s).map_err(|e| errs.push_error(&item.path, &e))
                });
                if let Some(Ok(admin)) = parsed {
                    if out.iter().any(|o| o.key() == admin.key()) {
                        errs.push(&item.path, "this admin is listed twice");
                    } else {
                        out.push(admin);
                    }
                }
            }
            out
        })
        .unwrap_or_default();
    let anonymity_threshold = match o.get("anonymity_threshold") {
        None => Some(DEFAULT_ANONYMITY_THRESHOLD),
        Some(k) => int_in(
            &k,
            i64::from(MIN_ANONYMITY_THRESHOLD),
            1000,
            "the anonymity threshold must be between 3 and 1000",
            errs,
        )
        .map(|n| n as u32),
    };
    let quiet_hours = o.get("quiet_hours").and_then(|q| {
        let qo = q.obj(&["from", "to"], errs)?;
        let from = qo.req("from", errs).and_then(|t| time_field(&t, errs));
        let to = qo.req("to", errs).and_then(|t| time_field(&t, errs));
        let (from, to) = (from?, to?);
        if from == to {
            errs.push(&q.path, "quiet hours start and end at the same time");
            return None;
        }
        Some(QuietHours { from, to })
    });
    let working_days = match o.get("working_days") {
        None => WorkingDays::monday_to_friday(),
        Some(w) => {
            let mut days = Vec::new();
            for d in w.list(errs).unwrap_or_default() {
                if let Some(s) = d.str(errs) {
                    match parse_weekday(&s) {
                        Some(day) if days.contains(&day) => {
                            errs.push(&d.path, format!("{} is listed twice", weekday_name(day)))
                        }
                        Some(day) => days.push(day),
                        None => errs.push(
                            &d.path,
                            format!("{s:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"),
                        ),
                    }
                }
            }
            if days.is_empty() {
                errs.push(&w.path, "at least one working day is needed");
            }
            WorkingDays::from_days(&days)
        }
    };
    let themes = o
        .get("themes")
        .map(|t| {
            let mut out: Vec<String> = Vec::new();
            for item in t.list(errs).unwrap_or_default() {
                if let Some(s) = key_field(&item, errs) {
                    if out.contains(&s) {
                        errs.push(&item.path, format!("theme {s:?} is listed twice"));
                    } else {
                        out.push(s);
                    }
                }
            }
            out
        })
        .unwrap_or_default();
    let sessions = o
        .req("sessions", errs)
        .map(|s| parse_sessions(&s, errs))
        .unwrap_or_default();
    let session_numbers: Vec<u32> = sessions.iter().map(|s| s.number).collect();
    for (i, c) in cohorts.iter().enumerate() {
        check_numbers(
            &format!("cohorts[{i}].sessions"),
            &c.sessions,
            sessions.len(),
            errs,
        );
    }
    let nudges = o
        .get("nudges")
        .map(|n| parse_nudges(&n, &session_numbers, errs))
        .unwrap_or_default();
    let recurring = o
        .get("recurring")
        .map(|r| parse_recurring(&r, errs))
        .unwrap_or_default();
    let self_assessment = o
        .get("self_assessment")
        .and_then(|s| parse_self_assessment(&s, &cohorts, errs));
    let holidays = o
        .get("holidays")
        .map(|h| parse_dates(&h, errs))
        .unwrap_or_default();
    let planned: Vec<Date> = sessions
        .iter()
        .chain(cohorts.iter().flat_map(|c| c.sessions.iter()))
        .map(|s| s.planned)
        .collect();
    let span = holiday_span(&planned, applied_on);
    let (holiday_calendars, calendars_as_dates) = o
        .get("holiday_calendars")
        .map(|h| parse_holiday_calendars(&h, span, errs))
        .unwrap_or_default();
    let bookings_feed = o.get("bookings_feed").and_then(|b| {
        let s = b.str(errs)?;
        super::bookings::FeedUrl::parse(&s)
            .map_err(|e| errs.push_error(&b.path, &e))
            .ok()
    });
    let send_window_hours = o
        .get("send_window_hours")
        .and_then(|h| int_in(&h, 1, 72, "the send window is 1 to 72 hours", errs))
        .map(|h| h as u32);
    let weekly_cap = o
        .get("weekly_cap")
        .and_then(|c| {
            int_in(
                &c,
                1,
                100,
                "the weekly cap is 1 to 100 messages per person",
                errs,
            )
        })
        .map_or(DEFAULT_WEEKLY_CAP, |c| c as u32);
    let reminder_after_days = o
        .get("reminder_after_days")
        .and_then(|d| {
            int_in(
                &d,
                0,
                7,
                "a reminder goes 1 to 7 days after the nudge (0: no reminders)",
                errs,
            )
        })
        .map_or(DEFAULT_REMINDER_AFTER_DAYS, |d| d as u32);
    let welcome = match o.get("welcome") {
        None => true,
        Some(w) => match w.value.as_bool() {
            Some(b) => b,
            None => {
                errs.push(&w.path, "must be true or false");
                true
            }
        },
    };
    let session_confirmation = match o.get("session_confirmation") {
        None => Some(DEFAULT_CONFIRMATION_AT),
        Some(c) => match &c.value {
            Value::Bool(false) => None,
            Value::Bool(true) => Some(DEFAULT_CONFIRMATION_AT),
            _ => c
                .obj(&["at"], errs)
                .and_then(|o| o.req("at", errs))
                .and_then(|at| time_field(&at, errs)),
        },
    };
    if errs.len() > before {
        return None;
    }
    let mut source = json!({ "program": f.value.clone() });
    if let Some(list) = calendars_as_dates {
        source["program"]["holiday_calendars"] = list;
    }
    if !cohorts.is_empty() {
        source["cohorts"] = json!(cohorts
            .iter()
            .map(|c| {
                let mut v = json!({"key": c.key, "name": c.name});
                if !c.sessions.is_empty() {
                    v["sessions"] = sessions_json(&c.sessions);
                }
                v
            })
            .collect::<Vec<_>>());
    }
    Some(ProgramSpec {
        key: key?,
        name: name?,
        target_behaviour,
        business_goal,
        metrics: metrics?,
        time_zone,
        locale: locale?,
        sponsor_channel,
        admins,
        anonymity_threshold: anonymity_threshold?,
        quiet_hours,
        working_days,
        themes,
        sessions,
        nudges,
        recurring,
        self_assessment,
        cohorts,
        holidays,
        holiday_calendars,
        bookings_feed,
        send_window_hours,
        weekly_cap,
        reminder_after_days,
        welcome,
        session_confirmation,
        source,
        notices: vec![],
    })
}

/// A list of dates. Every load of a stored program reads its holiday
/// calendars' dates again (thousands, for a long program): a list of plain
/// `YYYY-MM-DD` dates is read without a field for each; any other goes
/// through `date_field`, which names the mistakes.
fn parse_dates(f: &Field, errs: &mut ConfigErrors) -> Vec<Date> {
    let plain: Option<Vec<Date>> = f
        .value
        .as_array()
        .and_then(|items| items.iter().map(|v| plain_date(v.as_str()?)).collect());
    let mut out: Vec<Date> = match plain {
        Some(dates) => dates,
        None => f
            .list(errs)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| date_field(d, errs))
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

/// `2026-12-24`, within [`DATE_RANGE`]; `None` for anything else.
fn plain_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i16> {
        let digits = s.get(from..to)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let d = Date::new(number(0, 4)?, number(5, 7)? as i8, number(8, 10)? as i8).ok()?;
    (DATE_RANGE.0..=DATE_RANGE.1)
        .contains(&d.year())
        .then_some(d)
}

/// How many years past a program's last planned session its iCalendar
/// holiday calendars are expanded to.
pub const HOLIDAY_MARGIN_YEARS: i16 = 2;

/// The dates an iCalendar holiday calendar is expanded over, once, when its
/// program is applied (the stored program keeps these dates, never the
/// iCalendar text): from the earliest planned session, or from the day
/// before the program is applied when that is earlier (the apply date is
/// UTC's; the day before is still today somewhere, and pulses and digests
/// start before the first session), to the last planned session plus
/// [`HOLIDAY_MARGIN_YEARS`]; never outside [`DATE_RANGE`], the dates a
/// program can plan for. Holidays after it are not stored: a program whose
/// sessions move later than that applies its calendar's `ics` again.
/// `None` without planned sessions.
pub fn holiday_span(planned: &[Date], applied_on: Option<Date>) -> Option<(Date, Date)> {
    let first = planned.iter().min()?;
    let last = planned.iter().max()?;
    let from = applied_on
        .and_then(|d| d.checked_sub(jiff::Span::new().days(1)).ok())
        .map_or(*first, |d| d.min(*first));
    let to = last
        .checked_add(jiff::Span::new().years(HOLIDAY_MARGIN_YEARS))
        .unwrap_or(*last);
    let (lo, hi) = (
        jiff::civil::date(DATE_RANGE.0, 1, 1),
        jiff::civil::date(DATE_RANGE.1, 12, 31),
    );
    Some((from.clamp(lo, hi), to.clamp(lo, hi)))
}

/// `{key, dates: [...]}` or `{key, ics: "BEGIN:VCALENDAR…"}` (an iCalendar
/// file's text, at most [`ics::MAX_ICS_BYTES`](super::ics::MAX_ICS_BYTES)),
/// or both; at most [`ics::MAX_DATES`](super::ics::MAX_DATES) dates each.
/// The iCalendar text is read here and expanded over `span`; when any
/// calendar has one, the list is returned again with each `ics` replaced by
/// the dates it gave, for the program's stored source.
fn parse_holiday_calendars(
    f: &Field,
    span: Option<(Date, Date)>,
    errs: &mut ConfigErrors,
) -> (Vec<HolidayCalendar>, Option<Value>) {
    let mut out: Vec<HolidayCalendar> = Vec::new();
    let mut as_dates: Vec<(usize, Value)> = Vec::new();
    let mut had_ics = false;
    let mut budget = super::ics::Budget::default();
    for (i, item) in f.list(errs).unwrap_or_default().into_iter().enumerate() {
        let Some(o) = item.obj(&["key", "dates", "ics"], errs) else {
            continue;
        };
        let key = o.req("key", errs).and_then(|k| key_field(&k, errs));
        let mut dates = o
            .get("dates")
            .map(|d| parse_dates(&d, errs))
            .unwrap_or_default();
        if let Some(ics) = o.get("ics") {
            had_ics = true;
            if let Some(text) = ics.str(errs) {
                let read = super::ics::parse(&text, &mut budget).and_then(|cal| match span {
                    Some((from, to)) => cal.dates(from, to, &mut budget),
                    // No planned sessions: already an error of its own.
                    None => Ok(Vec::new()),
                });
                match read {
                    Ok(d) => dates.extend(d),
                    Err(e) => errs.push_error(&ics.path, &e),
                }
            }
        }
        if o.get("dates").is_none() && o.get("ics").is_none() {
            errs.push(&item.path, "a holiday calendar needs dates or ics");
        }
        dates.sort();
        dates.dedup();
        if dates.len() > super::ics::MAX_DATES {
            errs.push(
                &item.path,
                format!(
                    "{} dates: a holiday calendar has at most {}",
                    dates.len(),
                    super::ics::MAX_DATES
                ),
            );
        }
        if let Some(key) = key {
            if out.iter().any(|c| c.key == key) {
                errs.push(
                    format!("{}.key", item.path),
                    format!("holiday calendar {key:?} is listed twice"),
                );
            } else {
                if o.get("ics").is_some() {
                    let dates: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
                    as_dates.push((i, json!({ "key": key, "dates": dates })));
                }
                out.push(HolidayCalendar { key, dates });
            }
        }
    }
    let source = had_ics.then(|| {
        let mut list = f.value.clone();
        for (i, calendar) in as_dates {
            if let Some(slot) = list.get_mut(i) {
                *slot = calendar;
            }
        }
        list
    });
    (out, source)
}

fn parse_sessions(f: &Field, errs: &mut ConfigErrors) -> Vec<PlannedSession> {
    let items = f.list(errs).unwrap_or_default();
    if items.is_empty() && f.value.is_array() {
        errs.push(&f.path, "a program plans at least one session");
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(o) = item.obj(&["number", "planned"], errs) else {
            continue;
        };
        let expected = i as i64 + 1;
        let number = o.req("number", errs).and_then(|n| {
            let v = n.int(errs)?;
            if v != expected {
                errs.push(
                    &n.path,
                    format!("sessions are numbered 1..N in order: expected {expected}, found {v}"),
                );
                return None;
            }
            Some(v as u32)
        });
        let planned = o.req("planned", errs).and_then(|d| date_field(&d, errs));
        if let (Some(number), Some(planned)) = (number, planned) {
            if let Some(prev) = out.last().map(|p: &PlannedSession| p.planned) {
                if planned < prev {
                    errs.push(
                        format!("{}.planned", item.path),
                        format!("session {number} is planned before session {}", number - 1),
                    );
                }
            }
            out.push(PlannedSession { number, planned });
        }
    }
    out
}

/// A cohort's or a participant's own dates: any of the program's sessions,
/// each once, in any order.
fn parse_own_sessions(f: &Field, errs: &mut ConfigErrors) -> Vec<PlannedSession> {
    let mut out: Vec<PlannedSession> = Vec::new();
    for item in f.list(errs).unwrap_or_default() {
        let Some(o) = item.obj(&["number", "planned"], errs) else {
            continue;
        };
        let number = o.req("number", errs).and_then(|n| {
            let v = n.int(errs)?;
            if v < 1 {
                errs.push(&n.path, format!("session numbers start at 1, found {v}"));
                return None;
            }
            if out.iter().any(|s| i64::from(s.number) == v) {
                errs.push(&n.path, format!("session {v} is listed twice"));
                return None;
            }
            u32::try_from(v).ok()
        });
        let planned = o.req("planned", errs).and_then(|d| date_field(&d, errs));
        if let (Some(number), Some(planned)) = (number, planned) {
            out.push(PlannedSession { number, planned });
        }
    }
    out.sort_by_key(|s| s.number);
    out
}

/// Own dates may only name sessions the program plans.
fn check_numbers(path: &str, list: &[PlannedSession], planned: usize, errs: &mut ConfigErrors) {
    for s in list.iter().filter(|s| s.number as usize > planned) {
        errs.push(
            path,
            format!(
                "session {} is not planned (the program plans sessions 1..{planned})",
                s.number
            ),
        );
    }
}

/// Dates as a program file lists them.
pub fn sessions_json(list: &[PlannedSession]) -> Value {
    json!(list
        .iter()
        .map(|s| json!({"number": s.number, "planned": s.planned.to_string()}))
        .collect::<Vec<_>>())
}

fn parse_nudges(f: &Field, planned: &[u32], errs: &mut ConfigErrors) -> Vec<NudgeRule> {
    let mut out: Vec<NudgeRule> = Vec::new();
    for item in f.list(errs).unwrap_or_default() {
        let Some(o) = item.obj(&["kind", "days_after_session", "at", "sessions"], errs) else {
            continue;
        };
        let kind = o.req("kind", errs).and_then(|k| {
            let s = k.str(errs)?;
            NudgeKind::parse(&s).or_else(|| {
                errs.push(
                    &k.path,
                    format!(
                        "{s:?} is not a nudge kind (one of: {})",
                        NudgeKind::NAMES.join(", ")
                    ),
                );
                None
            })
        });
        let days = o.req("days_after_session", errs).and_then(|d| {
            int_in(
                &d,
                0,
                366,
                "days after the session must be 0 or more (at most 366)",
                errs,
            )
        });
        let at = o.req("at", errs).and_then(|t| time_field(&t, errs));
        let sessions = o.get("sessions").map(|s| {
            let mut nums = Vec::new();
            for n in s.list(errs).unwrap_or_default() {
                if let Some(v) = n.int(errs) {
                    if v < 1 || !planned.contains(&(v as u32)) {
                        errs.push(
                            &n.path,
                            format!(
                                "session {v} is not planned (the program plans sessions 1..{})",
                                planned.len()
                            ),
                        );
                    } else if nums.contains(&(v as u32)) {
                        errs.push(&n.path, format!("session {v} is listed twice"));
                    } else {
                        nums.push(v as u32);
                    }
                }
            }
            nums
        });
        if let (Some(kind), Some(days), Some(at)) = (kind, days, at) {
            let rule = NudgeRule {
                kind,
                days_after_session: days as u32,
                at,
                sessions,
            };
            if out
                .iter()
                .any(|r| r.kind == rule.kind && r.days_after_session == rule.days_after_session)
            {
                errs.push(
                    &item.path,
                    "another rule of this kind already fires this many days after the session",
                );
            }
            out.push(rule);
        }
    }
    out
}

fn parse_recurring(f: &Field, errs: &mut ConfigErrors) -> Vec<RecurringRule> {
    let mut out: Vec<RecurringRule> = Vec::new();
    for item in f.list(errs).unwrap_or_default() {
        let Some(o) = item.obj(&["purpose", "cron", "question", "scale"], errs) else {
            continue;
        };
        let purpose = o.req("purpose", errs).and_then(|p| {
            let s = p.str(errs)?;
            match s.as_str() {
                "digest" => Some(RecurringPurpose::Digest),
                "pulse" => Some(RecurringPurpose::Pulse),
                _ => {
                    errs.push(
                        &p.path,
                        format!("{s:?} is not a recurring purpose (digest or pulse)"),
                    );
                    None
                }
            }
        });
        let cron = o.req("cron", errs).and_then(|c| {
            let s = c.str(errs)?;
            CronRule::parse(&s)
                .map_err(|e| errs.push_error(&c.path, &e))
                .ok()
        });
        let question = match purpose {
            Some(RecurringPurpose::Pulse) => {
                let text = o.req("question", errs).and_then(|q| hr_text(&q, errs));
                let scale = o
                    .get("scale")
                    .map_or(Some((1, 5)), |s| scale_field(&s, errs));
                if out.iter().any(|r| r.purpose == RecurringPurpose::Pulse) {
                    errs.push(
                        &item.path,
                        "a program asks one pulse question: this is a second",
                    );
                }
                match (text, scale) {
                    (Some(text), Some((min, max))) => Some(PulseQuestion {
                        text,
                        scale_min: min,
                        scale_max: max,
                    }),
                    _ => None,
                }
            }
            _ => {
                for extra in ["question", "scale"] {
                    if let Some(x) = o.get(extra) {
                        errs.push(&x.path, "only a pulse rule asks a question");
                    }
                }
                None
            }
        };
        if let (Some(purpose), Some(cron)) = (purpose, cron) {
            if purpose == RecurringPurpose::Pulse && question.is_none() {
                continue;
            }
            out.push(RecurringRule {
                purpose,
                cron,
                question,
            });
        }
    }
    out
}

/// A scale `{min, max}` that goes up, by at most 100 steps.
fn scale_field(s: &Field, errs: &mut ConfigErrors) -> Option<(i64, i64)> {
    let so = s.obj(&["min", "max"], errs)?;
    let min = so.req("min", errs).and_then(|m| m.int(errs));
    let max = so.req("max", errs).and_then(|m| m.int(errs));
    let (min, max) = (min?, max?);
    if max <= min || max - min > 100 {
        errs.push(
            &s.path,
            format!("the scale {min}..{max} must go up, by at most 100 steps"),
        );
        return None;
    }
    Some((min, max))
}

/// A short text HR writes about the program (at most 280 characters).
fn hr_text(f: &Field, errs: &mut ConfigErrors) -> Option<String> {
    let s = f.non_empty_str(errs)?;
    if s.chars().count() > 280 {
        errs.push(&f.path, "at most 280 characters");
        return None;
    }
    Some(s.trim().to_string())
}

/// `metrics: {alpha, dropping_points, dropping_share, dropping_weeks}`.
fn parse_metrics(f: &Field, errs: &mut ConfigErrors) -> Option<MomentumSettings> {
    let o = f.obj(
        &[
            "alpha",
            "dropping_points",
            "dropping_share",
            "dropping_weeks",
        ],
        errs,
    )?;
    let before = errs.len();
    let d = MomentumSettings::default();
    let fraction = |key: &str, lo_exclusive: f64, what: &str, errs: &mut ConfigErrors| {
        let field = o.get(key)?;
        let x = field.float(errs)?;
        if !(x > lo_exclusive && x <= 1.0) {
            errs.push(&field.path, format!("{x} is out of range: {what}"));
            return None;
        }
        Some(x)
    };
    let alpha = fraction("alpha", 0.0, "α is more than 0 and at most 1", errs);
    let share = fraction(
        "dropping_share",
        0.0,
        "the share is more than 0 and at most 1 (0.3 = 30 %)",
        errs,
    );
    let points = o
        .get("dropping_points")
        .and_then(|p| int_in(&p, 1, 100, "dropping points are 1 to 100", errs));
    let weeks = o.get("dropping_weeks").and_then(|w| {
        int_in(
            &w,
            1,
            12,
            "the dropping rule looks back 1 to 12 prompted weeks",
            errs,
        )
    });
    (errs.len() == before).then(|| MomentumSettings {
        alpha: alpha.unwrap_or(d.alpha),
        dropping_points: points.map_or(d.dropping_points, |p| p as u32),
        dropping_share: share.unwrap_or(d.dropping_share),
        dropping_weeks: weeks.map_or(d.dropping_weeks, |w| w as u32),
    })
}

fn parse_self_assessment(
    f: &Field,
    cohorts: &[Cohort],
    errs: &mut ConfigErrors,
) -> Option<SelfAssessment> {
    let o = f.obj(
        &[
            "question",
            "scale",
            "days",
            "at",
            "manager_question",
            "manager_days",
            "comparison_cohort",
        ],
        errs,
    )?;
    let question = o.req("question", errs).and_then(|q| q.non_empty_str(errs));
    let scale = o.req("scale", errs).and_then(|s| scale_field(&s, errs));
    let days = o
        .get("days")
        .map_or(Some(vec![0, 30, 60, 90]), |d| pulse_days(&d, errs));
    if let (Some(d), Some(f)) = (&days, o.get("days")) {
        if d.first() != Some(&0) {
            errs.push(
                &f.path,
                "the first day must be 0: the baseline the shift is measured from",
            );
        }
    }
    let manager_days = o
        .get("manager_days")
        .map_or(Some(vec![60, 90]), |d| pulse_days(&d, errs));
    let at = o.get("at").map_or(
        Some(TimeOfDay {
            hour: 10,
            minute: 0,
        }),
        |t| time_field(&t, errs),
    );
    let manager_question = match o.get("manager_question") {
        None => Some(
            "How much change have you observed in their leadership since the program began?"
                .to_string(),
        ),
        Some(q) => q.non_empty_str(errs),
    };
    let comparison_cohort = o.get("comparison_cohort").and_then(|c| {
        let key = c.non_empty_str(errs)?;
        if !cohorts.iter().any(|x| x.key == key) {
            errs.push(
                &c.path,
                format!("{key:?} is not one of the program's cohorts"),
            );
            return None;
        }
        Some(key)
    });
    let (min, max) = scale?;
    Some(SelfAssessment {
        question: question?,
        scale_min: min,
        scale_max: max,
        days: days?,
        at: at?,
        manager_question: manager_question?,
        manager_days: manager_days?,
        comparison_cohort,
    })
}

/// Days after the first completed session, in increasing order.
fn pulse_days(d: &Field, errs: &mut ConfigErrors) -> Option<Vec<u32>> {
    let mut out: Vec<u32> = Vec::new();
    for item in d.list(errs).unwrap_or_default() {
        if let Some(n) = int_in(&item, 0, 730, "days must be 0 (baseline) to 730", errs) {
            if out.last().is_some_and(|last| *last >= n as u32) {
                errs.push(&item.path, "days must be listed in increasing order");
            }
            out.push(n as u32);
        }
    }
    Some(out)
}

const PARTICIPANT_FIELDS: [&str; 10] = [
    "sessions",
    "name",
    "email",
    "chat",
    "manager",
    "focus",
    "time_zone",
    "share_focus_with_manager",
    "cohort",
    "holidays",
];

fn person_ref(o: &Obj, path: &str, errs: &mut ConfigErrors) -> Option<PersonRef> {
    let email = o.get("email").and_then(|e| {
        e.str(errs).and_then(|s| {
            Email::parse(&s)
                .map_err(|m| errs.push_error(&e.path, &m))
                .ok()
        })
    });
    let chat = o.get("chat").and_then(|c| {
        c.str(errs).and_then(|s| {
            ChatIdentity::parse(&s)
                .map_err(|e| errs.push_error(&c.path, &e))
                .ok()
        })
    });
    let name = o.get("name").and_then(|n| n.non_empty_str(errs));
    if email.is_none() && chat.is_none() {
        if o.get("email").is_none() && o.get("chat").is_none() {
            errs.push(path, "needs an email or a chat identity");
        }
        return None;
    }
    Some(PersonRef { email, chat, name })
}

fn parse_participants(
    f: &Field,
    program: &ProgramSpec,
    errs: &mut ConfigErrors,
) -> Vec<ParticipantSpec> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for item in f.list(errs).unwrap_or_default() {
        let Some(o) = item.obj(&PARTICIPANT_FIELDS, errs) else {
            continue;
        };
        let person = person_ref(&o, &item.path, errs);
        let manager = o.get("manager").and_then(|m| match &m.value {
            Value::String(s) => PersonRef::parse_short(s)
                .map_err(|e| errs.push_error(&m.path, &e))
                .ok(),
            _ => {
                let mo = m.obj(&["name", "email", "chat"], errs)?;
                person_ref(&mo, &m.path, errs)
            }
        });
        let focus = o.get("focus").and_then(|t| {
            let s = key_field(&t, errs)?;
            if !program.themes.is_empty() && !program.themes.contains(&s) {
                errs.push(
                    &t.path,
                    format!(
                        "{s:?} is not one of the program's themes ({})",
                        program.themes.join(", ")
                    ),
                );
                return None;
            }
            Some(s)
        });
        let time_zone = o.get("time_zone").and_then(|z| zone_field(&z, errs));
        let share = o
            .get("share_focus_with_manager")
            .and_then(|s| s.bool(errs))
            .unwrap_or(false);
        let cohort = o.get("cohort").and_then(|c| {
            let s = key_field(&c, errs)?;
            if !program.cohorts.iter().any(|k| k.key == s) && !program.key.is_empty() {
                errs.push(&c.path, format!("cohort {s:?} is not listed under cohorts"));
                return None;
            }
            Some(s)
        });
        let holidays = o.get("holidays").and_then(|h| {
            let s = key_field(&h, errs)?;
            if !program.holiday_calendars.iter().any(|c| c.key == s) && !program.key.is_empty() {
                errs.push(
                    &h.path,
                    format!("holiday calendar {s:?} is not listed under program.holiday_calendars"),
                );
                return None;
            }
            Some(s)
        });
        let sessions = o.get("sessions").map(|s| {
            let list = parse_own_sessions(&s, errs);
            if !program.key.is_empty() {
                check_numbers(&s.path, &list, program.sessions.len(), errs);
            }
            list
        });
        let Some(person) = person else { continue };
        for k in [
            person.email.as_ref().map(|e| format!("email:{e}")),
            person.chat.as_ref().map(|c| c.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(first) = seen.get(&k) {
                errs.push(
                    &item.path,
                    format!("duplicate participant: the same person as {first}"),
                );
            } else {
                seen.insert(k, item.path.clone());
            }
        }
        if let Some(m) = &manager {
            if (m.email.is_some() && m.email == person.email)
                || (m.chat.is_some() && m.chat == person.chat)
            {
                errs.push(
                    format!("{}.manager", item.path),
                    "a participant cannot be their own manager",
                );
            }
        }
        out.push(ParticipantSpec {
            person,
            manager,
            focus,
            time_zone,
            share_focus_with_manager: share,
            cohort,
            holidays,
            sessions,
        });
    }
    out
}
