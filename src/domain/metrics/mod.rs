//! The digest's numbers, exactly as PRODUCT.md defines them, from facts about
//! one program week. Pure: the store gathers the facts, this module counts,
//! rounds and suppresses.

pub mod anonymity;
pub mod digest;
pub mod held;
pub mod prompts;
pub mod week;

use serde::{Deserialize, Serialize};
pub use week::{ProgramWeek, WeekOf};

/// A whole-number percentage, rounded half up (16 of 18 → 89). `None` when
/// there is nothing to divide by.
pub fn percent(n: u64, d: u64) -> Option<u32> {
    (d > 0).then(|| ((200 * n + d) / (2 * d)) as u32)
}

/// A value rounded half up to a whole number (also for negatives: −9.5 → −9).
fn round_half_up(x: f64) -> i32 {
    (x + 0.5).floor() as i32
}

/// The groups a participant belongs to, for the breakdowns. (No breakdown
/// by manager: a score per manager's team turns support into control.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    pub cohort: Option<String>,
    pub theme: Option<String>,
}

/// One participant in the measured week.
#[derive(Debug, Clone, Default)]
pub struct ParticipantWeek {
    /// The participant's id: whose contribution a held figure counts.
    pub id: i64,
    /// In the program at the end of the week, not erased, not deactivated.
    pub enrolled: bool,
    /// At least one completed session or one report by the end of the week.
    pub started: bool,
    /// Sessions planned for them on or before the end of the week (their
    /// own dates, else their cohort's, else the program's).
    pub sessions_due: u32,
    /// Of those, how many they completed by the end of the week.
    pub sessions_completed: u32,
    /// Of the sessions planned on or before the end of the week (or all, once
    /// the last planned date has passed), how many are still not completed.
    pub sessions_missing: u32,
    /// Paused from before the week began until after it ended.
    pub paused_all_week: bool,
    /// Sent at least one prompt this week (a small-step nudge, a follow-up
    /// check, a self-assessment, a pulse question).
    pub asked: bool,
    /// Answered a prompt sent this week, by the time the week is composed.
    pub responded: bool,
    /// Asked this week, and left every prompt of their last `weeks`
    /// prompted weeks (this one included) unanswered.
    pub silent: bool,
    pub groups: Groups,
    /// Per follow-up day: that follow-up minus the baseline.
    pub shifts: Vec<(u32, i64)>,
    /// The manager's latest observation, when there is one.
    pub observation: Option<i64>,
    /// In the comparison cohort (a waitlist, say), not the program proper.
    pub comparison: bool,
}

impl ParticipantWeek {
    pub fn eligible(&self) -> bool {
        self.enrolled && !self.paused_all_week
    }

    /// Asked this week (only eligible participants count as asked).
    pub fn counted_asked(&self) -> bool {
        self.eligible() && self.asked
    }

    /// The latest follow-up minus the baseline.
    pub fn latest_shift(&self) -> Option<i64> {
        self.shifts.iter().max_by_key(|(d, _)| *d).map(|(_, s)| *s)
    }

    /// The day of the latest follow-up.
    pub fn latest_day(&self) -> Option<u32> {
        self.shifts.iter().map(|(d, _)| *d).max()
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

/// The settings the numbers depend on (per program: `metrics:` in the
/// program file, and the anonymity threshold).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSettings {
    /// k: no figure about fewer people is published.
    pub anonymity_threshold: u32,
    pub momentum: MomentumSettings,
}

/// α and the dropping rule (PRODUCT.md's defaults: 0.5, 10 points, 30 %, 2 weeks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentumSettings {
    /// Weight of this week's engagement in momentum.
    pub alpha: f64,
    /// Dropping when momentum changes by this many points or worse.
    pub dropping_points: u32,
    /// … or when this share (0..1) of the people asked this week left every
    /// prompt of their last `dropping_weeks` prompted weeks unanswered.
    pub dropping_share: f64,
    pub dropping_weeks: u32,
}

impl Default for MomentumSettings {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            dropping_points: 10,
            dropping_share: 0.30,
            dropping_weeks: 2,
        }
    }
}

impl Default for MetricSettings {
    fn default() -> Self {
        Self {
            anonymity_threshold: 5,
            momentum: MomentumSettings::default(),
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
    /// Distinct managers sent a check-in this week.
    pub checkin_managers: u64,
    /// The last planned session date has passed: completion is final.
    pub program_over: bool,
    /// The program names a comparison cohort.
    pub has_comparison: bool,
    /// The self-assessment's follow-up days (30, 60, 90).
    pub follow_up_days: Vec<u32>,
    /// Each participant's latest answer to the pulse question sent this
    /// week (answered before the week was composed).
    pub pulse_answers: Vec<i64>,
    /// Distinct participants behind `actions`.
    pub action_people: u64,
}

/// A group's (or the program's) week, stored so momentum continues from it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub people: u64,
    pub eligible: u64,
    pub asked: u64,
    pub responded: u64,
    /// Asked people silent over their last prompted weeks.
    pub silent: u64,
    /// Momentum (0..1) as last published: it moves only in weeks whose
    /// engagement is shown, and carries over every other week. `None` until
    /// the group's first published engagement.
    pub momentum: Option<f64>,
}

impl Trend {
    /// Counts a group's members this week; momentum still as `previous`.
    pub fn count<'a>(
        members: impl Iterator<Item = &'a ParticipantWeek>,
        previous: Option<f64>,
    ) -> Trend {
        let mut t = Trend {
            momentum: previous,
            ..Trend::default()
        };
        for p in members.filter(|p| p.enrolled) {
            t.people += 1;
            if !p.eligible() {
                continue;
            }
            t.eligible += 1;
            if p.asked {
                t.asked += 1;
                t.responded += u64::from(p.responded);
                t.silent += u64::from(p.silent);
            }
        }
        t
    }

    /// Engagement (responded / asked), when anyone was asked.
    pub fn engagement(&self) -> Option<f64> {
        (self.asked > 0).then(|| self.responded as f64 / self.asked as f64)
    }

    /// Whether this week's engagement may be shown: at least k asked.
    pub fn engagement_shown(&self, k: u64) -> bool {
        self.asked > 0 && self.asked >= k
    }

    /// Moves momentum with this week's engagement, for a week whose
    /// engagement is published. Hidden and quiet weeks never call this, so
    /// they carry the last published value and seed nothing.
    pub fn publish_engagement(&mut self, alpha: f64) {
        if let Some(e) = self.engagement() {
            self.momentum = Some(match self.momentum {
                Some(m) => alpha * e + (1.0 - alpha) * m,
                None => e,
            });
        }
    }

    /// Momentum's change against the previous published value, in points,
    /// from the two rounded percentages that are shown.
    pub fn change(&self, previous: Option<f64>) -> Option<i32> {
        let now = percent_f(self.momentum?)?;
        let before = percent_f(previous?)?;
        Some(now as i32 - before as i32)
    }

    /// Why this group's momentum is dropping, in a week whose engagement is
    /// shown (never in a quiet or hidden week).
    pub fn dropping(&self, previous: Option<f64>, s: &MomentumSettings) -> Option<Dropping> {
        if let Some(c) = self
            .change(previous)
            .filter(|c| *c <= -(s.dropping_points as i32))
        {
            return Some(Dropping::EngagementFell { points: -c });
        }
        (self.asked > 0 && self.silent as f64 >= s.dropping_share * self.asked as f64).then(|| {
            Dropping::Silent {
                percent: percent(self.silent, self.asked).unwrap_or(0),
                weeks: s.dropping_weeks,
            }
        })
    }
}

/// A share (0..1) as a whole percentage, rounded half up. (A hair of
/// tolerance keeps 0.565 at 57 although 0.565 · 100 is 56.4999… in binary.)
pub fn percent_f(x: f64) -> Option<u32> {
    x.is_finite()
        .then(|| round_half_up(x * 100.0 + 1e-9).max(0) as u32)
}

/// A mean on the program's scale over n people (one decimal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mean {
    pub mean: f64,
    pub n: u64,
    /// The week it was published in, while it is held (shown "as of").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

impl Mean {
    /// The mean of `values`, published only when at least `k` people stand behind it.
    pub fn of(values: impl Iterator<Item = i64>, k: u64) -> Option<Mean> {
        let (sum, n) = values.fold((0i64, 0u64), |(s, n), v| (s + v, n + 1));
        (n >= k && n > 0).then(|| Mean {
            mean: (sum as f64 / n as f64 * 10.0).round() / 10.0,
            n,
            as_of: None,
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
    /// This share of the people asked left every prompt of their last
    /// `weeks` prompted weeks unanswered.
    Silent { percent: u32, weeks: u32 },
}

impl std::fmt::Display for Dropping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropping::EngagementFell { points } => {
                write!(f, "engagement fell by {points} points")
            }
            Dropping::Silent { percent, weeks } => {
                write!(
                    f,
                    "{percent}% left their last {weeks} prompted weeks unanswered"
                )
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
    pub sessions_due: u64,
}

impl Counts {
    pub fn of<'a>(participants: impl Iterator<Item = &'a ParticipantWeek>) -> Counts {
        let mut c = Counts::default();
        for p in participants.filter(|p| p.enrolled) {
            c.enrolled += 1;
            c.sessions_completed += u64::from(p.sessions_completed);
            c.sessions_due += u64::from(p.sessions_due);
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

    fn asked(responded: bool) -> ParticipantWeek {
        ParticipantWeek {
            enrolled: true,
            asked: true,
            responded,
            ..Default::default()
        }
    }

    #[test]
    fn momentum_moves_only_with_published_engagement() {
        // Week 1: 3 of 4 answered → 0.75. Week 2: 1 of 4 → 0.5·0.25 + 0.5·0.75 = 0.5.
        let w1 = [asked(true), asked(true), asked(true), asked(false)];
        let mut t1 = Trend::count(w1.iter(), None);
        t1.publish_engagement(0.5);
        assert_eq!(t1.momentum, Some(0.75));
        let w2 = [asked(true), asked(false), asked(false), asked(false)];
        let mut t2 = Trend::count(w2.iter(), t1.momentum);
        t2.publish_engagement(0.5);
        assert_eq!(t2.momentum, Some(0.5));
        assert_eq!(t2.change(t1.momentum), Some(-25));
        assert_eq!(
            t2.dropping(t1.momentum, &MomentumSettings::default()),
            Some(Dropping::EngagementFell { points: 25 })
        );
    }

    #[test]
    fn a_week_without_prompts_carries_momentum_unchanged() {
        let quiet = [ParticipantWeek {
            enrolled: true,
            ..Default::default()
        }];
        let t = Trend::count(quiet.iter(), Some(0.6));
        assert_eq!((t.people, t.eligible, t.asked), (1, 1, 0));
        assert_eq!(t.engagement(), None);
        assert_eq!(t.momentum, Some(0.6));
        assert_eq!(t.change(Some(0.6)), Some(0));
    }

    #[test]
    fn the_change_is_taken_from_the_rounded_percentages() {
        // 0.674 shows as 67 and 0.566 as 57: the change shown is −10, which
        // the unrounded values (−10.8 → −11) would not match.
        let t = Trend {
            momentum: Some(0.566),
            ..Trend::default()
        };
        assert_eq!(t.change(Some(0.674)), Some(-10));
        let s = MomentumSettings::default();
        assert_eq!(
            t.dropping(Some(0.674), &s),
            Some(Dropping::EngagementFell { points: 10 })
        );
        assert_eq!(t.dropping(Some(0.664), &s), None, "57 − 66 = −9");
    }

    #[test]
    fn a_paused_week_is_not_eligible_and_not_asked() {
        let mut paused = asked(false);
        paused.paused_all_week = true;
        let t = Trend::count([paused].iter(), Some(0.6));
        assert_eq!((t.people, t.eligible, t.asked), (1, 0, 0));
        assert_eq!(t.momentum, Some(0.6));
    }

    #[test]
    fn a_third_silent_for_two_prompted_weeks_is_dropping() {
        let mut w: Vec<ParticipantWeek> = (0..7).map(|i| asked(i < 4)).collect();
        for p in w.iter_mut().skip(4) {
            p.silent = true;
        }
        let mut t = Trend::count(w.iter(), Some(0.6));
        t.publish_engagement(0.5);
        // 4 of 7 → 0.571; momentum 0.5·0.571 + 0.5·0.6 = 0.586 (59, −1).
        assert_eq!(t.change(Some(0.6)), Some(-1));
        assert_eq!(
            t.dropping(Some(0.6), &MomentumSettings::default()),
            Some(Dropping::Silent {
                percent: 43,
                weeks: 2
            })
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
