//! The weekly digest: the published numbers of one program week, with every
//! figure about fewer than k people left out (complementarily) and no free
//! text from anyone. What sponsors read, what exports and the API return.

use super::anonymity::{merge_small, suppress, Candidate};
use super::held::{fingerprint, Held, Ledger};
use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A breakdown the digest shows per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Cohort,
    Theme,
}

impl Dimension {
    pub const ALL: [Dimension; 2] = [Dimension::Cohort, Dimension::Theme];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Cohort => "cohort",
            Dimension::Theme => "theme",
        }
    }

    /// The order in which conflicting breakdowns are suppressed (PRODUCT.md:
    /// theme, then cohort).
    fn rank(self) -> u8 {
        match self {
            Dimension::Theme => 0,
            Dimension::Cohort => 1,
        }
    }

    fn of(self, g: &Groups) -> Option<&str> {
        match self {
            Dimension::Cohort => g.cohort.as_deref(),
            Dimension::Theme => g.theme.as_deref(),
        }
    }
}

/// The key a trend is stored under: the program, or one group.
pub fn trend_key(group: Option<(Dimension, &str)>) -> String {
    match group {
        None => "program".into(),
        Some((d, key)) => format!("{}:{key}", d.as_str()),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub dimension: Dimension,
    /// The cohort's or theme's name.
    pub name: String,
    pub people: u64,
    pub engagement: Option<u32>,
    #[serde(default)]
    pub engagement_note: Option<EngagementNote>,
    pub momentum: Option<u32>,
    pub momentum_change: Option<i32>,
    pub dropping: Option<Dropping>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeCount {
    pub theme: String,
    pub participants: u64,
}

/// One program week as published. `None` marks a figure that is not shown
/// (nothing to measure, or too few people behind it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// ISO week, e.g. `2026-W48`.
    pub week: String,
    pub from: String,
    pub to: String,
    pub anonymity_threshold: u32,
    /// False when the program has fewer than k participants: nothing else is shown.
    pub published: bool,
    /// What the program is for, as HR wrote it (the program's current
    /// words, set when the digest is read; never anyone else's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_behaviour: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_goal: Option<String>,
    /// Computed before the week's scheduled digest time: its figures may
    /// still change (answers keep counting until the week is composed).
    #[serde(default)]
    pub provisional: bool,
    pub enrolled: Option<u64>,
    pub started: Option<u64>,
    pub start_rate: Option<u32>,
    pub completion_rate: Option<u32>,
    /// True until the last planned session date has passed ("to date").
    pub completion_to_date: bool,
    pub eligible: Option<u64>,
    /// Eligible participants sent at least one prompt this week.
    #[serde(default)]
    pub asked: Option<u64>,
    /// Asked participants who answered a prompt sent to them this week.
    #[serde(default)]
    pub responded: Option<u64>,
    /// Engagement = responded / asked; absent with a note when not shown.
    pub engagement: Option<u32>,
    #[serde(default)]
    pub engagement_note: Option<EngagementNote>,
    /// Absent when fewer than k people reported this week.
    pub actions: Option<Actions>,
    pub checkins_sent: Option<u64>,
    pub manager_support_rate: Option<u32>,
    pub session_usage: Option<u32>,
    pub momentum: Option<u32>,
    pub momentum_change: Option<i32>,
    pub dropping: Option<Dropping>,
    pub themes: Vec<ThemeCount>,
    /// Participants whose themes are too small to name on their own.
    pub other_themes: Option<u64>,
    /// The week the theme counts shown were published in, while they are
    /// held (fewer than k people changed theme or joined since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub themes_as_of: Option<String>,
    /// Self-assessment shift (latest follow-up − baseline) over the program's
    /// participants who have both, with n; absent under k.
    #[serde(default)]
    pub self_assessment_shift: Option<Mean>,
    /// The shift per follow-up day (+30, +60, +90), with the comparison
    /// cohort's difference in differences when the program has one.
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
    /// Managers' latest observation, with n; absent under k.
    #[serde(default)]
    pub manager_observation: Option<Mean>,
    /// The pulse question's mean this week, with n; absent under k.
    #[serde(default)]
    pub pulse: Option<Mean>,
    /// Per cohort and theme: shown groups only.
    pub groups: Vec<GroupFigures>,
    /// How many groups were left out because they (or a complement) are small.
    pub groups_not_shown: u64,
}

/// Why a week shows no engagement figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementNote {
    /// No one was asked anything this week (a quiet week between sessions).
    NoPrompts,
    /// 1 to k−1 people were asked: too few to show.
    TooFewAsked,
}

/// The self-assessment shift at one follow-up day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub day: u32,
    /// Mean of (follow-up at this day − baseline), from k people.
    pub shift: Option<Mean>,
    /// Against the comparison cohort at this day, when the program has one.
    pub comparison: Option<Comparison>,
    /// The week the comparison shown was published in, while it is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_as_of: Option<String>,
}

/// What a week is composed from besides its facts: the stored trends of the
/// week before (momentum continues from them) and the accumulating figures
/// as last published.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub trends: HashMap<String, Trend>,
    pub held: HashMap<String, Held>,
}

/// A composed week: the digest, the trends to store for next week, and the
/// accumulating figures published this week.
#[derive(Debug, Clone)]
pub struct Composed {
    pub digest: Digest,
    pub trends: Vec<(String, Trend)>,
    pub held: Vec<(String, Held)>,
}

impl Composed {
    /// What the next week is composed from.
    pub fn into_history(self, before: History) -> History {
        let mut held = before.held;
        held.extend(self.held);
        History {
            trends: self.trends.into_iter().collect(),
            held,
        }
    }
}

/// Labels for group keys (a cohort's key → its name).
pub type Labels = HashMap<String, String>;

/// The digest of `week`, and every trend to store for next week's momentum.
/// A group's momentum moves only in weeks its engagement is published, so
/// weeks in which it was hidden (or had too few asked) never seed it.
pub fn compose(
    week: &ProgramWeek,
    facts: &WeekFacts,
    previous: &History,
    s: &MetricSettings,
    labels: &Labels,
) -> Composed {
    let k = u64::from(s.anonymity_threshold);
    let alpha = s.momentum.alpha;
    // The comparison cohort only serves the comparison; every other figure
    // is about the program's own participants.
    let main: Vec<&ParticipantWeek> = facts
        .participants
        .iter()
        .filter(|p| !p.comparison)
        .collect();
    let prev = |key: &str| previous.trends.get(key).and_then(|t| t.momentum);
    let program_key = trend_key(None);
    let counts = Counts::of(main.iter().copied());
    let mut program = Trend::count(main.iter().copied(), prev(&program_key));
    let published = counts.enrolled >= k && program.eligible >= k;
    if published && program.engagement_shown(k) {
        program.publish_engagement(alpha);
    }
    let mut trends = vec![(program_key.clone(), program)];
    // Every group of every breakdown, with its people: the enrolled (whom
    // its `people` figure is about) and those asked (its engagement's).
    struct Group<'a> {
        dimension: Dimension,
        name: &'a str,
        enrolled: BTreeSet<usize>,
        asked: BTreeSet<usize>,
        trend: Trend,
    }
    let mut all: Vec<Group> = Vec::new();
    for d in Dimension::ALL {
        let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in main.iter().enumerate().filter(|(_, p)| p.enrolled) {
            if let Some(g) = d.of(&p.groups) {
                members.entry(g).or_default().push(i);
            }
        }
        for (name, people) in members {
            let key = trend_key(Some((d, name)));
            all.push(Group {
                dimension: d,
                name,
                enrolled: people.iter().copied().collect(),
                asked: people
                    .iter()
                    .copied()
                    .filter(|&i| main[i].counted_asked())
                    .collect(),
                trend: Trend::count(people.iter().map(|&i| main[i]), prev(&key)),
            });
        }
    }
    let in_program: BTreeSet<usize> = (0..main.len()).filter(|&i| main[i].enrolled).collect();
    let asked: BTreeSet<usize> = (0..main.len())
        .filter(|&i| main[i].counted_asked())
        .collect();
    let candidates = |asked_people: bool, only: &[bool]| {
        all.iter()
            .zip(only)
            .filter(|(_, ok)| **ok)
            .map(|(g, _)| Candidate {
                rank: g.dimension.rank(),
                key: g.name,
                people: if asked_people { &g.asked } else { &g.enrolled }.clone(),
            })
            .collect::<Vec<_>>()
    };
    // Groups shown at all (their people), then among them, whose engagement.
    let shown = suppress(&in_program, &candidates(false, &vec![true; all.len()]), k);
    let shown_asked = suppress(&asked, &candidates(true, &shown), k);
    let mut engagement_ok = vec![false; all.len()];
    for (slot, ok) in (0..all.len()).filter(|&i| shown[i]).zip(shown_asked) {
        engagement_ok[slot] = ok && all[slot].trend.engagement_shown(k);
    }
    let mut groups = Vec::new();
    let mut not_shown = 0;
    for (i, g) in all.iter_mut().enumerate() {
        let key = trend_key(Some((g.dimension, g.name)));
        let t = &mut g.trend;
        if published && shown[i] {
            if engagement_ok[i] {
                t.publish_engagement(alpha);
            }
            groups.push(GroupFigures {
                dimension: g.dimension,
                name: labels
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| g.name.to_string()),
                people: t.people,
                engagement: engagement_ok[i]
                    .then(|| percent(t.responded, t.asked))
                    .flatten(),
                engagement_note: (!engagement_ok[i]).then_some(if t.asked == 0 {
                    EngagementNote::NoPrompts
                } else {
                    EngagementNote::TooFewAsked
                }),
                momentum: t.momentum.and_then(percent_f),
                momentum_change: t.change(prev(&key)),
                dropping: engagement_ok[i]
                    .then(|| t.dropping(prev(&key), &s.momentum))
                    .flatten(),
            });
        } else {
            not_shown += 1;
        }
        trends.push((key, *t));
    }
    let (from, to) = (week.monday.to_string(), week.sunday().to_string());
    let head = Digest {
        week: week.iso(),
        from,
        to,
        anonymity_threshold: s.anonymity_threshold,
        ..Digest::empty()
    };
    if !published {
        return Composed {
            digest: head,
            trends,
            held: vec![],
        };
    }
    let mut ledger = Ledger {
        before: &previous.held,
        week: week.iso(),
        k,
        published: vec![],
    };
    let mut theme_counts: HashMap<&str, u64> = HashMap::new();
    for p in main.iter().copied().filter(|p| p.enrolled) {
        if let Some(t) = p.groups.theme.as_deref() {
            *theme_counts.entry(t).or_default() += 1;
        }
    }
    let (themes, other) = merge_small(
        theme_counts
            .into_iter()
            .map(|(t, n)| (t.to_string(), n))
            .collect(),
        k,
    );
    let themes: Vec<ThemeCount> = themes
        .into_iter()
        .map(|(theme, participants)| ThemeCount {
            theme,
            participants,
        })
        .collect();
    let other = (other >= k).then_some(other);
    // Theme counts accumulate (people pick a focus over time): one choice
    // must not move them.
    let theme_people = main
        .iter()
        .filter(|p| p.enrolled)
        .filter_map(|p| Some((p.id, fingerprint(p.groups.theme.as_deref()?))))
        .collect();
    let ((themes, other_themes), themes_as_of) =
        match ledger.figure("themes", Some((themes, other)), theme_people) {
            (Some(t), as_of) => (t, as_of),
            (None, as_of) => ((vec![], None), as_of),
        };
    let sessions_due = counts.sessions_due;
    let engagement_shown = program.engagement_shown(k);
    let digest = Digest {
        published: true,
        enrolled: Some(counts.enrolled),
        started: Some(counts.started),
        start_rate: percent(counts.started, counts.enrolled),
        completion_rate: (counts.started >= k)
            .then(|| percent(counts.completed_all, counts.started))
            .flatten(),
        completion_to_date: !facts.program_over,
        eligible: Some(program.eligible),
        asked: Some(program.asked),
        responded: engagement_shown.then_some(program.responded),
        engagement: engagement_shown
            .then(|| percent(program.responded, program.asked))
            .flatten(),
        engagement_note: engagement_note(&program, k),
        // A split about one week needs k people behind it (none is no one).
        actions: (facts.action_people == 0 || facts.action_people >= k).then_some(facts.actions),
        checkins_sent: Some(facts.checkins_sent),
        manager_support_rate: (facts.checkin_managers >= k)
            .then(|| percent(facts.checkins_supported, facts.checkins_sent))
            .flatten(),
        session_usage: percent(counts.sessions_completed.min(sessions_due), sessions_due),
        momentum: program.momentum.and_then(percent_f),
        momentum_change: program.change(prev(&program_key)),
        dropping: engagement_shown
            .then(|| program.dropping(prev(&program_key), &s.momentum))
            .flatten(),
        themes,
        other_themes,
        themes_as_of,
        self_assessment_shift: held_mean(
            &mut ledger,
            "shift",
            enrolled(&facts.participants, false)
                .filter_map(|p| Some((p.id, p.latest_shift()?, p.latest_day()?))),
        ),
        follow_ups: follow_ups(facts, &mut ledger),
        manager_observation: held_mean(
            &mut ledger,
            "observation",
            enrolled(&facts.participants, false).filter_map(|p| Some((p.id, p.observation?, 0))),
        ),
        pulse: Mean::of(facts.pulse_answers.iter().copied(), k),
        groups,
        groups_not_shown: not_shown,
        ..head
    };
    Composed {
        digest,
        trends,
        held: ledger.published,
    }
}

/// A mean over (participant, value, day) contributions, held until k of them
/// changed: shown "as of" the week it was last published.
fn held_mean(
    ledger: &mut Ledger,
    key: &str,
    contributions: impl Iterator<Item = (i64, i64, u32)>,
) -> Option<Mean> {
    let all: Vec<(i64, i64, u32)> = contributions.collect();
    let fresh = Mean::of(all.iter().map(|c| c.1), ledger.k);
    let who = all
        .iter()
        .map(|(p, v, d)| (*p, fingerprint((v, d))))
        .collect();
    let (mean, as_of) = ledger.figure(key, fresh, who);
    mean.map(|m| Mean { as_of, ..m })
}

/// Why a group's engagement is not shown this week, if it is not.
fn engagement_note(t: &Trend, k: u64) -> Option<EngagementNote> {
    match t.asked {
        0 => Some(EngagementNote::NoPrompts),
        n if n < k => Some(EngagementNote::TooFewAsked),
        _ => None,
    }
}

/// The shift at each follow-up day, and against the comparison cohort (the
/// difference of the two unrounded means, when both sides have k people);
/// each held until k of its contributions changed.
fn follow_ups(facts: &WeekFacts, ledger: &mut Ledger) -> Vec<FollowUp> {
    let k = ledger.k;
    let at = |day: u32, comparison: bool| {
        enrolled(&facts.participants, comparison)
            .filter_map(|p| {
                let shift = p.shifts.iter().find(|(d, _)| *d == day)?.1;
                Some((p.id, shift, day))
            })
            .collect::<Vec<(i64, i64, u32)>>()
    };
    facts
        .follow_up_days
        .iter()
        .map(|&day| {
            let own = at(day, false);
            let (comparison, comparison_as_of) = if facts.has_comparison {
                let other = at(day, true);
                let values =
                    |side: &[(i64, i64, u32)]| side.iter().map(|c| c.1).collect::<Vec<i64>>();
                let fresh = match (own.len() as u64 >= k, other.len() as u64 >= k) {
                    (true, true) => Comparison::Shown {
                        difference: round1(
                            unrounded_mean(&values(&own)) - unrounded_mean(&values(&other)),
                        ),
                        n_program: own.len() as u64,
                        n_comparison: other.len() as u64,
                    },
                    (false, _) => Comparison::ProgramTooSmall,
                    (_, false) => Comparison::ComparisonTooSmall,
                };
                let who = own
                    .iter()
                    .chain(&other)
                    .map(|(p, v, _)| (*p, fingerprint(v)))
                    .collect();
                let (shown, as_of) = ledger.figure(
                    &format!("comparison:{day}"),
                    matches!(fresh, Comparison::Shown { .. }).then_some(fresh),
                    who,
                );
                (Some(shown.unwrap_or(fresh)), as_of)
            } else {
                (None, None)
            };
            FollowUp {
                day,
                shift: held_mean(ledger, &format!("shift:{day}"), own.into_iter()),
                comparison,
                comparison_as_of,
            }
        })
        .collect()
}

fn unrounded_mean(values: &[i64]) -> f64 {
    values.iter().sum::<i64>() as f64 / values.len().max(1) as f64
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Enrolled participants of the program proper, or of its comparison cohort.
fn enrolled(all: &[ParticipantWeek], comparison: bool) -> impl Iterator<Item = &ParticipantWeek> {
    all.iter()
        .filter(move |p| p.enrolled && p.comparison == comparison)
}

impl Digest {
    fn empty() -> Digest {
        Digest {
            week: String::new(),
            from: String::new(),
            to: String::new(),
            anonymity_threshold: 0,
            published: false,
            enrolled: None,
            started: None,
            start_rate: None,
            completion_rate: None,
            completion_to_date: true,
            target_behaviour: None,
            business_goal: None,
            provisional: false,
            eligible: None,
            asked: None,
            responded: None,
            engagement: None,
            engagement_note: None,
            actions: None,
            checkins_sent: None,
            manager_support_rate: None,
            session_usage: None,
            momentum: None,
            momentum_change: None,
            dropping: None,
            themes: vec![],
            other_themes: None,
            themes_as_of: None,
            self_assessment_shift: None,
            follow_ups: vec![],
            manager_observation: None,
            pulse: None,
            groups: vec![],
            groups_not_shown: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn participant(i: usize, theme: &str) -> ParticipantWeek {
        ParticipantWeek {
            id: i as i64 + 1,
            enrolled: true,
            started: i < 16,
            sessions_due: 2,
            sessions_completed: if i < 16 { 2 } else { 0 },
            sessions_missing: if i < 16 { 0 } else { 2 },
            asked: true,
            responded: i < 12,
            groups: Groups {
                cohort: Some("autumn".into()),
                theme: Some(theme.into()),
            },
            ..Default::default()
        }
    }

    /// The seed's program: 18 leaders, 16 started.
    fn seed() -> WeekFacts {
        let themes = ["feedback", "delegation", "prioritisation"];
        WeekFacts {
            participants: (0..18)
                .map(|i| participant(i, if i == 17 { "conflict" } else { themes[i % 3] }))
                .collect(),
            actions: Actions {
                done: 9,
                partly: 4,
                not_yet: 2,
            },
            action_people: 12,
            checkins_sent: 10,
            checkins_supported: 7,
            checkin_managers: 5,
            ..Default::default()
        }
    }

    /// The same people in a week nobody was asked anything.
    fn quiet(mut facts: WeekFacts) -> WeekFacts {
        for p in facts.participants.iter_mut() {
            p.asked = false;
            p.responded = false;
        }
        facts.actions = Actions::default();
        facts.action_people = 0;
        facts
    }

    /// Composes weeks in order, as the service does; returns each digest.
    fn run(weeks: Vec<WeekFacts>) -> Vec<Digest> {
        let mut previous = History::default();
        let mut week = ProgramWeek::of(date(2026, 9, 7));
        let mut out = vec![];
        for facts in weeks {
            let c = compose(
                &week,
                &facts,
                &previous,
                &MetricSettings::default(),
                &Labels::new(),
            );
            out.push(c.digest.clone());
            previous = c.into_history(previous);
            week = week.next();
        }
        out
    }

    #[test]
    fn the_seed_week_in_numbers() {
        let labels: Labels = [("cohort:autumn".to_string(), "Autumn 2026".to_string())].into();
        let Composed {
            digest: d, trends, ..
        } = compose(
            &ProgramWeek::of(date(2026, 9, 14)),
            &seed(),
            &History::default(),
            &MetricSettings::default(),
            &labels,
        );
        assert!(d.published && !d.provisional);
        assert_eq!(d.week, "2026-W38");
        assert_eq!(
            (d.enrolled, d.started, d.start_rate),
            (Some(18), Some(16), Some(89))
        );
        assert_eq!(d.completion_rate, Some(100));
        assert_eq!((d.asked, d.responded), (Some(18), Some(12)));
        assert_eq!(d.engagement, Some(67), "12 of 18 asked");
        assert_eq!(d.manager_support_rate, Some(70));
        assert_eq!(d.session_usage, Some(89), "32 of 36 sessions due");
        assert_eq!(d.momentum, Some(67));
        assert_eq!(d.momentum_change, None, "no earlier week");
        // "conflict" (1 person) merges into other; other (1) is too small,
        // so the smallest named theme joins it.
        assert_eq!(d.themes.len(), 2);
        assert_eq!(d.other_themes, Some(6));
        assert!(d
            .groups
            .iter()
            .any(|g| g.name == "Autumn 2026" && g.people == 18));
        assert!(trends.iter().all(|(k, _)| !k.starts_with("manager")));
    }

    #[test]
    fn a_two_week_session_cadence_raises_no_alarm() {
        // Sessions every two weeks; nudges 1 and 4 days after: prompted
        // weeks alternate with quiet ones. 12 of 18 answer each prompted week.
        let weeks = vec![seed(), quiet(seed()), seed(), quiet(seed()), seed()];
        let d = run(weeks);
        for (i, w) in d.iter().enumerate() {
            assert_eq!(w.dropping, None, "week {i}");
            assert_eq!(w.momentum, Some(67), "week {i}: quiet weeks carry momentum");
        }
        assert_eq!(d[1].engagement, None);
        assert_eq!(d[1].engagement_note, Some(EngagementNote::NoPrompts));
        assert_eq!(d[1].momentum_change, Some(0));
        assert_eq!(d[2].momentum_change, Some(0));
    }

    #[test]
    fn a_real_drop_raises_the_alarm() {
        // 12 of 18 (67%), then 4 of 18 (22%): momentum 0.5·0.222 + 0.5·0.667 = 0.444.
        let mut fewer = seed();
        for p in fewer.participants.iter_mut().skip(4) {
            p.responded = false;
        }
        let d = run(vec![seed(), fewer]);
        assert_eq!(d[1].engagement, Some(22));
        assert_eq!(d[1].momentum, Some(44));
        assert_eq!(d[1].momentum_change, Some(-23), "44 − 67");
        assert_eq!(d[1].dropping, Some(Dropping::EngagementFell { points: 23 }));
    }

    #[test]
    fn a_quiet_week_between_two_prompted_weeks_keeps_the_trend() {
        // 12/18 = 0.667; quiet; 9/18 = 0.5 → 0.5·0.5 + 0.5·0.667 = 0.583 → 58, change −9 (no alarm).
        let mut half = seed();
        for (i, p) in half.participants.iter_mut().enumerate() {
            p.responded = i < 9;
        }
        let d = run(vec![seed(), quiet(seed()), half]);
        assert_eq!(d[1].momentum, Some(67));
        assert_eq!(d[2].engagement, Some(50));
        assert_eq!(d[2].momentum, Some(58));
        assert_eq!(d[2].momentum_change, Some(-9));
        assert_eq!(d[2].dropping, None);
    }

    #[test]
    fn too_few_asked_is_not_shown_and_does_not_move_momentum() {
        let mut few = quiet(seed());
        for p in few.participants.iter_mut().take(3) {
            p.asked = true;
        }
        let d = run(vec![seed(), few]);
        assert_eq!(d[1].engagement, None);
        assert_eq!(d[1].engagement_note, Some(EngagementNote::TooFewAsked));
        assert_eq!(d[1].responded, None);
        assert_eq!(d[1].momentum, Some(67));
        assert_eq!(d[1].dropping, None);
    }

    #[test]
    fn a_groups_trend_starts_at_its_first_published_week() {
        // Cohort "solo" holds one person for two weeks (hidden), then five.
        let mut facts = seed();
        facts.participants[0].groups.cohort = Some("solo".into());
        facts.participants[0].responded = false;
        let mut later = seed();
        for p in later.participants.iter_mut().take(5) {
            p.groups.cohort = Some("solo".into());
            p.responded = true;
        }
        let d = run(vec![facts.clone(), facts, later]);
        assert!(d[0].groups.iter().all(|g| g.name != "solo"));
        let solo = d[2].groups.iter().find(|g| g.name == "solo").unwrap();
        // 5 of 5: its first published engagement is its momentum.
        assert_eq!((solo.engagement, solo.momentum), (Some(100), Some(100)));
        assert_eq!(solo.momentum_change, None, "no published week before");
    }

    #[test]
    fn an_actions_split_from_fewer_than_k_people_is_not_published() {
        // The demo's last digest said "1 done, 0 partly, 1 not yet" for two people.
        let mut two = seed();
        two.actions = Actions {
            done: 1,
            partly: 0,
            not_yet: 1,
        };
        two.action_people = 2;
        assert_eq!(run(vec![two])[0].actions, None);
        let mut five = seed();
        five.action_people = 5;
        assert_eq!(run(vec![five])[0].actions.map(|a| a.done), Some(9));
    }

    #[test]
    fn one_persons_new_focus_does_not_move_the_theme_counts() {
        let before = seed();
        let mut after = seed();
        after.participants[0].groups.theme = Some("delegation".into());
        let d = run(vec![before, after]);
        assert_eq!(d[1].themes, d[0].themes, "held at week 1's counts");
        assert_eq!(d[1].themes_as_of.as_deref(), Some(d[0].week.as_str()));
        // Five people choosing: republished with the new counts.
        let mut many = seed();
        for p in many
            .participants
            .iter_mut()
            .filter(|p| p.groups.theme.as_deref() != Some("delegation"))
            .take(5)
        {
            p.groups.theme = Some("delegation".into());
        }
        let d = run(vec![seed(), many]);
        assert_eq!(d[1].themes_as_of, None);
        assert_ne!(d[1].themes, d[0].themes);
    }

    #[test]
    fn a_program_under_k_publishes_nothing() {
        let mut facts = seed();
        facts.participants.truncate(4);
        let Composed { digest: d, .. } = compose(
            &ProgramWeek::of(date(2026, 9, 14)),
            &facts,
            &History::default(),
            &MetricSettings::default(),
            &Labels::new(),
        );
        assert!(!d.published);
        assert_eq!((d.enrolled, d.engagement, d.actions), (None, None, None));
        assert!(d.groups.is_empty() && d.themes.is_empty());
    }

    #[test]
    fn the_comparison_is_per_follow_up_day_from_unrounded_means() {
        let mut facts = seed();
        facts.has_comparison = true;
        facts.follow_up_days = vec![30, 60];
        // Program: 5 people with shifts 1,1,1,1,2 at +30 (mean 1.2).
        for (i, p) in facts.participants.iter_mut().take(5).enumerate() {
            p.shifts = vec![(30, if i == 4 { 2 } else { 1 })];
        }
        // Comparison: 5 with shifts 0,0,0,1,0 at +30 (mean 0.2); 2 at +60.
        for i in 0..5 {
            facts.participants.push(ParticipantWeek {
                id: 100 + i64::from(i),
                enrolled: true,
                comparison: true,
                shifts: if i < 2 {
                    vec![(30, i64::from(i == 3)), (60, 1)]
                } else {
                    vec![(30, i64::from(i == 3))]
                },
                ..Default::default()
            });
        }
        let Composed { digest: d, .. } = compose(
            &ProgramWeek::of(date(2026, 9, 14)),
            &facts,
            &History::default(),
            &MetricSettings::default(),
            &Labels::new(),
        );
        assert_eq!(d.follow_ups.len(), 2);
        assert_eq!(
            d.follow_ups[0].shift,
            Some(Mean {
                mean: 1.2,
                n: 5,
                as_of: None
            })
        );
        assert_eq!(
            d.follow_ups[0].comparison,
            Some(Comparison::Shown {
                difference: 1.0,
                n_program: 5,
                n_comparison: 5
            })
        );
        assert_eq!(
            d.follow_ups[1].comparison,
            Some(Comparison::ProgramTooSmall)
        );
        // The comparison cohort counts nowhere else.
        assert_eq!(d.enrolled, Some(18));
    }

    proptest! {
        /// The attack: one person alone in cohort "solo" for four
        /// weeks, four more join in week 5. Whatever the first person did in
        /// the hidden weeks, every published figure of week 5 is the same.
        #[test]
        fn hidden_weeks_never_seed_a_published_trend(history in proptest::collection::vec(any::<(bool, bool)>(), 4)) {
            let week_of = |solo: usize, responded: &[bool]| {
                let mut f = seed();
                for (i, p) in f.participants.iter_mut().enumerate() {
                    if i < solo {
                        p.groups.cohort = Some("solo".into());
                        p.responded = responded[i];
                    }
                }
                f
            };
            let mut weeks: Vec<WeekFacts> = history
                .iter()
                .map(|&(asked, responded)| {
                    let mut f = week_of(1, &[responded]);
                    f.participants[0].asked = asked;
                    f
                })
                .collect();
            weeks.push(week_of(5, &[true, true, false, true, true]));
            let published = run(weeks).pop().unwrap();
            let baseline = run(
                (0..4).map(|_| week_of(1, &[false])).chain([week_of(5, &[true, true, false, true, true])]).collect(),
            )
            .pop()
            .unwrap();
            let solo = published.groups.iter().find(|g| g.name == "solo").cloned();
            prop_assert!(solo.is_some(), "the solo cohort is published in week 5");
            prop_assert_eq!(&published.groups, &baseline.groups);
            let solo = solo.unwrap();
            prop_assert_eq!(solo.momentum_change, None, "no published week before");
        }

        #[test]
        fn no_published_group_is_small_and_no_hidden_one_can_be_derived(
            people in proptest::collection::vec((0usize..4, 0usize..5, any::<bool>(), any::<bool>()), 0..60),
            k in 2u32..8,
        ) {
            let facts = WeekFacts {
                participants: people.iter().enumerate().map(|(i, &(c, t, answered, paused))| ParticipantWeek {
                    id: i as i64,
                    enrolled: true,
                    started: true,
                    asked: true,
                    responded: answered,
                    paused_all_week: paused,
                    groups: Groups {
                        cohort: (c > 0).then(|| format!("c{c}")),
                        theme: (t > 0).then(|| format!("t{t}")),
                    },
                    ..Default::default()
                }).collect(),
                ..Default::default()
            };
            let s = MetricSettings { anonymity_threshold: k, ..Default::default() };
            let Composed { digest: d, trends, .. } = compose(&ProgramWeek::of(date(2026, 9, 14)), &facts, &History::default(), &s, &Labels::new());
            let k = u64::from(k);
            for g in &d.groups {
                prop_assert!(g.people >= k);
            }
            for t in &d.themes {
                prop_assert!(t.participants >= k);
            }
            if d.published {
                prop_assert!(d.eligible.unwrap() >= k && d.enrolled.unwrap() >= k);
            }
            // Per breakdown: the people of hidden groups (and those in no
            // group) are none, or two or more groups holding at least k.
            let program = trends[0].1;
            for dim in Dimension::ALL {
                let prefix = format!("{}:", dim.as_str());
                let all: Vec<(&String, &Trend)> = trends.iter().filter(|(key, _)| key.starts_with(&prefix)).map(|(k, t)| (k, t)).collect();
                let shown_eligible: u64 = all.iter()
                    .filter(|(key, _)| d.groups.iter().any(|g| g.dimension == dim && prefix.clone() + &g.name == **key))
                    .map(|(_, t)| t.people)
                    .sum();
                let shown_count = d.groups.iter().filter(|g| g.dimension == dim).count();
                let hidden_real = all.len() - shown_count;
                let ungrouped = program.people - all.iter().map(|(_, t)| t.people).sum::<u64>();
                // What "everyone minus the shown groups" reveals: the hidden
                // groups together with the people in no group.
                let remainder = program.people - shown_eligible;
                if shown_count == 0 {
                    continue;
                }
                if hidden_real == 0 {
                    prop_assert!(ungrouped == 0 || ungrouped >= k, "{dim:?}: {ungrouped} ungrouped shown by difference");
                } else {
                    let parts = hidden_real + usize::from(ungrouped > 0);
                    prop_assert!(parts >= 2 && remainder >= k,
                        "{dim:?}: {hidden_real} hidden groups, {ungrouped} ungrouped, {remainder} people");
                }
            }
        }
    }
}
