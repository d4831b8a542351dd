//! Anonymity (PRODUCT.md): a figure about a group is published only when the
//! group has at least k people, and suppression is complementary — a hidden
//! group's figure must not follow from a published total minus the shown
//! groups. So the hidden groups of one breakdown are either none, or at least
//! two that together hold at least k people (more are hidden, smallest
//! first, until that holds).

/// Which groups of one breakdown (sizes in people) may be shown.
pub fn publishable(sizes: &[u64], k: u64) -> Vec<bool> {
    let mut shown: Vec<bool> = sizes.iter().map(|&s| s >= k).collect();
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

    proptest! {
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
