//! Anonymity (PRODUCT.md): a figure about a group is published only when the
//! group has at least k people, and suppression is complementary — a hidden
//! group's figure must not follow from a published total minus the shown
//! groups. So the hidden groups of one breakdown are either none, or at least
//! two that together hold at least k people (more are hidden, smallest
//! first, until that holds). Across breakdowns, two published figures whose
//! people differ by 1 to k−1 on either side give that difference away: one
//! of them is suppressed (`suppress`).

use std::collections::BTreeSet;

/// A group figure that may be published: its breakdown (`rank`: themes 0,
/// cohorts 1 — the order in which conflicts suppress), its key, and the
/// people behind it (indices of participants).
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub rank: u8,
    pub key: &'a str,
    pub people: BTreeSet<usize>,
}

/// Which candidates may be published, PRODUCT.md's rules together until
/// nothing changes: each has at least k people; no published one differs
/// from the program's people (`program`, never suppressed) or from another
/// published one by 1 to k−1 people on either side — the first in the fixed
/// order (theme before cohort, smaller first, ties by key) goes; and within
/// a breakdown the hidden groups with those in none are none, or two or
/// more holding at least k.
pub fn suppress(program: &BTreeSet<usize>, groups: &[Candidate], k: u64) -> Vec<bool> {
    let leaks = |a: &BTreeSet<usize>, b: &BTreeSet<usize>| {
        let close = |n: usize| n > 0 && (n as u64) < k;
        close(a.difference(b).count()) || close(b.difference(a).count())
    };
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| (groups[i].rank, groups[i].people.len(), groups[i].key));
    let mut shown: Vec<bool> = groups.iter().map(|g| g.people.len() as u64 >= k).collect();
    loop {
        let mut changed = false;
        for &i in &order {
            if !shown[i] {
                continue;
            }
            let g = &groups[i].people;
            let conflict = leaks(program, g)
                || order
                    .iter()
                    .any(|&j| j != i && shown[j] && leaks(g, &groups[j].people));
            if conflict {
                shown[i] = false;
                changed = true;
                break;
            }
        }
        // Complementary suppression within each breakdown.
        for rank in [0u8, 1] {
            let idx: Vec<usize> = (0..groups.len())
                .filter(|&i| groups[i].rank == rank)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let grouped: BTreeSet<usize> = idx
                .iter()
                .flat_map(|&i| groups[i].people.iter().copied())
                .collect();
            let ungrouped = program.difference(&grouped).count() as u64;
            let mut sizes: Vec<u64> = idx.iter().map(|&i| groups[i].people.len() as u64).collect();
            let mut pre: Vec<bool> = idx.iter().map(|&i| shown[i]).collect();
            if ungrouped > 0 {
                sizes.push(ungrouped);
                pre.push(false);
            }
            let after = publishable_from(&sizes, pre, k);
            for (n, &i) in idx.iter().enumerate() {
                if shown[i] && !after[n] {
                    shown[i] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return shown;
        }
    }
}

/// Which groups of one breakdown (sizes in people) may be shown.
pub fn publishable(sizes: &[u64], k: u64) -> Vec<bool> {
    publishable_from(sizes, sizes.iter().map(|&s| s >= k).collect(), k)
}

/// The same, from groups already hidden for another reason.
fn publishable_from(sizes: &[u64], mut shown: Vec<bool>, k: u64) -> Vec<bool> {
    loop {
        let hidden: Vec<u64> = (0..sizes.len())
            .filter(|&i| !shown[i])
            .map(|i| sizes[i])
            .collect();
        let safe = hidden.is_empty() || (hidden.len() >= 2 && hidden.iter().sum::<u64>() >= k);
        if safe {
            return shown;
        }
        // Hide the smallest group still shown; stop when none is left.
        match (0..sizes.len())
            .filter(|&i| shown[i])
            .min_by_key(|&i| (sizes[i], i))
        {
            Some(i) => shown[i] = false,
            None => return shown,
        }
    }
}

/// Themes with fewer than k participants merge into "other"; if "other" is
/// then non-empty but still under k, the smallest themes join it until it
/// reaches k (or everything is "other"). Every count returned is ≥ k, except
/// an "other" that holds everyone (then the caller publishes nothing: the
/// whole program is under k).
pub fn merge_small(counts: Vec<(String, u64)>, k: u64) -> (Vec<(String, u64)>, u64) {
    let mut kept: Vec<(String, u64)> = Vec::new();
    let mut other = 0;
    for (name, n) in counts {
        if n >= k {
            kept.push((name, n));
        } else {
            other += n;
        }
    }
    // Largest first; ties by name, so the result does not depend on order.
    kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    while other > 0 && other < k {
        match kept.pop() {
            Some((_, n)) => other += n,
            None => break,
        }
    }
    (kept, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_lone_small_group_takes_the_next_smallest_with_it() {
        assert_eq!(
            publishable(&[12, 3, 7, 9], 5),
            vec![true, false, false, true]
        );
        assert_eq!(publishable(&[6, 6, 6], 5), vec![true, true, true]);
        // Two small groups that together are still under k: a third goes.
        assert_eq!(
            publishable(&[1, 2, 8, 9], 5),
            vec![false, false, false, true]
        );
    }

    #[test]
    fn small_themes_merge_into_other_until_other_is_large_enough() {
        let counts = vec![
            ("feedback".to_string(), 7),
            ("delegation".to_string(), 6),
            ("conflict".to_string(), 2),
        ];
        let (kept, other) = merge_small(counts, 5);
        assert_eq!(kept, vec![("feedback".to_string(), 7)]);
        assert_eq!(other, 8);
    }

    /// The eleven people: cohorts A = p1–p5, B = p6–p11; themes
    /// T1 = p1–p6, T2 = p7–p11. T1 − A would be p6: the theme goes first.
    #[test]
    fn breakdowns_that_differ_by_one_person_are_not_both_published() {
        let set = |r: std::ops::Range<usize>| r.collect::<BTreeSet<usize>>();
        let program = set(1..12);
        let groups = [
            Candidate {
                rank: 1,
                key: "a",
                people: set(1..6),
            },
            Candidate {
                rank: 1,
                key: "b",
                people: set(6..12),
            },
            Candidate {
                rank: 0,
                key: "t1",
                people: set(1..7),
            },
            Candidate {
                rank: 0,
                key: "t2",
                people: set(7..12),
            },
        ];
        let shown = suppress(&program, &groups, 5);
        // T1 (6) differs from A by p6 and T2 (5) from B by p6: both themes go
        // (and with them complementary suppression is satisfied); the
        // cohorts stay.
        assert_eq!(shown, vec![true, true, false, false]);
    }

    proptest! {
        #[test]
        fn no_two_published_figures_differ_by_fewer_than_k_people(
            membership in proptest::collection::vec((0usize..4, 0usize..4), 0..40),
            k in 2u64..7,
        ) {
            let program: BTreeSet<usize> = (0..membership.len()).collect();
            let mut groups = Vec::new();
            let keys = ["g0", "g1", "g2", "g3"];
            for (rank, pick) in [(0u8, 0usize), (1, 1)] {
                for (g, key) in keys.iter().enumerate().skip(1) {
                    let people: BTreeSet<usize> = membership
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| if pick == 0 { m.0 == g } else { m.1 == g })
                        .map(|(i, _)| i)
                        .collect();
                    if !people.is_empty() {
                        groups.push(Candidate { rank, key, people });
                    }
                }
            }
            let shown = suppress(&program, &groups, k);
            let published: Vec<&BTreeSet<usize>> = groups
                .iter()
                .zip(&shown)
                .filter(|(_, s)| **s)
                .map(|(g, _)| &g.people)
                .collect();
            let close = |n: usize| n > 0 && (n as u64) < k;
            for (i, a) in published.iter().enumerate() {
                prop_assert!(a.len() as u64 >= k);
                prop_assert!(!close(program.difference(a).count()), "a group and the program differ by a few");
                for b in &published[i + 1..] {
                    prop_assert!(!close(a.difference(b).count()) && !close(b.difference(a).count()),
                        "two published groups differ by a few: {a:?} {b:?}");
                }
            }
        }

        #[test]
        fn no_shown_group_is_small_and_no_hidden_group_can_be_derived(
            sizes in proptest::collection::vec(0u64..30, 1..12),
            k in 1u64..12,
        ) {
            let shown = publishable(&sizes, k);
            let hidden: Vec<u64> = sizes.iter().zip(&shown).filter(|(_, s)| !**s).map(|(n, _)| *n).collect();
            for (n, s) in sizes.iter().zip(&shown) {
                if *s { prop_assert!(*n >= k); }
            }
            // Total minus the shown groups is the hidden groups' sum: it must
            // cover two or more groups and at least k people (or everything).
            let all_hidden = hidden.len() == sizes.len();
            prop_assert!(hidden.is_empty() || all_hidden || (hidden.len() >= 2 && hidden.iter().sum::<u64>() >= k));
        }

        #[test]
        fn merged_themes_are_never_small(
            counts in proptest::collection::vec(0u64..20, 0..10),
            k in 1u64..10,
        ) {
            let named: Vec<(String, u64)> = counts.iter().enumerate().map(|(i, n)| (format!("t{i}"), *n)).collect();
            let total: u64 = counts.iter().sum();
            let (kept, other) = merge_small(named, k);
            prop_assert!(kept.iter().all(|(_, n)| *n >= k));
            prop_assert!(other == 0 || other >= k || kept.is_empty());
            prop_assert_eq!(kept.iter().map(|(_, n)| n).sum::<u64>() + other, total);
        }
    }
}
