//! What the weekly figures are computed from: one program week's facts,
//! gathered with a handful of aggregate queries (the raw events of other
//! weeks are not read), and the stored trends and digests.

use super::{col, millis, OrgId, Result, Store};
use crate::domain::metrics::digest::Labels;
use crate::domain::metrics::{Actions, Groups, ParticipantWeek, Trend, WeekFacts};
use jiff::civil::Date;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

/// The week being measured, in instants and dates (program time zone).
#[derive(Debug, Clone, Copy)]
pub struct WeekWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub previous_start: Timestamp,
    /// The week's Sunday: sessions completed on or before it count.
    pub last_day: Date,
    /// Sessions planned on or before the week's Sunday (or all of them).
    pub sessions_due: u32,
    pub program_over: bool,
}

/// One participant's pulses as of the week's end.
#[derive(Debug, Clone, Copy, Default)]
struct PulsesOf {
    /// The self-assessment baseline (day 0).
    baseline: Option<i64>,
    /// The latest self-assessment follow-up: (day, value).
    follow_up: Option<(i64, i64)>,
    /// The manager's latest observation: (day, value).
    observed: Option<(i64, i64)>,
}

impl Store {
    /// One week's facts about a program's participants.
    pub async fn week_facts(
        &self,
        org: OrgId,
        program_id: i64,
        w: &WeekWindow,
        comparison_cohort: Option<&str>,
    ) -> Result<(WeekFacts, Labels)> {
        let end = millis(w.end);
        // Pulses answered by the week's end: (self baseline, self latest
        // follow-up (day, value), manager's latest (day, value)).
        type PulseRow = (i64, String, i64, i64);
        let pulse_rows: Vec<PulseRow> = sqlx::query_as(
            "SELECT u.participant_id, u.kind, u.day, u.value FROM pulses u \
             JOIN participants pa ON pa.id = u.participant_id AND pa.org_id = u.org_id \
             WHERE u.org_id = $1 AND pa.program_id = $2 AND u.first_answered_at < $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let mut pulses: HashMap<i64, PulsesOf> = HashMap::new();
        for (participant, kind, day, value) in pulse_rows {
            let e = pulses.entry(participant).or_default();
            let latest = |cur: Option<(i64, i64)>| match cur {
                Some((d, _)) if d >= day => cur,
                _ => Some((day, value)),
            };
            match (kind.as_str(), day) {
                ("self", 0) => e.baseline = Some(value),
                ("self", _) => e.follow_up = latest(e.follow_up),
                _ => e.observed = latest(e.observed),
            }
        }
        let rows = sqlx::query(
            "SELECT pa.id, pa.person_id, pa.created_at, pa.deactivated_at, pa.cohort, pa.focus, pa.manager_person_id, \
                    COALESCE(m.display_name, m.email) AS manager_name, \
                    CAST(CASE WHEN EXISTS (SELECT 1 FROM reports r WHERE r.participant_id = pa.id AND r.first_answered_at < $3) \
                         THEN 1 ELSE 0 END AS BIGINT) AS reported \
             FROM participants pa LEFT JOIN people m ON m.id = pa.manager_person_id AND m.org_id = pa.org_id \
             WHERE pa.org_id = $1 AND pa.program_id = $2 ORDER BY pa.id",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let sessions: HashMap<i64, (i64, i64)> = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT s.participant_id, COUNT(*), CAST(SUM(CASE WHEN s.number <= $4 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM sessions s JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2 AND s.completed_on IS NOT NULL AND s.completed_on <= $3 \
             GROUP BY s.participant_id",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(w.last_day.to_string())
        .bind(i64::from(w.sessions_due))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(p, all, due)| (p, (all, due)))
        .collect();
        // Activity: anything the person tapped in the program (a report, a
        // check-in, a pulse), this week and last.
        let activity: HashMap<i64, (bool, bool)> = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT person_id, \
                    CAST(MAX(CASE WHEN tapped_at >= $3 THEN 1 ELSE 0 END) AS BIGINT), \
                    CAST(MAX(CASE WHEN tapped_at < $3 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM taps WHERE org_id = $1 AND program_id = $2 AND tapped_at >= $4 AND tapped_at < $5 \
             GROUP BY person_id",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(w.start))
        .bind(millis(w.previous_start))
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(p, now, before)| (p, (now != 0, before != 0)))
        .collect();
        let paused: HashSet<i64> = sqlx::query_scalar(
            "SELECT participant_id FROM pauses WHERE org_id = $1 AND from_at <= $2 AND until_at >= $3",
        )
        .bind(org.0)
        .bind(millis(w.start))
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let mut labels = Labels::new();
        let mut participants = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = col(row, "id")?;
            let created: i64 = col(row, "created_at")?;
            let left: Option<i64> = col(row, "deactivated_at")?;
            let manager: Option<i64> = col(row, "manager_person_id")?;
            if let (Some(m), Some(name)) = (manager, col::<Option<String>>(row, "manager_name")?) {
                labels.insert(format!("manager:{m}"), name);
            }
            let (completed, completed_due) = sessions.get(&id).copied().unwrap_or((0, 0));
            let person: i64 = col(row, "person_id")?;
            let (active, active_last_week) = activity.get(&person).copied().unwrap_or_default();
            let PulsesOf {
                baseline,
                follow_up,
                observed,
            } = pulses.get(&id).copied().unwrap_or_default();
            let cohort: Option<String> = col(row, "cohort")?;
            participants.push(ParticipantWeek {
                enrolled: created < end && left.is_none_or(|l| l >= end),
                started: completed > 0 || col::<i64>(row, "reported")? != 0,
                sessions_completed: completed_due as u32,
                sessions_missing: w.sessions_due.saturating_sub(completed_due as u32),
                paused_all_week: paused.contains(&id),
                active,
                active_last_week,
                enrolled_last_week: created < millis(w.start),
                self_shift: baseline.zip(follow_up).map(|(b, (_, f))| f - b),
                observation: observed.map(|(_, v)| v),
                comparison: comparison_cohort.is_some() && cohort.as_deref() == comparison_cohort,
                groups: Groups {
                    cohort,
                    theme: col(row, "focus")?,
                    manager: manager.map(|m| m.to_string()),
                },
            });
        }
        // Reports first made this week, each with its answer as of the week's end.
        let mut actions = Actions::default();
        // (Only an answer changed after the week looks its value up in the taps.)
        let answers: Vec<(String, i64)> = sqlx::query_as(
            "SELECT answer, COUNT(*) FROM (SELECT CASE WHEN r.answered_at < $4 THEN r.answer ELSE \
                 COALESCE((SELECT t.answer FROM taps t WHERE t.org_id = r.org_id AND t.job_id = r.job_id AND t.tapped_at < $4 \
                           ORDER BY t.tapped_at DESC, t.id DESC LIMIT 1), r.answer) END AS answer \
               FROM reports r JOIN participants pa ON pa.id = r.participant_id AND pa.org_id = r.org_id \
               WHERE r.org_id = $1 AND pa.program_id = $2 AND r.first_answered_at >= $3 AND r.first_answered_at < $4) AS week_reports \
             GROUP BY answer",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(w.start))
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        for (answer, n) in answers {
            let n = n as u64;
            match answer.as_str() {
                "done" => actions.done += n,
                "partly" => actions.partly += n,
                _ => actions.not_yet += n,
            }
        }
        let (checkins_sent, checkins_supported): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN c.answer IN ('supported', 'will') THEN 1 ELSE 0 END) AS BIGINT) \
             FROM jobs j LEFT JOIN checkins c ON c.job_id = j.id AND c.org_id = j.org_id \
             WHERE j.org_id = $1 AND j.program_id = $2 AND j.purpose = 'manager_checkin' AND j.state = 'sent' \
               AND j.sent_at >= $3 AND j.sent_at < $4",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(w.start))
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            WeekFacts {
                participants,
                actions,
                checkins_sent: checkins_sent as u64,
                checkins_supported: checkins_supported.unwrap_or(0) as u64,
                sessions_due: w.sessions_due,
                program_over: w.program_over,
                has_comparison: comparison_cohort.is_some(),
            },
            labels,
        ))
    }

    /// Whether a program week's digest is stored.
    pub async fn has_week(&self, org: OrgId, program_id: i64, week: Date) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM digests WHERE org_id = $1 AND program_id = $2 AND week = $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(week.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The latest week before `before` whose trends are stored.
    pub async fn last_stored_week(
        &self,
        org: OrgId,
        program_id: i64,
        before: Date,
    ) -> Result<Option<Date>> {
        let week: Option<String> = sqlx::query_scalar(
            "SELECT MAX(week) FROM weekly_trends WHERE org_id = $1 AND program_id = $2 AND week < $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(before.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(week.and_then(|w| w.parse().ok()))
    }

    /// The trends stored for a program week, by group key.
    pub async fn weekly_trends(
        &self,
        org: OrgId,
        program_id: i64,
        week: Date,
    ) -> Result<HashMap<String, Trend>> {
        let rows: Vec<(String, i64, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT group_key, people, eligible, active, inactive_two_weeks, momentum_ppm FROM weekly_trends \
             WHERE org_id = $1 AND program_id = $2 AND week = $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, people, eligible, active, inactive, m)| {
                let t = Trend {
                    people: people as u64,
                    eligible: eligible as u64,
                    active: active as u64,
                    inactive_two_weeks: inactive as u64,
                    momentum: m.map(|ppm| ppm as f64 / 1e6),
                };
                (key, t)
            })
            .collect())
    }

    /// Stores a week's trends and its digest (replacing an earlier computation).
    pub async fn store_week(
        &self,
        org: OrgId,
        program_id: i64,
        week: Date,
        trends: &[(String, Trend)],
        digest_json: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let week = week.to_string();
        sqlx::query(
            "DELETE FROM weekly_trends WHERE org_id = $1 AND program_id = $2 AND week = $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(&week)
        .execute(&mut *tx)
        .await?;
        for chunk in trends.chunks(500) {
            let mut p = super::Placeholders::new(self.backend);
            let values: Vec<String> = chunk.iter().map(|_| p.row(9)).collect();
            let sql = format!(
                "INSERT INTO weekly_trends (org_id, program_id, week, group_key, people, eligible, active, inactive_two_weeks, momentum_ppm) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (key, t) in chunk {
                q = q
                    .bind(org.0)
                    .bind(program_id)
                    .bind(week.clone())
                    .bind(key.clone())
                    .bind(t.people as i64)
                    .bind(t.eligible as i64)
                    .bind(t.active as i64)
                    .bind(t.inactive_two_weeks as i64)
                    .bind(t.momentum.map(|m| (m * 1e6).round() as i64));
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM digests WHERE org_id = $1 AND program_id = $2 AND week = $3")
            .bind(org.0)
            .bind(program_id)
            .bind(&week)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO digests (org_id, program_id, week, body, computed_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(&week)
        .bind(digest_json)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest stored digest of a program (its JSON body), if any.
    pub async fn last_digest(&self, org: OrgId, program_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM digests WHERE org_id = $1 AND program_id = $2 ORDER BY week DESC LIMIT 1",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The stored digests of a program, oldest week first (JSON bodies).
    pub async fn digests(&self, org: OrgId, program_id: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT week, body FROM digests WHERE org_id = $1 AND program_id = $2 ORDER BY week",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
