//! A participant's own progress, as their home tab and `/momentum status`
//! show it: never anyone else's.

use super::metrics::week::ProgramWeek;
use jiff::civil::Date;
use std::collections::BTreeSet;

/// Weeks in a row, up to `this_week`, with at least one report. A streak
/// that ended last week still counts until this week is over: nobody loses
/// it on a Monday morning.
pub fn streak_weeks(report_days: impl IntoIterator<Item = Date>, this_week: ProgramWeek) -> u32 {
    let weeks: BTreeSet<Date> = report_days
        .into_iter()
        .map(|d| ProgramWeek::of(d).monday)
        .collect();
    let mut week = if weeks.contains(&this_week.monday) {
        this_week
    } else {
        this_week.previous()
    };
    let mut n = 0;
    while weeks.contains(&week.monday) {
        n += 1;
        week = week.previous();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn week_of(d: Date) -> ProgramWeek {
        ProgramWeek::of(d)
    }

    #[test]
    fn counts_weeks_in_a_row_and_keeps_last_weeks_streak_until_this_week_ends() {
        let days = [
            date(2026, 9, 1),  // week 36
            date(2026, 9, 9),  // week 37
            date(2026, 9, 10), // week 37 again
            date(2026, 9, 16), // week 38
        ];
        assert_eq!(streak_weeks(days, week_of(date(2026, 9, 17))), 3);
        // Monday of week 39, nothing yet this week: still 3.
        assert_eq!(streak_weeks(days, week_of(date(2026, 9, 21))), 3);
        // A whole week without a report ends it.
        assert_eq!(streak_weeks(days, week_of(date(2026, 9, 28))), 0);
        assert_eq!(streak_weeks([], week_of(date(2026, 9, 28))), 0);
        // A gap breaks it: week 36 and 38 only.
        let gap = [date(2026, 9, 1), date(2026, 9, 16)];
        assert_eq!(streak_weeks(gap, week_of(date(2026, 9, 16))), 1);
    }
}
