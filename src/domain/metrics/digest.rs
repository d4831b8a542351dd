//! The weekly digest: the published numbers of one program week, with every
//! figure about fewer than k people left out (complementarily) and no free
//! text from anyone. What sponsors read, what exports and the API return.

use super::anonymity::{merge_small, publishable};
use super::*;
use std::collections::HashMap;

/// A breakdown the digest shows per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Cohort,
    Theme,
    Manager,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Cohort, Dimension::Theme, Dimension::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Cohort => "cohort",
            Dimension::Theme => "theme",
            Dimension::Manager => "manager",
        }
    }

    fn of(self, g: &Groups) -> Option<&str> {
        match self {
            Dimension::Cohort => g.cohort.as_deref(),
            Dimension::Theme => g.theme.as_deref(),
            Dimension::Manager => g.manager.as_deref(),
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
    /// The cohort's or theme's name, or the manager's (for their team).
    pub name: String,
    pub people: u64,
    pub engagement: Option<u32>,
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
    pub enrolled: Option<u64>,
    pub started: Option<u64>,
    pub start_rate: Option<u32>,
    pub completion_rate: Option<u32>,
    /// True until the last planned session date has passed ("to date").
    pub completion_to_date: bool,
    pub eligible: Option<u64>,
    pub active: Option<u64>,
    pub engagement: Option<u32>,
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
    /// Self-assessment shift (latest follow-up − baseline) over the program's
    /// participants who have both, with n; absent under k.
    #[serde(default)]
    pub self_assessment_shift: Option<Mean>,
    /// Managers' latest observation, with n; absent under k.
    #[serde(default)]
    pub manager_observation: Option<Mean>,
    /// Against the comparison cohort, when the program has one.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Per cohort, theme and manager's team: shown groups only.
    pub groups: Vec<GroupFigures>,
    /// How many groups were left out because they (or a complement) are small.
    pub groups_not_shown: u64,
}

/// Labels for group keys (a manager's key is their id; the digest shows a name).
pub type Labels = HashMap<String, String>;

/// The digest of `week`, and every trend to store for next week's momentum
/// (trends of hidden groups too: they are never published).
pub fn compose(
    week: &ProgramWeek,
    facts: &WeekFacts,
    previous: &HashMap<String, Trend>,
    s: &MetricSettings,
    labels: &Labels,
) -> (Digest, Vec<(String, Trend)>) {
    let k = u64::from(s.anonymity_threshold);
    // The comparison cohort only serves the comparison; every other figure
    // is about the program's own participants.
    let main: Vec<&ParticipantWeek> = facts
        .participants
        .iter()
        .filter(|p| !p.comparison)
        .collect();
    let prev = |key: &str| previous.get(key).and_then(|t| t.momentum);
    let program_key = trend_key(None);
    let program = Trend::of(main.iter().copied(), prev(&program_key), s.momentum_alpha);
    let mut trends = vec![(program_key.clone(), program)];
    let mut groups = Vec::new();
    let mut not_shown = 0;
    for d in Dimension::ALL {
        let mut members: HashMap<&str, Vec<&ParticipantWeek>> = HashMap::new();
        for p in main.iter().copied().filter(|p| p.enrolled) {
            if let Some(g) = d.of(&p.groups) {
                members.entry(g).or_default().push(p);
            }
        }
        if members.is_empty() {
            continue;
        }
        let mut keys: Vec<&str> = members.keys().copied().collect();
        keys.sort();
        let group_trends: Vec<Trend> = keys
            .iter()
            .map(|g| {
                let key = trend_key(Some((d, g)));
                Trend::of(members[g].iter().copied(), prev(&key), s.momentum_alpha)
            })
            .collect();
        // People without a group of this kind count as one more group, so a
        // hidden group cannot be read off "everyone minus the shown ones".
        let ungrouped = program.eligible - group_trends.iter().map(|t| t.eligible).sum::<u64>();
        let mut sizes: Vec<u64> = group_trends.iter().map(|t| t.eligible).collect();
        if ungrouped > 0 {
            sizes.push(ungrouped);
        }
        let shown = publishable(&sizes, k);
        for (i, (g, t)) in keys.iter().zip(&group_trends).enumerate() {
            let key = trend_key(Some((d, g)));
            if shown[i] {
                // A manager's team is named after the manager (templates say "team").
                let name = labels.get(&key).cloned().unwrap_or_else(|| g.to_string());
                groups.push(GroupFigures {
                    dimension: d,
                    name,
                    people: t.people,
                    engagement: t.engagement().and_then(percent_f),
                    momentum: t.momentum.and_then(percent_f),
                    momentum_change: t.change(prev(&key)),
                    dropping: t.dropping(prev(&key), s),
                });
            } else {
                not_shown += 1;
            }
            trends.push((key, *t));
        }
    }
    let (from, to) = (week.monday.to_string(), week.sunday().to_string());
    let counts = Counts::of(main.iter().copied());
    if counts.enrolled < k || program.eligible < k {
        let digest = Digest {
            week: week.iso(),
            from,
            to,
            anonymity_threshold: s.anonymity_threshold,
            published: false,
            ..Digest::empty()
        };
        return (digest, trends);
    }
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
    let sessions_due = counts.enrolled * u64::from(facts.sessions_due);
    let digest = Digest {
        week: week.iso(),
        from,
        to,
        anonymity_threshold: s.anonymity_threshold,
        published: true,
        enrolled: Some(counts.enrolled),
        started: Some(counts.started),
        start_rate: percent(counts.started, counts.enrolled),
        completion_rate: (counts.started >= k)
            .then(|| percent(counts.completed_all, counts.started))
            .flatten(),
        completion_to_date: !facts.program_over,
        eligible: Some(program.eligible),
        active: Some(program.active),
        engagement: program.engagement().and_then(percent_f),
        actions: Some(facts.actions),
        checkins_sent: Some(facts.checkins_sent),
        manager_support_rate: (facts.checkins_sent >= k)
            .then(|| percent(facts.checkins_supported, facts.checkins_sent))
            .flatten(),
        session_usage: percent(counts.sessions_completed.min(sessions_due), sessions_due),
        momentum: program.momentum.and_then(percent_f),
        momentum_change: program.change(prev(&program_key)),
        dropping: program.dropping(prev(&program_key), s),
        themes: themes
            .into_iter()
            .map(|(theme, participants)| ThemeCount {
                theme,
                participants,
            })
            .collect(),
        other_themes: (other >= k).then_some(other),
        groups,
        groups_not_shown: not_shown,
        ..Digest::empty()
    };
    let digest = Digest {
        self_assessment_shift: shift(&facts.participants, false, k),
        manager_observation: Mean::of(
            enrolled(&facts.participants, false).filter_map(|p| p.observation),
            k,
        ),
        comparison: facts.has_comparison.then(|| {
            match (
                shift(&facts.participants, false, k),
                shift(&facts.participants, true, k),
            ) {
                (Some(a), Some(b)) => Comparison::Shown {
                    difference: ((a.mean - b.mean) * 10.0).round() / 10.0,
                    n_program: a.n,
                    n_comparison: b.n,
                },
                (None, _) => Comparison::ProgramTooSmall,
                (_, None) => Comparison::ComparisonTooSmall,
            }
        }),
        ..digest
    };
    (digest, trends)
}

/// Enrolled participants of the program proper, or of its comparison cohort.
fn enrolled(all: &[ParticipantWeek], comparison: bool) -> impl Iterator<Item = &ParticipantWeek> {
    all.iter()
        .filter(move |p| p.enrolled && p.comparison == comparison)
}

/// The mean self-assessment shift of one side, published from k people.
fn shift(all: &[ParticipantWeek], comparison: bool, k: u64) -> Option<Mean> {
    Mean::of(enrolled(all, comparison).filter_map(|p| p.self_shift), k)
}

/// A share (0..1) as a whole percentage, rounded half up.
fn percent_f(x: f64) -> Option<u32> {
    x.is_finite()
        .then(|| round_half_up(x * 100.0).max(0) as u32)
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
            eligible: None,
            active: None,
            engagement: None,
            actions: None,
            checkins_sent: None,
            manager_support_rate: None,
            session_usage: None,
            momentum: None,
            momentum_change: None,
            dropping: None,
            themes: vec![],
            other_themes: None,
            self_assessment_shift: None,
            manager_observation: None,
            comparison: None,
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

    fn participant(i: usize, theme: &str, manager: &str) -> ParticipantWeek {
        ParticipantWeek {
            enrolled: true,
            started: i < 16,
            sessions_completed: if i < 16 { 2 } else { 0 },
            sessions_missing: if i < 16 { 0 } else { 2 },
            active: i < 12,
            active_last_week: i < 14,
            enrolled_last_week: true,
            groups: Groups {
                cohort: Some("autumn".into()),
                theme: Some(theme.into()),
                manager: Some(manager.into()),
            },
            ..Default::default()
        }
    }

    /// The seed's program: 18 leaders, 16 started.
    fn seed() -> WeekFacts {
        let themes = ["feedback", "delegation", "prioritisation"];
        WeekFacts {
            participants: (0..18)
                .map(|i| {
                    let theme = if i == 17 { "conflict" } else { themes[i % 3] };
                    participant(i, theme, if i < 9 { "m1" } else { "m2" })
                })
                .collect(),
            actions: Actions {
                done: 9,
                partly: 4,
                not_yet: 2,
            },
            checkins_sent: 10,
            checkins_supported: 7,
            sessions_due: 2,
            program_over: false,
            has_comparison: false,
        }
    }

    #[test]
    fn the_seed_week_in_numbers() {
        let week = ProgramWeek::of(date(2026, 9, 14));
        let labels: Labels = [("manager:m1".to_string(), "Pavel Svoboda".to_string())].into();
        let (d, trends) = compose(
            &week,
            &seed(),
            &HashMap::new(),
            &MetricSettings::default(),
            &labels,
        );
        assert!(d.published);
        assert_eq!(d.week, "2026-W38");
        assert_eq!(
            (d.enrolled, d.started, d.start_rate),
            (Some(18), Some(16), Some(89))
        );
        assert_eq!(d.completion_rate, Some(100));
        assert!(d.completion_to_date);
        assert_eq!(d.engagement, Some(67), "12 of 18");
        assert_eq!(d.manager_support_rate, Some(70));
        assert_eq!(d.session_usage, Some(89), "32 of 36 sessions due");
        assert_eq!(d.momentum, Some(67));
        assert_eq!(d.momentum_change, None, "no earlier week");
        // "conflict" (1 person) merges into other; other (1) is too small,
        // so the smallest named theme joins it.
        assert_eq!(d.themes.len(), 2);
        assert_eq!(d.other_themes, Some(6));
        assert!(d.groups.iter().any(|g| g.name == "Pavel Svoboda"
            && g.dimension == Dimension::Manager
            && g.people == 9));
        assert!(trends.iter().any(|(k, _)| k == "program"));
        // Next week, momentum continues from the stored trends.
        let previous: HashMap<String, Trend> = trends.into_iter().collect();
        let mut quieter = seed();
        for p in quieter.participants.iter_mut().skip(4) {
            p.active = false;
        }
        let (d2, _) = compose(
            &week.next(),
            &quieter,
            &previous,
            &MetricSettings::default(),
            &labels,
        );
        // Engagement 4/18 = 0.222; momentum 0.5·0.222 + 0.5·0.667 = 0.444.
        assert_eq!(d2.momentum, Some(44));
        assert_eq!(d2.momentum_change, Some(-22));
        assert_eq!(d2.dropping, Some(Dropping::EngagementFell { points: 22 }));
    }

    #[test]
    fn a_program_under_k_publishes_nothing() {
        let mut facts = seed();
        facts.participants.truncate(4);
        let (d, _) = compose(
            &ProgramWeek::of(date(2026, 9, 14)),
            &facts,
            &HashMap::new(),
            &MetricSettings::default(),
            &Labels::new(),
        );
        assert!(!d.published);
        assert_eq!((d.enrolled, d.engagement, d.actions), (None, None, None));
        assert!(d.groups.is_empty() && d.themes.is_empty());
    }

    proptest! {
        #[test]
        fn no_published_group_is_small_and_no_hidden_one_can_be_derived(
            people in proptest::collection::vec((0usize..4, 0usize..5, 0usize..6, any::<bool>(), any::<bool>()), 0..60),
            k in 2u32..8,
        ) {
            let facts = WeekFacts {
                participants: people.iter().map(|&(c, t, m, active, paused)| ParticipantWeek {
                    enrolled: true,
                    started: true,
                    active,
                    enrolled_last_week: true,
                    paused_all_week: paused,
                    groups: Groups {
                        cohort: (c > 0).then(|| format!("c{c}")),
                        theme: (t > 0).then(|| format!("t{t}")),
                        manager: (m > 0).then(|| format!("m{m}")),
                    },
                    ..Default::default()
                }).collect(),
                ..Default::default()
            };
            let s = MetricSettings { anonymity_threshold: k, ..Default::default() };
            let (d, trends) = compose(&ProgramWeek::of(date(2026, 9, 14)), &facts, &HashMap::new(), &s, &Labels::new());
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
            // Per breakdown: the eligible people of hidden groups (and those in
            // no group) are none, or two or more groups holding at least k.
            let program = trends[0].1;
            for dim in Dimension::ALL {
                let prefix = format!("{}:", dim.as_str());
                let all: Vec<(&String, &Trend)> = trends.iter().filter(|(key, _)| key.starts_with(&prefix)).map(|(k, t)| (k, t)).collect();
                let shown_eligible: u64 = all.iter()
                    .filter(|(key, _)| d.groups.iter().any(|g| g.dimension == dim && prefix.clone() + &g.name == **key))
                    .map(|(_, t)| t.eligible)
                    .sum();
                let shown_count = d.groups.iter().filter(|g| g.dimension == dim).count();
                let hidden_real = all.len() - shown_count;
                let ungrouped = program.eligible - all.iter().map(|(_, t)| t.eligible).sum::<u64>();
                // What "everyone minus the shown groups" reveals: the hidden
                // groups together with the people in no group.
                let remainder = program.eligible - shown_eligible;
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
