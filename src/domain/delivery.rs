//! Why a message was not delivered, in a fixed set of categories. The free
//! text of a reason stays in the job's own record; what HR, the console and
//! `/metrics` see is its category. Behavioural categories say something a
//! person did (answered, paused, said stop, is away): they are shown only as
//! counts of at least k, and never in `/metrics`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCategory {
    // Operational: what HR or an admin can fix.
    NotFoundInChat,
    AppNotInstalled,
    AccountInactive,
    ChannelProblem,
    AppAccess,
    Stale,
    ProgramChanged,
    OtherFailure,
    // Behavioural: what a person did.
    AnsweredBeforeReminder,
    Paused,
    Stopped,
    OutOfOffice,
    WeeklyCap,
}

impl ReasonCategory {
    pub const ALL: [ReasonCategory; 13] = [
        ReasonCategory::NotFoundInChat,
        ReasonCategory::AppNotInstalled,
        ReasonCategory::AccountInactive,
        ReasonCategory::ChannelProblem,
        ReasonCategory::AppAccess,
        ReasonCategory::Stale,
        ReasonCategory::ProgramChanged,
        ReasonCategory::OtherFailure,
        ReasonCategory::AnsweredBeforeReminder,
        ReasonCategory::Paused,
        ReasonCategory::Stopped,
        ReasonCategory::OutOfOffice,
        ReasonCategory::WeeklyCap,
    ];

    /// The category of a skipped or failed job's reason.
    pub fn of(reason: &str) -> ReasonCategory {
        use ReasonCategory::*;
        let r = reason.trim();
        let word = r.split([':', ' ', '(']).next().unwrap_or(r);
        match word {
            "unresolved" | "user_not_found" | "users_not_found" => NotFoundInChat,
            "app_not_installed" => AppNotInstalled,
            "account_inactive" | "user_disabled" => AccountInactive,
            "channel_not_found" | "not_in_channel" | "is_archived" => ChannelProblem,
            "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "missing_scope"
            | "no_permission" | "cannot_dm_bot" => AppAccess,
            "stale" => Stale,
            _ if r.starts_with("no connection to") => AppAccess,
            _ if r == "answered before the reminder" => AnsweredBeforeReminder,
            _ if r == "participant paused" => Paused,
            _ if r == "recipient said stop" => Stopped,
            _ if r == "recipient out of office" => OutOfOffice,
            _ if r.starts_with("weekly cap reached") => WeeklyCap,
            _ if r.starts_with("program archived")
                || r.starts_with("participant deactivated")
                || r.starts_with("no longer planned")
                || r.starts_with("recipient is no longer")
                || r.starts_with("the program no longer")
                || r.starts_with("the comparison cohort")
                || r.starts_with("the reminded message") =>
            {
                ProgramChanged
            }
            _ => OtherFailure,
        }
    }

    /// Says something a person did: shown only as a count of at least k.
    pub fn behavioural(self) -> bool {
        matches!(
            self,
            ReasonCategory::AnsweredBeforeReminder
                | ReasonCategory::Paused
                | ReasonCategory::Stopped
                | ReasonCategory::OutOfOffice
                | ReasonCategory::WeeklyCap
        )
    }

    pub fn as_str(self) -> &'static str {
        use ReasonCategory::*;
        match self {
            NotFoundInChat => "not_found_in_chat",
            AppNotInstalled => "app_not_installed",
            AccountInactive => "account_inactive",
            ChannelProblem => "channel_problem",
            AppAccess => "app_access",
            Stale => "stale",
            ProgramChanged => "program_changed",
            OtherFailure => "other_failure",
            AnsweredBeforeReminder => "answered_before_reminder",
            Paused => "paused",
            Stopped => "stopped",
            OutOfOffice => "out_of_office",
            WeeklyCap => "weekly_cap",
        }
    }
}

/// Delivery figures of one category in one composed week, as HR sees them:
/// a behavioural count under k is `None` ("fewer than k").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeliveryFigure {
    pub category: ReasonCategory,
    pub behavioural: bool,
    pub count: Option<i64>,
}

/// Counts by category from (reason, count) rows, suppressing behavioural
/// counts under k; operational ones first, most frequent first.
pub fn delivery_figures<'a>(
    rows: impl Iterator<Item = (&'a str, i64)>,
    k: u32,
) -> Vec<DeliveryFigure> {
    let mut counts: std::collections::BTreeMap<ReasonCategory, i64> = Default::default();
    for (reason, n) in rows {
        *counts.entry(ReasonCategory::of(reason)).or_default() += n;
    }
    let mut out: Vec<DeliveryFigure> = counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(category, n)| DeliveryFigure {
            category,
            behavioural: category.behavioural(),
            count: (!category.behavioural() || n >= i64::from(k)).then_some(n),
        })
        .collect();
    out.sort_by_key(|f| {
        (
            f.behavioural,
            std::cmp::Reverse(f.count.unwrap_or(0)),
            f.category,
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReasonCategory::*;

    #[test]
    fn free_text_reasons_fall_into_fixed_categories() {
        assert_eq!(
            ReasonCategory::of("unresolved: no chat user"),
            NotFoundInChat
        );
        assert_eq!(ReasonCategory::of("user_not_found"), NotFoundInChat);
        assert_eq!(ReasonCategory::of("app_not_installed"), AppNotInstalled);
        assert_eq!(
            ReasonCategory::of("stale: missed its delivery window (due Mon 07 Sep 09:30 local)"),
            Stale
        );
        assert_eq!(
            ReasonCategory::of("weekly cap reached (10 messages in 7 days)"),
            WeeklyCap
        );
        assert_eq!(
            ReasonCategory::of("answered before the reminder"),
            AnsweredBeforeReminder
        );
        assert_eq!(
            ReasonCategory::of("no connection to slack workspace T1"),
            AppAccess
        );
        assert_eq!(ReasonCategory::of("program archived"), ProgramChanged);
        assert_eq!(ReasonCategory::of("HTTP 500"), OtherFailure);
    }

    #[test]
    fn behavioural_counts_under_k_are_not_shown() {
        let rows = [
            ("answered before the reminder", 4),
            ("participant paused", 7),
            ("stale: missed its delivery window", 1),
            ("unresolved: no chat user", 2),
        ];
        let f = delivery_figures(rows.iter().map(|(r, n)| (*r, *n)), 5);
        let by = |c| f.iter().find(|x| x.category == c).unwrap().count;
        assert_eq!(by(AnsweredBeforeReminder), None, "4 < k");
        assert_eq!(by(Paused), Some(7));
        assert_eq!(by(Stale), Some(1), "operational: always shown");
        assert!(!f[0].behavioural && f.last().unwrap().behavioural);
    }
}
