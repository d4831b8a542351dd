//! Figures that accumulate over weeks (self-assessment shifts, managers'
//! observation, the comparison, theme counts) are republished only once at
//! least k of their contributions changed since they were last published;
//! until then the last published value is shown "as of week W" (PRODUCT.md,
//! Anonymity). Otherwise two weeks' figures, n and n + 1, give away the one
//! person whose follow-up fell due in between. The check is against every
//! earlier publication, not only the last: people who change back must not
//! bring a figure within one person of one published long ago.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

/// What a figure was last published as, and from whom each time it was
/// published: participant id → a fingerprint of their contribution (never
/// the value itself), oldest first, the last publication last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    /// The ISO week it was last published in.
    pub week: String,
    pub value: serde_json::Value,
    pub contributions: Vec<BTreeMap<i64, u64>>,
}

/// How many people's contributions differ between two publications.
fn changed(a: &BTreeMap<i64, u64>, b: &BTreeMap<i64, u64>) -> usize {
    a.iter().filter(|(p, v)| b.get(p) != Some(v)).count()
        + b.keys().filter(|p| !a.contains_key(p)).count()
}

/// A contribution's fingerprint: equal values, equal fingerprints.
pub fn fingerprint(v: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// The figures held from earlier weeks, and those (re)published this week.
pub struct Ledger<'a> {
    pub before: &'a HashMap<String, Held>,
    pub week: String,
    pub k: u64,
    pub published: Vec<(String, Held)>,
}

impl Ledger<'_> {
    /// The figure to show for `key`: `fresh` when it was never published or
    /// at least k contributions changed since (then it is recorded), else
    /// the last published value with the week it is "as of".
    pub fn figure<T: Serialize + DeserializeOwned>(
        &mut self,
        key: &str,
        fresh: Option<T>,
        contributions: BTreeMap<i64, u64>,
    ) -> (Option<T>, Option<String>) {
        let prev = self.before.get(key);
        if let Some(prev) = prev {
            let last = prev.contributions.last();
            let too_close = |m: &BTreeMap<i64, u64>| {
                let n = changed(m, &contributions) as u64;
                n > 0 && n < self.k
            };
            let unchanged = last.is_some_and(|m| changed(m, &contributions) == 0);
            if unchanged || prev.contributions.iter().any(too_close) {
                let held = serde_json::from_value(prev.value.clone()).ok();
                return (held, Some(prev.week.clone()));
            }
        }
        if let Some(value) = fresh.as_ref().and_then(|f| serde_json::to_value(f).ok()) {
            let mut all = prev.map(|p| p.contributions.clone()).unwrap_or_default();
            all.push(contributions);
            self.published.push((
                key.to_string(),
                Held {
                    week: self.week.clone(),
                    value,
                    contributions: all,
                },
            ));
        }
        (fresh, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Over random weeks of people joining and changing their values, any
        /// two digests either show the same published value or values whose
        /// contributions differ in at least k people: no one person's value
        /// follows from subtracting them.
        #[test]
        fn two_digests_never_differ_by_fewer_than_k_contributions(
            weeks in proptest::collection::vec(proptest::collection::vec((0i64..12, 0i64..5), 0..4), 1..12),
            k in 2u64..6,
        ) {
            let mut now: BTreeMap<i64, i64> = BTreeMap::new();
            let mut held: HashMap<String, Held> = HashMap::new();
            // What each digest showed: the contributions of the value shown.
            let mut shown: Vec<BTreeMap<i64, u64>> = vec![];
            for (w, changes) in weeks.iter().enumerate() {
                for (person, value) in changes {
                    now.insert(*person, *value);
                }
                let who: BTreeMap<i64, u64> = now.iter().map(|(p, v)| (*p, fingerprint(v))).collect();
                let fresh = (now.len() as u64 >= k).then(|| now.values().sum::<i64>());
                let mut ledger = Ledger { before: &held, week: format!("W{w}"), k, published: vec![] };
                let (value, as_of) = ledger.figure("f", fresh, who.clone());
                let published = ledger.published;
                if value.is_some() {
                    shown.push(match as_of {
                        None => who,
                        Some(_) => held["f"].contributions.last().cloned().unwrap_or_default(),
                    });
                }
                held.extend(published);
            }
            for (i, a) in shown.iter().enumerate() {
                for b in &shown[i + 1..] {
                    if a == b {
                        continue;
                    }
                    let differ = changed(a, b);
                    prop_assert!(differ as u64 >= k, "two digests differ in {differ} < {k} people");
                }
            }
        }
    }

    #[test]
    fn a_figure_waits_for_k_changed_contributions() {
        let five: BTreeMap<i64, u64> = (1..=5).map(|p| (p, fingerprint(2))).collect();
        let before = HashMap::new();
        let mut week1 = Ledger {
            before: &before,
            week: "2026-W40".into(),
            k: 5,
            published: vec![],
        };
        assert_eq!(
            week1.figure("shift", Some(1.4), five.clone()),
            (Some(1.4), None)
        );
        let before: HashMap<String, Held> = week1.published.into_iter().collect();
        // A sixth person: one change is not enough, the old figure stays.
        let mut six = five.clone();
        six.insert(6, fingerprint(-2));
        let mut week2 = Ledger {
            before: &before,
            week: "2026-W41".into(),
            k: 5,
            published: vec![],
        };
        assert_eq!(
            week2.figure("shift", Some(0.8), six.clone()),
            (Some(1.4), Some("2026-W40".to_string()))
        );
        assert!(week2.published.is_empty());
        // Five more changes since W40: republished.
        let mut many = six;
        for p in 1..=4 {
            many.insert(p, fingerprint(3));
        }
        let mut week3 = Ledger {
            before: &before,
            week: "2026-W42".into(),
            k: 5,
            published: vec![],
        };
        assert_eq!(week3.figure("shift", Some(1.5), many), (Some(1.5), None));
        assert_eq!(week3.published.len(), 1);
    }
}
