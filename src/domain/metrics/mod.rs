//! The digest's numbers, exactly as PRODUCT.md defines them, from facts about
//! one program week. Pure: the store gathers the facts, this module counts,
//! rounds and suppresses.

pub mod anonymity;
pub mod digest;
pub mod week;

use serde::{Deserialize, Serialize};
pub use week::ProgramWeek;

/// A whole-number percentage, rounded half up (16 of 18 → 89). `None` when
/// there is nothing to divide by.
pub fn percent(n: u64, d: u64) -> Option<u32> {
    (d > 0).then(|| ((200 * n + d) / (2 * d)) as u32)
}

/// A value rounded half up to a whole number (also for negatives: −9.5 → −9).
fn round_half_up(x: f64) -> i32 {
    (x + 0.5).floor() as i32
}

/// The groups a participant belongs to, for the breakdowns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    pub cohort: Option<String>,
    pub theme: Option<String>,
    /// The manager's team, named as the digest shows it.
    pub manager: Option<String>,
}

/// One participant in the measured week.
#[derive(Debug, Clone, Default)]
pub struct ParticipantWeek {
    /// In the program at the end of the week, not erased, not deactivated.
    pub enrolled: bool,
    /// At least one completed session or one report by the end of the week.
    pub started: bool,
    /// Planned sessions completed by the end of the week.
    pub sessions_completed: u32,
    /// Of the sessions planned on or before the end of the week (or all, once
    /// the last planned date has passed), how many are still not completed.
    pub sessions_missing: u32,
    /// Paused from before the week began until after it ended.
    pub paused_all_week: bool,
    /// Reported an action, or answered a check-in or self-assessment, this week.
    pub active: bool,
    pub active_last_week: bool,
    /// Already enrolled when last week ended: only then can "inactive for
    /// two weeks" be true (a newcomer's first week is not a second one).
    pub enrolled_last_week: bool,
    pub groups: Groups,
    /// Latest self-assessment follow-up minus the baseline, when both exist.
    pub self_shift: Option<i64>,
    /// The manager's latest observation, when there is one.
    pub observation: Option<i64>,
    /// In the comparison cohort (a waitlist, say), not the program proper.
    pub comparison: bool,
}

impl ParticipantWeek {
    pub fn eligible(&self) -> bool {
        self.enrolled && !self.paused_all_week
    }
}

/// One-tap reports made this week, each once with its latest value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub done: u64,
    pub partly: u64,
    pub not_yet: u64,
}

impl Actions {
    pub fn total(&self) -> u64 {
        self.done + self.partly + self.not_yet
    }
}

/// The settings the numbers depend on (per program).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSettings {
    /// k: no figure about fewer people is published.
    pub anonymity_threshold: u32,
    /// Weight of this week's engagement in momentum (0.5).
    pub momentum_alpha: f64,
    /// Dropping when momentum changes by this many points or worse (−10).
    pub dropping_points: f64,
    /// … or when this share of eligible participants has been inactive for
    /// two weeks or more (0.30).
    pub dropping_inactive_share: f64,
}

impl Default for MetricSettings {
    fn default() -> Self {
        Self {
            anonymity_threshold: 5,
            momentum_alpha: 0.5,
            dropping_points: 10.0,
            dropping_inactive_share: 0.30,
        }
    }
}

/// Everything measured in one week, before publishing.
#[derive(Debug, Clone, Default)]
pub struct WeekFacts {
    pub participants: Vec<ParticipantWeek>,
    pub actions: Actions,
    pub checkins_sent: u64,
    /// Check-ins sent this week answered "I supported" or "I will".
    pub checkins_supported: u64,
    /// Sessions planned on or before the end of the week, per participant.
    pub sessions_due: u32,
    /// The last planned session date has passed: completion is final.
    pub program_over: bool,
    /// The program names a comparison cohort.
    pub has_comparison: bool,
}

/// Engagement and momentum of a group (or the program) for one week; what
/// is stored per week so momentum continues from it next week.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub people: u64,
    pub eligible: u64,
    pub active: u64,
    /// Eligible participants inactive this week and the week before.
    pub inactive_two_weeks: u64,
    /// The exponentially weighted engagement (0..1), once there is one.
    pub momentum: Option<f64>,
}

impl Trend {
    /// This week's trend from its members and last week's momentum.
    pub fn of<'a>(
        members: impl Iterator<Item = &'a ParticipantWeek>,
        previous: Option<f64>,
        alpha: f64,
    ) -> Trend {
        let mut t = Trend::default();
        for p in members.filter(|p| p.enrolled) {
            t.people += 1;
            if !p.eligible() {
                continue;
            }
            t.eligible += 1;
            if p.active {
                t.active += 1;
            } else if !p.active_last_week && p.enrolled_last_week {
                t.inactive_two_weeks += 1;
            }
        }
        t.momentum = match (t.engagement(), previous) {
            (Some(e), Some(m)) => Some(alpha * e + (1.0 - alpha) * m),
            (Some(e), None) => Some(e),
            // A week with nobody eligible carries the trend over.
            (None, m) => m,
        };
        t
    }

    pub fn engagement(&self) -> Option<f64> {
        (self.eligible > 0).then(|| self.active as f64 / self.eligible as f64)
    }

    /// Why this group's momentum is dropping against `previous`, if it is.
    pub fn dropping(&self, previous: Option<f64>, s: &MetricSettings) -> Option<Dropping> {
        let change = self.change(previous);
        if let Some(c) = change.filter(|c| f64::from(*c) <= -s.dropping_points) {
            return Some(Dropping::EngagementFell { points: -c });
        }
        let share = percent(self.inactive_two_weeks, self.eligible)?;
        (self.eligible > 0
            && self.inactive_two_weeks as f64 >= s.dropping_inactive_share * self.eligible as f64)
            .then_some(Dropping::Inactive { percent: share })
    }

    /// Momentum's change against last week, in whole percentage points.
    pub fn change(&self, previous: Option<f64>) -> Option<i32> {
        Some(round_half_up((self.momentum? - previous?) * 100.0))
    }
}

/// A mean on the program's scale over n people (one decimal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mean {
    pub mean: f64,
    pub n: u64,
}

impl Mean {
    /// The mean of `values`, published only when at least `k` people stand behind it.
    pub fn of(values: impl Iterator<Item = i64>, k: u64) -> Option<Mean> {
        let (sum, n) = values.fold((0i64, 0u64), |(s, n), v| (s + v, n + 1));
        (n >= k && n > 0).then(|| Mean {
            mean: (sum as f64 / n as f64 * 10.0).round() / 10.0,
            n,
        })
    }
}

/// The self-assessment shift of the program against its comparison cohort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Comparison {
    /// Difference in differences: the program's shift minus the comparison
    /// cohort's, with both sides' n.
    Shown {
        difference: f64,
        n_program: u64,
        n_comparison: u64,
    },
    /// Fewer than k people on one side have a baseline and a follow-up.
    ProgramTooSmall,
    ComparisonTooSmall,
}

/// Why momentum is dropping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Dropping {
    /// Momentum fell by this many points against last week.
    EngagementFell { points: i32 },
    /// This share of eligible participants has been inactive for 2+ weeks.
    Inactive { percent: u32 },
}

impl std::fmt::Display for Dropping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropping::EngagementFell { points } => {
                write!(f, "engagement fell by {points} points")
            }
            Dropping::Inactive { percent } => {
                write!(f, "{percent}% inactive for 2+ weeks")
            }
        }
    }
}

/// Counts over the enrolled participants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub enrolled: u64,
    pub started: u64,
    pub completed_all: u64,
    pub sessions_completed: u64,
}

impl Counts {
    pub fn of<'a>(participants: impl Iterator<Item = &'a ParticipantWeek>) -> Counts {
        let mut c = Counts::default();
        for p in participants.filter(|p| p.enrolled) {
            c.enrolled += 1;
            c.sessions_completed += u64::from(p.sessions_completed);
            if p.started {
                c.started += 1;
                if p.sessions_missing == 0 {
                    c.completed_all += 1;
                }
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(percent(16, 18), Some(89), "the seed's 88% was truncated");
        assert_eq!(percent(1, 8), Some(13));
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(0, 5), Some(0));
        assert_eq!(percent(5, 5), Some(100));
        assert_eq!(percent(1, 0), None);
        assert_eq!(round_half_up(-9.5), -9);
        assert_eq!(round_half_up(-10.5), -10);
        assert_eq!(round_half_up(2.5), 3);
    }

    fn p(active: bool, active_last_week: bool) -> ParticipantWeek {
        ParticipantWeek {
            enrolled: true,
            active,
            active_last_week,
            enrolled_last_week: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_newcomers_first_quiet_week_is_not_two_inactive_weeks() {
        let newcomer = ParticipantWeek {
            enrolled_last_week: false,
            ..p(false, false)
        };
        let t = Trend::of([newcomer, p(false, false)].iter(), None, 0.5);
        assert_eq!((t.eligible, t.inactive_two_weeks), (2, 1));
    }

    #[test]
    fn momentum_is_an_exponentially_weighted_engagement() {
        // Week 1: 3 of 4 active → 0.75. Week 2: 1 of 4 → 0.5·0.25 + 0.5·0.75 = 0.5.
        let w1 = [
            p(true, false),
            p(true, false),
            p(true, false),
            p(false, false),
        ];
        let t1 = Trend::of(w1.iter(), None, 0.5);
        assert_eq!(t1.momentum, Some(0.75));
        let w2 = [
            p(true, true),
            p(false, true),
            p(false, true),
            p(false, false),
        ];
        let t2 = Trend::of(w2.iter(), t1.momentum, 0.5);
        assert_eq!(t2.momentum, Some(0.5));
        assert_eq!(t2.change(t1.momentum), Some(-25));
        assert_eq!(
            t2.dropping(t1.momentum, &MetricSettings::default()),
            Some(Dropping::EngagementFell { points: 25 })
        );
        // One of four inactive for two weeks (25%) is under the 30% rule.
        assert_eq!(t2.inactive_two_weeks, 1);
    }

    #[test]
    fn a_paused_week_is_not_eligible_and_carries_momentum_over() {
        let mut paused = p(false, false);
        paused.paused_all_week = true;
        let t = Trend::of([paused].iter(), Some(0.6), 0.5);
        assert_eq!((t.people, t.eligible), (1, 0));
        assert_eq!(t.engagement(), None);
        assert_eq!(t.momentum, Some(0.6));
    }

    #[test]
    fn many_inactive_for_two_weeks_is_dropping_too() {
        let w = [
            p(true, true),
            p(false, false),
            p(false, false),
            p(true, false),
        ];
        let t = Trend::of(w.iter(), Some(0.5), 0.5);
        assert_eq!(t.change(Some(0.5)), Some(0));
        assert_eq!(
            t.dropping(Some(0.5), &MetricSettings::default()),
            Some(Dropping::Inactive { percent: 50 })
        );
    }

    #[test]
    fn start_and_completion_count_enrolled_participants_only() {
        let mut list = vec![];
        for i in 0..18 {
            list.push(ParticipantWeek {
                enrolled: true,
                started: i < 16,
                sessions_completed: if i < 16 { 5 } else { 0 },
                sessions_missing: if i < 12 { 0 } else { 5 },
                ..Default::default()
            });
        }
        list.push(ParticipantWeek::default()); // left the program
        let c = Counts::of(list.iter());
        assert_eq!((c.enrolled, c.started, c.completed_all), (18, 16, 12));
        assert_eq!(percent(c.started, c.enrolled), Some(89));
        assert_eq!(percent(c.completed_all, c.started), Some(75));
    }
}
