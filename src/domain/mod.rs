//! The pure core: programs, cadences, local time and answers. No I/O, no
//! async, no clock reads — everything here is a function of its inputs.

pub mod answer;
pub mod away;
pub mod bookings;
pub mod cadence;
pub mod cron;
pub mod dates;
pub mod delivery;
pub mod enrolment;
pub mod errors;
pub mod ics;
pub mod identity;
pub mod ids;
pub mod metrics;
pub mod plan;
pub mod program;
pub mod progress;
pub mod reader;
pub mod schedule;
pub mod teams;
pub mod time;

pub use answer::{Answer, CheckinAnswer, JobPurpose};

/// A small step a participant names holds at most this many characters.
pub const STEP_MAX_CHARS: usize = 280;
/// A private note holds at most this many characters.
pub const NOTE_MAX_CHARS: usize = 3000;
pub use errors::{ConfigErrors, FieldError};
pub use identity::{ChannelRef, ChatIdentity, PersonRef, Platform};
pub use ids::{JobId, OrgId, ParticipantId, PersonId, ProgramId};
pub use program::{NudgeKind, NudgeRule, ParticipantSpec, ProgramFile, ProgramSpec};
