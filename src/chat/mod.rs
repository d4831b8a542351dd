//! The chat port: a platform-neutral way to reach people. The core says
//! *what* to send (`Message`); adapters say *how* on their platform (Block
//! Kit for Slack; Adaptive Cards for Teams), from `templates/`.

pub mod proxy;
#[cfg(feature = "local")]
pub mod sim;
pub mod slack;
pub mod teams;

use crate::domain::{
    Answer, ChatIdentity, CheckinAnswer, JobId, JobPurpose, ParticipantId, Platform,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What a nudge says about the participant's small step: shown only to
/// its author, in their own DM.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StepView {
    /// Nothing about a step (a follow-up to a session without one).
    #[default]
    Unnamed,
    /// Ask for the step, offering these suggestions for their focus.
    Ask(Vec<String>),
    /// The step they named.
    Named(String),
    /// "No step this time".
    Declined,
}

impl StepView {
    fn state(&self) -> &'static str {
        match self {
            StepView::Unnamed => "none",
            StepView::Ask(_) => "ask",
            StepView::Named(_) => "named",
            StepView::Declined => "declined",
        }
    }
}

/// One report in a manager's message, answered on its own (the buttons
/// carry `job_id`): the name, and the focus theme only with the
/// participant's consent; never their steps, reports or notes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow<A> {
    pub job_id: JobId,
    pub participant: String,
    pub program: String,
    pub theme: Option<String>,
    pub recorded: Option<A>,
}

impl<A> ReportRow<A> {
    fn context(&self, recorded: Option<minijinja::Value>) -> minijinja::Value {
        minijinja::context! {
            job_id => self.job_id, participant => self.participant, program => self.program,
            theme => self.theme, recorded,
        }
    }
}

/// What the core wants to tell someone. Rendering is the adapter's job.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A participant's nudge with the one-tap report buttons.
    Nudge {
        job_id: JobId,
        purpose: JobPurpose,
        program: String,
        session: u32,
        recorded: Option<Answer>,
        /// When a snoozed nudge comes back, in the participant's words of time.
        snoozed_until: Option<String>,
        /// Set when this is the reminder (that job's id): the buttons still
        /// answer `job_id`.
        reminder_job: Option<JobId>,
        /// The small step: asked for (after a session), or repeated back.
        step: StepView,
        locale: String,
    },
    /// A manager's check-in: every report due that day, a row each (one
    /// row for one report); `job_id` is the job that carries the message.
    Checkin {
        job_id: JobId,
        rows: Vec<ReportRow<CheckinAnswer>>,
        reminder_job: Option<JobId>,
        locale: String,
    },
    /// A manager's observations on the self-assessment scale: every report
    /// due that day, a row each.
    Observations {
        job_id: JobId,
        question: String,
        min: i64,
        max: i64,
        rows: Vec<ReportRow<i64>>,
        reminder_job: Option<JobId>,
        locale: String,
    },
    /// A value on the program's self-assessment scale: the participant's
    /// self-assessment, or the manager's observation of a participant.
    Assessment {
        job_id: JobId,
        /// True for the participant's own; false for the manager's observation.
        own: bool,
        program: String,
        question: String,
        /// Whom the manager is asked about.
        about: Option<String>,
        min: i64,
        max: i64,
        recorded: Option<i64>,
        reminder_job: Option<JobId>,
        locale: String,
    },
    /// The pulse question: one tap on its own scale.
    Pulse {
        job_id: JobId,
        program: String,
        question: String,
        min: i64,
        max: i64,
        recorded: Option<i64>,
        locale: String,
    },
    /// The welcome on enrolment: what is recorded, who sees what, how to
    /// stop, and the button that opens the focus form.
    Welcome {
        job_id: JobId,
        participant_id: ParticipantId,
        program: String,
        locale: String,
    },
    /// On a participant's planned date: did session N happen? Yes / it
    /// moved to a date / cancelled, or what they said.
    SessionCheck {
        job_id: JobId,
        program: String,
        session: u32,
        /// The planned date asked about (YYYY-MM-DD).
        planned: String,
        answered: Option<SessionAnswer>,
        locale: String,
    },
    /// The weekly digest for the sponsors' channel: aggregates only.
    Digest {
        job_id: JobId,
        program: String,
        digest: Box<crate::domain::metrics::digest::Digest>,
        /// The week's chart, uploaded to the platform (its file id).
        chart_file: Option<String>,
        locale: String,
    },
}

/// A screen rather than a message: Slack's home tab and modals (Teams has
/// neither; its adapter answers with a card instead).
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// A person's home tab: their own progress and, for a program's HR
    /// admins, its health and last digest. The context is what the template
    /// reads (`overview`, `programs`, `digests`).
    Home {
        context: serde_json::Value,
        locale: String,
    },
    /// The private-note form, about one nudge or none.
    NoteForm {
        job_id: Option<JobId>,
        locale: String,
    },
    /// The participant's focus form (onboarding): goal, context, main
    /// blocker, a focus theme and consent to share it with their manager.
    /// Context: `participant_id`, `program`, `themes`, `focus`, `share`.
    OnboardingForm {
        context: serde_json::Value,
        locale: String,
    },
    /// A self-assessment or manager observation as a form: the message's
    /// question and scale, answered with one choice.
    AssessmentForm { pulse: Message },
    /// HR's cadence editor for one program (`key`, `name`, `nudges` as
    /// lines, `quiet_hours`, `working_days`, `reminder_after_days`).
    CadenceForm {
        context: serde_json::Value,
        locale: String,
    },
}

impl Message {
    /// The template that words this message (the same name on every
    /// platform, under `templates/<platform>/<locale>/`), its context and
    /// locale. A digest's chart is `chart_file` (Slack's file id) and
    /// `chart_url` (an image URL, for Teams): whichever the platform uploaded.
    pub fn template(&self) -> (&'static str, minijinja::Value, &str) {
        use minijinja::context;
        match self {
            Message::Nudge {
                job_id,
                purpose,
                program,
                session,
                recorded,
                snoozed_until,
                reminder_job,
                step,
                locale,
            } => (
                "nudge.json",
                context! {
                    job_id, purpose => purpose.as_str(), program, session,
                    recorded => recorded.map(|a| a.as_str()), snoozed_until,
                    reminder => reminder_job.is_some(),
                    step_state => step.state(),
                    step => match step { StepView::Named(s) => Some(s.as_str()), _ => None },
                    suggestions => match step { StepView::Ask(s) => s.clone(), _ => Vec::new() },
                    step_max => crate::domain::STEP_MAX_CHARS,
                },
                locale,
            ),
            Message::Checkin {
                job_id,
                rows,
                reminder_job,
                locale,
            } => (
                "checkin.json",
                context! {
                    job_id, reminder => reminder_job.is_some(),
                    rows => rows.iter().map(|r| r.context(r.recorded.map(|a| a.as_str().into()))).collect::<Vec<_>>(),
                },
                locale,
            ),
            Message::Observations {
                job_id,
                question,
                min,
                max,
                rows,
                reminder_job,
                locale,
            } => (
                "observations.json",
                context! {
                    job_id, question, min, max, reminder => reminder_job.is_some(),
                    rows => rows.iter().map(|r| r.context(r.recorded.map(Into::into))).collect::<Vec<_>>(),
                },
                locale,
            ),
            Message::Assessment {
                job_id,
                own,
                program,
                question,
                about,
                min,
                max,
                recorded,
                reminder_job,
                locale,
            } => (
                "assessment.json",
                context! {
                    job_id, own, program, question, about, min, max, recorded,
                    reminder => reminder_job.is_some(),
                },
                locale,
            ),
            Message::Pulse {
                job_id,
                program,
                question,
                min,
                max,
                recorded,
                locale,
            } => (
                "pulse.json",
                context! { job_id, program, question, min, max, recorded, reminder => false },
                locale,
            ),
            Message::Welcome {
                participant_id,
                program,
                locale,
                ..
            } => ("welcome.json", context! { participant_id, program }, locale),
            Message::SessionCheck {
                job_id,
                program,
                session,
                planned,
                answered,
                locale,
            } => (
                "session_check.json",
                context! {
                    job_id, program, session, planned,
                    answered => answered.as_ref().map(SessionAnswer::kind),
                    moved_to => match answered { Some(SessionAnswer::MovedTo(d)) => Some(d.to_string()), _ => None },
                },
                locale,
            ),
            Message::Digest {
                program,
                digest,
                chart_file,
                locale,
                ..
            } => (
                "digest.json",
                context! { d => digest, program, chart_file, chart_url => chart_file },
                locale,
            ),
        }
    }

    /// The job that delivers this message (the reminder's own job for a
    /// reminder), which the platform's metadata carries.
    pub fn delivery_job_id(&self) -> JobId {
        match self {
            Message::Nudge {
                job_id,
                reminder_job,
                ..
            }
            | Message::Checkin {
                job_id,
                reminder_job,
                ..
            }
            | Message::Observations {
                job_id,
                reminder_job,
                ..
            }
            | Message::Assessment {
                job_id,
                reminder_job,
                ..
            } => reminder_job.unwrap_or(*job_id),
            Message::Digest { job_id, .. }
            | Message::SessionCheck { job_id, .. }
            | Message::Welcome { job_id, .. }
            | Message::Pulse { job_id, .. } => *job_id,
        }
    }
}

/// What a participant said about a session on its planned date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAnswer {
    Happened,
    MovedTo(jiff::civil::Date),
    Cancelled,
}

impl SessionAnswer {
    pub fn kind(&self) -> &'static str {
        match self {
            SessionAnswer::Happened => "happened",
            SessionAnswer::MovedTo(_) => "moved",
            SessionAnswer::Cancelled => "cancelled",
        }
    }
}

/// Where a sent message lives, so it can be updated after a tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub channel: String,
    pub ts: String,
}

/// A person as the chat platform knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatUser {
    pub identity: ChatIdentity,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub deleted: bool,
    pub is_bot: bool,
    /// What the person's status says, for out of office.
    pub status: ChatStatus,
}

/// One page of a workspace's people (Slack's `users.list`), and where the
/// next page starts (`None`: that was the last).
#[derive(Debug, Clone, Default)]
pub struct DirectoryPage {
    pub users: Vec<ChatUser>,
    pub next: Option<String>,
}

/// What resolving people costs on a platform: how many calls a minute it
/// allows for one look-up by email and for one page of its directory, and
/// how many people a page holds. Route choice weighs calls by these paces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolutionCosts {
    pub lookups_per_minute: u32,
    /// `None`: the platform has no directory to sweep.
    pub pages_per_minute: Option<u32>,
    pub page_size: usize,
    /// Whether this client waits between calls (off against the local
    /// workspace without limits): a waiting client makes a long job slow.
    pub paced: bool,
}

/// A person's chat status ("Vacationing", ":palm_tree:", until Friday).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatStatus {
    pub text: String,
    pub emoji: String,
    pub expires: Option<jiff::Timestamp>,
}

impl ChatStatus {
    /// Until when it says the person is away, if it does.
    pub fn away_until(&self, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
        crate::domain::away::away_until(&self.text, &self.emoji, self.expires, now)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ChatError {
    /// Worth trying again later: a timeout, a 5xx, a network failure.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The platform asked to slow down.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    /// Will not succeed by retrying: the reason HR sees (e.g. `user_not_found`).
    #[error("{0}")]
    Permanent(String),
    /// A message may or may not have been delivered (the request left, no
    /// answer came): check before sending it again.
    #[error("outcome unknown: {0}")]
    Uncertain(String),
    /// The platform cannot tell whether a message arrived (no history for bots).
    #[error("this platform cannot confirm delivery")]
    Unverifiable,
}

#[async_trait]
pub trait ChatPort: Send + Sync + 'static {
    fn platform(&self) -> Platform;
    /// The workspace (Slack team, Teams tenant) this port speaks for.
    fn workspace(&self) -> &str;
    /// Sends a direct message to a person.
    async fn send_direct(
        &self,
        to: &ChatIdentity,
        message: &Message,
    ) -> Result<Delivered, ChatError>;
    /// Posts to a channel (the sponsors' channel, for the digest).
    async fn post_to_channel(
        &self,
        channel: &str,
        message: &Message,
    ) -> Result<Delivered, ChatError>;
    /// Uploads an image without sharing it anywhere; returns its id, for a
    /// message to show it (the digest's chart).
    async fn upload_image(
        &self,
        filename: &str,
        title: &str,
        png: Vec<u8>,
    ) -> Result<String, ChatError> {
        let _ = (filename, title, png);
        Err(ChatError::Permanent(
            "this platform takes no uploaded images".into(),
        ))
    }
    /// Sends a person a file in their direct messages (the download of
    /// their own data).
    async fn send_file(
        &self,
        to: &ChatIdentity,
        filename: &str,
        title: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ChatError> {
        let _ = (to, filename, title, bytes);
        Err(ChatError::Permanent("this platform takes no files".into()))
    }
    /// Every person's chat language in the workspace, by user id (one sweep:
    /// the email look-up does not tell it). Platforms without it say so.
    async fn languages(&self) -> Result<HashMap<String, String>, ChatError> {
        Err(ChatError::Permanent(
            "this platform lists no languages".into(),
        ))
    }
    /// What resolving people by email costs here (published paces).
    fn resolution_costs(&self) -> ResolutionCosts {
        ResolutionCosts {
            lookups_per_minute: 60,
            pages_per_minute: None,
            page_size: 0,
            paced: false,
        }
    }
    /// One page of the workspace's people with their emails, zones and
    /// languages (`cursor` from the previous page). Platforms without a
    /// directory say so.
    async fn directory_page(
        &self,
        cursor: Option<&str>,
        size: usize,
    ) -> Result<DirectoryPage, ChatError> {
        let _ = (cursor, size);
        Err(ChatError::Permanent(
            "this platform has no directory to sweep".into(),
        ))
    }
    /// Shows a person their home tab.
    async fn publish_home(&self, to: &ChatIdentity, view: &View) -> Result<(), ChatError> {
        let _ = (to, view);
        Err(ChatError::Permanent("this platform has no home tab".into()))
    }
    /// Opens a form for the person who just acted (`trigger` comes with
    /// their action and is short-lived).
    async fn open_form(&self, trigger: &str, view: &View) -> Result<(), ChatError> {
        let _ = (trigger, view);
        Err(ChatError::Permanent("this platform has no forms".into()))
    }
    /// Shows `to` a line only they see, in `channel` where they just acted
    /// (an answer to a button that no longer does anything, say).
    async fn tell_privately(
        &self,
        channel: &str,
        to: &ChatIdentity,
        text: &str,
    ) -> Result<(), ChatError> {
        let _ = (channel, to, text);
        Err(ChatError::Permanent(
            "this platform has no messages only one person sees".into(),
        ))
    }
    /// Replaces a sent message, e.g. to show what was recorded.
    async fn update(&self, at: &Delivered, message: &Message) -> Result<(), ChatError>;
    /// Finds the chat user with this work email, if any.
    async fn lookup_by_email(&self, email: &str) -> Result<Option<ChatUser>, ChatError>;
    /// How many emails [`ChatPort::lookup_many`] asks about in one call.
    fn lookups_per_call(&self) -> usize {
        1
    }
    /// The chat users with these work emails, in their order, asked in one
    /// call where the platform can (Graph's JSON batching); by default one
    /// look-up each.
    async fn lookup_many(&self, emails: &[String]) -> Result<Vec<Option<ChatUser>>, ChatError> {
        let mut found = Vec::with_capacity(emails.len());
        for email in emails {
            found.push(self.lookup_by_email(email).await?);
        }
        Ok(found)
    }
    async fn user_info(&self, who: &ChatIdentity) -> Result<ChatUser, ChatError>;
    /// Finds a message sent for `job_id` to `to` since `since`, after a send
    /// whose outcome was unknown. Platforms without a history say `Unverifiable`.
    async fn find_sent(
        &self,
        to: &ChatIdentity,
        job_id: JobId,
        since: jiff::Timestamp,
    ) -> Result<Option<Delivered>, ChatError> {
        let _ = (to, job_id, since);
        Err(ChatError::Unverifiable)
    }
    /// The same look-up in a channel.
    async fn find_sent_in_channel(
        &self,
        channel: &str,
        job_id: JobId,
        since: jiff::Timestamp,
    ) -> Result<Option<Delivered>, ChatError> {
        let _ = (channel, job_id, since);
        Err(ChatError::Unverifiable)
    }
}

/// The chat ports this process can use, by platform and workspace. Shared
/// and changeable while running: a workspace that installs the app through
/// OAuth is added, one that uninstalls it is removed.
#[derive(Clone, Default)]
pub struct Chats {
    ports: Arc<RwLock<PortMap>>,
    /// Connections configured but not made yet (the platform was not
    /// reachable at start): what, and why not.
    connecting: Arc<RwLock<Vec<(String, String)>>>,
}

type PortMap = HashMap<(Platform, String), Arc<dyn ChatPort>>;

impl Chats {
    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<(Platform, String), Arc<dyn ChatPort>>> {
        // A panic while holding the lock leaves a consistent map: keep going.
        self.ports.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, port: Arc<dyn ChatPort>) {
        self.ports
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((port.platform(), port.workspace().to_string()), port);
    }

    /// Forgets a workspace's port; true when there was one.
    pub fn remove(&self, platform: Platform, workspace: &str) -> bool {
        self.ports
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(platform, workspace.to_string()))
            .is_some()
    }

    pub fn for_workspace(&self, platform: Platform, workspace: &str) -> Option<Arc<dyn ChatPort>> {
        self.read().get(&(platform, workspace.to_string())).cloned()
    }

    pub fn for_identity(&self, who: &ChatIdentity) -> Option<Arc<dyn ChatPort>> {
        self.for_workspace(who.platform, &who.workspace)
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Records that `what` (e.g. "Slack (SLACK_BOT_TOKEN)") is configured
    /// but not connected yet, and why.
    pub fn connecting(&self, what: &str, why: &str) {
        let mut c = self.connecting.write().unwrap_or_else(|p| p.into_inner());
        c.retain(|(w, _)| w != what);
        c.push((what.to_string(), why.to_string()));
    }

    /// `what` is connected now (its port added).
    pub fn connected(&self, what: &str) {
        self.connecting
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(w, _)| w != what);
    }

    /// Connections still being tried, with why each is not made yet.
    pub fn not_connected(&self) -> Vec<(String, String)> {
        self.connecting
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A manager's day message about three reports: Jana shares her focus,
    /// Petr does not, Eva's row is answered (`max` is the scale's top,
    /// observations only).
    pub fn manager_day(observations: bool, max: i64, locale: &str) -> Message {
        let row = |job_id: i64, participant: &str, theme: Option<&str>| ReportRow {
            job_id: JobId(job_id),
            participant: participant.into(),
            program: "Leaders".into(),
            theme: theme.map(String::from),
            recorded: None,
        };
        let people = [
            row(11, "Jana", Some("delegation")),
            row(12, "Petr", None),
            row(13, "Eva", Some("feedback")),
        ];
        if observations {
            let mut rows: Vec<ReportRow<i64>> = people.into();
            rows[2].recorded = Some(3);
            Message::Observations {
                job_id: JobId(11),
                question: "How much change have you seen?".into(),
                min: 1,
                max,
                rows,
                reminder_job: Some(JobId(20)),
                locale: locale.into(),
            }
        } else {
            let mut rows: Vec<ReportRow<CheckinAnswer>> = people
                .into_iter()
                .map(|r| ReportRow {
                    recorded: None,
                    job_id: r.job_id,
                    participant: r.participant,
                    program: r.program,
                    theme: r.theme,
                })
                .collect();
            rows[2].recorded = Some(CheckinAnswer::WillSupport);
            Message::Checkin {
                job_id: JobId(11),
                rows,
                reminder_job: Some(JobId(20)),
                locale: locale.into(),
            }
        }
    }
}
