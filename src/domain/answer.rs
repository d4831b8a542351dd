//! What a participant or manager can answer with one tap, and what each job is for.

use std::fmt;

/// A participant's one-tap report on a small step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    Done,
    Partly,
    NotYet,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Done, Answer::Partly, Answer::NotYet];

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Done => "done",
            Answer::Partly => "partly",
            Answer::NotYet => "not_yet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A manager's answer to a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckinAnswer {
    Supported,
    WillSupport,
    NotThisTime,
}

impl CheckinAnswer {
    pub const ALL: [CheckinAnswer; 3] = [
        CheckinAnswer::Supported,
        CheckinAnswer::WillSupport,
        CheckinAnswer::NotThisTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckinAnswer::Supported => "supported",
            CheckinAnswer::WillSupport => "will",
            CheckinAnswer::NotThisTime => "not_this_time",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Counts towards the manager support rate.
    pub fn is_support(self) -> bool {
        matches!(self, CheckinAnswer::Supported | CheckinAnswer::WillSupport)
    }
}

/// What a scheduled job delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobPurpose {
    /// "What is the one small step you will take?" — answered with a report.
    SmallStep,
    /// "Did you do it?" one-tap check — answered with a report.
    OneTapCheck,
    /// A manager check-in about a direct report's focus theme.
    ManagerCheckin,
    /// The one reminder of a nudge or check-in left unanswered; it carries
    /// the same buttons, answering the job it reminds of.
    Reminder,
    /// The weekly momentum digest to the sponsors' channel.
    Digest,
    /// A self-assessment: baseline, then +30, +60, +90 days.
    SelfAssessment,
    /// A manager's observation of a participant (+60, +90 days).
    ManagerObservation,
    /// The pulse question: a recurring rule's one-tap question.
    PulseQuestion,
    /// The welcome on enrolment: what Momentum records, who sees what, how
    /// to stop; and the button to choose a focus.
    Welcome,
    /// On a participant's planned date: "Did session N happen?" (yes, it
    /// moved to a date, cancelled).
    SessionCheck,
}

impl JobPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            JobPurpose::SmallStep => "small_step",
            JobPurpose::OneTapCheck => "one_tap_check",
            JobPurpose::ManagerCheckin => "manager_checkin",
            JobPurpose::Reminder => "reminder",
            JobPurpose::Digest => "digest",
            JobPurpose::SelfAssessment => "self_assessment",
            JobPurpose::ManagerObservation => "manager_observation",
            JobPurpose::PulseQuestion => "pulse_question",
            JobPurpose::Welcome => "welcome",
            JobPurpose::SessionCheck => "session_check",
        }
    }

    pub const ALL: [JobPurpose; 10] = [
        JobPurpose::SmallStep,
        JobPurpose::OneTapCheck,
        JobPurpose::ManagerCheckin,
        JobPurpose::Reminder,
        JobPurpose::Digest,
        JobPurpose::SelfAssessment,
        JobPurpose::ManagerObservation,
        JobPurpose::PulseQuestion,
        JobPurpose::Welcome,
        JobPurpose::SessionCheck,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn is_participant_nudge(self) -> bool {
        matches!(self, JobPurpose::SmallStep | JobPurpose::OneTapCheck)
    }

    /// Asks for an answer, so an unanswered one earns a reminder.
    pub fn is_remindable(self) -> bool {
        matches!(
            self,
            JobPurpose::SmallStep
                | JobPurpose::OneTapCheck
                | JobPurpose::ManagerCheckin
                | JobPurpose::SelfAssessment
                | JobPurpose::ManagerObservation
        )
    }

    /// Asks a manager about one report: a manager's reports due the same
    /// day share one message, a row each (PRODUCT.md: one check-in a day).
    pub fn is_manager_row(self) -> bool {
        matches!(
            self,
            JobPurpose::ManagerCheckin | JobPurpose::ManagerObservation
        )
    }

    /// Answered with a value on a scale.
    pub fn is_scaled(self) -> bool {
        matches!(
            self,
            JobPurpose::SelfAssessment | JobPurpose::ManagerObservation | JobPurpose::PulseQuestion
        )
    }

    /// Asks the participant something: what engagement counts (PRODUCT.md).
    /// A reminder belongs to the prompt it repeats.
    pub fn is_prompt(self) -> bool {
        matches!(
            self,
            JobPurpose::SmallStep
                | JobPurpose::OneTapCheck
                | JobPurpose::SelfAssessment
                | JobPurpose::PulseQuestion
        )
    }
}

impl fmt::Display for JobPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
