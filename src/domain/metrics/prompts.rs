//! Who was asked in a week, who responded, and who has gone silent: from the
//! prompts sent to each participant (PRODUCT.md: a reminder belongs to the
//! week of the prompt it repeats, and an answer counts for the week its
//! prompt was sent, when it arrived before that week was composed).

use super::{ProgramWeek, WeekOf};
use crate::domain::time::Zone;
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// A prompt sent to a participant, and when it was first answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    pub participant: i64,
    pub sent: Timestamp,
    pub answered: Option<Timestamp>,
}

/// One participant's prompts in the measured week.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked {
    pub responded: bool,
    /// Every prompt of their last `weeks` prompted weeks (this one
    /// included) left unanswered.
    pub silent: bool,
}

/// The participants asked in `week`, with whether they responded and
/// whether they are silent. `cutoff` tells when each week is (or was)
/// composed: answers after it do not count for that week.
pub fn asked_in(
    prompts: &[Prompt],
    zone: &Zone,
    week: &ProgramWeek,
    weeks: u32,
    cutoff: impl Fn(&ProgramWeek) -> Timestamp,
) -> HashMap<i64, Asked> {
    // Per participant and prompted week (up to `week`): answered in time?
    let mut by_person: HashMap<i64, BTreeMap<ProgramWeek, bool>> = HashMap::new();
    let mut cutoffs: HashMap<ProgramWeek, Timestamp> = HashMap::new();
    let mut week_of = WeekOf::new(zone);
    for p in prompts {
        let w = week_of.week(p.sent);
        if w > *week {
            continue;
        }
        let until = *cutoffs.entry(w.clone()).or_insert_with(|| cutoff(&w));
        let answered = p.answered.is_some_and(|a| a < until);
        *by_person
            .entry(p.participant)
            .or_default()
            .entry(w)
            .or_default() |= answered;
    }
    by_person
        .into_iter()
        .filter_map(|(person, weeks_of)| {
            let responded = *weeks_of.get(week)?;
            let last: Vec<bool> = weeks_of
                .values()
                .rev()
                .take(weeks as usize)
                .copied()
                .collect();
            let silent = last.len() == weeks as usize && last.iter().all(|a| !a);
            Some((person, Asked { responded, silent }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn prompt(person: i64, sent: &str, answered: Option<&str>) -> Prompt {
        Prompt {
            participant: person,
            sent: at(sent),
            answered: answered.map(at),
        }
    }

    /// Weeks are composed on the Monday after them, 09:30 UTC.
    fn monday_after(w: &ProgramWeek) -> Timestamp {
        let next = w.next().monday;
        at(&format!("{next}T09:30:00Z"))
    }

    #[test]
    fn an_answer_after_the_week_but_before_its_digest_counts_for_the_week() {
        let zone = Zone::utc();
        let week = ProgramWeek::of(date(2026, 9, 14));
        let prompts = [
            // Sent Thursday, answered Saturday: responded.
            prompt(1, "2026-09-17T09:30:00Z", Some("2026-09-19T10:00:00Z")),
            // Sent Friday, answered Monday 08:00, before the 09:30 digest: responded.
            prompt(2, "2026-09-18T16:00:00Z", Some("2026-09-21T08:00:00Z")),
            // Answered Monday 10:00, after the digest: not for this week.
            prompt(3, "2026-09-18T16:00:00Z", Some("2026-09-21T10:00:00Z")),
            // Sent the week before: not asked this week.
            prompt(4, "2026-09-10T09:30:00Z", None),
        ];
        let asked = asked_in(&prompts, &zone, &week, 2, monday_after);
        assert_eq!(asked.len(), 3);
        assert!(asked[&1].responded && asked[&2].responded);
        assert!(!asked[&3].responded);
    }

    #[test]
    fn silent_means_every_prompt_of_the_last_prompted_weeks_unanswered() {
        let zone = Zone::utc();
        let week = ProgramWeek::of(date(2026, 9, 28));
        let prompts = [
            // Person 1: prompted weeks 14th and 28th (21st was quiet), never answered.
            prompt(1, "2026-09-15T09:30:00Z", None),
            prompt(1, "2026-09-29T09:30:00Z", None),
            // Person 2: answered two weeks ago, silent since: not two silent weeks yet.
            prompt(2, "2026-09-15T09:30:00Z", Some("2026-09-15T12:00:00Z")),
            prompt(2, "2026-09-29T09:30:00Z", None),
            // Person 3: first prompted week: one week cannot be two silent ones.
            prompt(3, "2026-09-29T09:30:00Z", None),
        ];
        let asked = asked_in(&prompts, &zone, &week, 2, monday_after);
        assert!(asked[&1].silent, "a quiet week between is not counted");
        assert!(!asked[&2].silent);
        assert!(!asked[&3].silent);
        // With one week as the rule, everyone unanswered this week is silent.
        let asked = asked_in(&prompts, &zone, &week, 1, monday_after);
        assert!(asked[&2].silent && asked[&3].silent);
    }
}
