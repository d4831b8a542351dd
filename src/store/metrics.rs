//! What the weekly figures are computed from: one program week's facts,
//! gathered with a handful of aggregate queries (the raw events of other
//! weeks are not read), and the stored trends and digests.

use super::{instant, millis, OrgId, ProgramId, Result, Store};
use crate::domain::dates;
use crate::domain::metrics::digest::Composed;
use crate::domain::metrics::held::Held;
use crate::domain::metrics::prompts::{Asked, Prompt};
use crate::domain::metrics::{Actions, Groups, ParticipantWeek, Trend, WeekFacts};
use crate::domain::ProgramSpec;
use crate::domain::{JobPurpose, ParticipantId};
use jiff::civil::Date;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

/// The week being measured, in instants and dates (program time zone).
#[derive(Debug, Clone, Copy)]
pub struct WeekWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    /// When the week is composed: answers to its prompts count until then.
    pub cutoff: Timestamp,
    /// The week's Sunday: sessions completed on or before it count.
    pub last_day: Date,
    /// The program's and cohorts' last planned dates have passed (own
    /// dates are checked with the participants).
    pub program_over: bool,
}

/// One participant's self-assessments as of the week's end.
#[derive(Debug, Clone, Default)]
struct AssessmentsOf {
    baseline: Option<i64>,
    /// Follow-ups by day (+30, +60, +90).
    follow_ups: Vec<(u32, i64)>,
    /// The manager's latest observation: (day, value).
    observed: Option<(i64, i64)>,
}

impl Store {
    /// The prompts sent to a program's participants from `from` until
    /// `until` (only to `participants`, when given), each with when it was
    /// first answered.
    pub async fn prompts(
        &self,
        org: OrgId,
        program_id: ProgramId,
        from: Option<Timestamp>,
        until: Timestamp,
        participants: Option<&[i64]>,
    ) -> Result<Vec<Prompt>> {
        // A reminder belongs to the prompt it repeats: its answer is stored
        // against that prompt, and it is no prompt of its own.
        let purposes: Vec<String> = JobPurpose::ALL
            .iter()
            .filter(|p| p.is_prompt())
            .map(|p| format!("'{}'", p.as_str()))
            .collect();
        let prompts = purposes.join(", ");
        let mut out = Vec::new();
        let everyone = [None];
        let chunks: Vec<Option<&[i64]>> = match participants {
            None => everyone.to_vec(),
            // Each list scans the period's prompts once: few, long lists
            // (numbers written into the statement, not bound parameters).
            Some(ids) => ids.chunks(5_000).map(Some).collect(),
        };
        // SQLite would take the unique index on the job, then the row.
        let answers_index = match self.backend {
            super::Backend::Sqlite => " INDEXED BY reports_job_answered",
            super::Backend::Postgres => "",
        };
        for chunk in chunks {
            let only = chunk.map_or(String::new(), |ids| {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(" AND j.participant_id IN ({})", list.join(","))
            });
            // The week's prompts are found by the index on sent jobs
            // (program, purpose, time), not by reading every prompt before;
            // both it and the answers' index cover what is read.
            let select = format!(
                "SELECT j.participant_id AS participant, j.sent_at AS sent, COALESCE( \
                     (SELECT r.first_answered_at FROM reports r{answers_index} WHERE r.org_id = j.org_id AND r.job_id = j.id), \
                     (SELECT u.first_answered_at FROM pulses u WHERE u.org_id = j.org_id AND u.job_id = j.id), \
                     (SELECT s.first_answered_at FROM steps s WHERE s.org_id = j.org_id AND s.job_id = j.id)) AS answered \
                 FROM jobs j WHERE j.org_id = $1 AND j.program_id = $2 AND j.purpose IN ({prompts}) \
                   AND j.sent_at >= $3 AND j.sent_at < $4 AND j.state = 'sent' AND j.participant_id IS NOT NULL{only}"
            );
            // A week's prompts are tens of thousands of rows: read packed.
            let packed: String = sqlx::query_scalar(&super::packed_rows_sql(
                self.backend,
                &select,
                &["participant", "sent", "answered"],
            ))
            .bind(org.0)
            .bind(program_id)
            .bind(from.map_or(i64::MIN, millis))
            .bind(millis(until))
            .fetch_one(&self.pool)
            .await?;
            let rows: Vec<(i64, i64, Option<i64>)> = super::unpack_rows(&packed)?;
            for (participant, sent, answered) in rows {
                out.push(Prompt {
                    participant,
                    sent: instant(sent)?,
                    answered: answered.map(instant).transpose()?,
                });
            }
        }
        Ok(out)
    }

    /// One week's facts about a program's participants; `asked` says who was
    /// asked this week (from [`Store::prompts`]).
    pub async fn week_facts(
        &self,
        org: OrgId,
        program_id: ProgramId,
        spec: &ProgramSpec,
        w: &WeekWindow,
        comparison_cohort: Option<&str>,
        asked: &HashMap<i64, Asked>,
    ) -> Result<WeekFacts> {
        let end = millis(w.end);
        let cutoff = millis(w.cutoff);
        // Self-assessments and observations answered by the week's end.
        let assessment_rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT u.participant_id, u.kind, u.day, u.value FROM pulses u \
             JOIN participants pa ON pa.id = u.participant_id AND pa.org_id = u.org_id \
             WHERE u.org_id = $1 AND pa.program_id = $2 AND u.kind IN ('self', 'manager') AND u.first_answered_at < $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let mut assessments: HashMap<i64, AssessmentsOf> = HashMap::new();
        for (participant, kind, day, value) in assessment_rows {
            let e = assessments.entry(participant).or_default();
            match (kind.as_str(), day) {
                ("self", 0) => e.baseline = Some(value),
                ("self", d) => e.follow_ups.push((d as u32, value)),
                _ => {
                    if e.observed.is_none_or(|(d, _)| d < day) {
                        e.observed = Some((day, value));
                    }
                }
            }
        }
        // (id, enrolled at, deactivated at, cohort, focus, reported by the
        // week's end), one row a participant: read packed.
        type ParticipantRow = (i64, i64, Option<i64>, Option<String>, Option<String>, i64);
        let packed: String = sqlx::query_scalar(&super::packed_rows_sql(
            self.backend,
            "SELECT pa.id, pa.created_at, pa.deactivated_at, pa.cohort, pa.focus, \
                    CAST(CASE WHEN EXISTS (SELECT 1 FROM reports r WHERE r.participant_id = pa.id AND r.first_answered_at < $3) \
                         THEN 1 ELSE 0 END AS BIGINT) AS reported \
             FROM participants pa WHERE pa.org_id = $1 AND pa.program_id = $2",
            &["id", "created_at", "deactivated_at", "cohort", "focus", "reported"],
        ))
        .bind(org.0)
        .bind(program_id)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        let mut rows: Vec<ParticipantRow> = super::unpack_rows(&packed)?;
        rows.sort_unstable_by_key(|r| r.0);
        // Each participant's sessions as planned for them (own date, else
        // cohort's, else program's), and the numbers they completed by Sunday.
        let own = self.program_own_dates(org, program_id).await?;
        let mut completed: HashMap<i64, Vec<u32>> = HashMap::new();
        let done_rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT s.participant_id, s.number \
             FROM sessions s JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2 AND s.completed_on IS NOT NULL AND s.completed_on <= $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(w.last_day.to_string())
        .fetch_all(&self.pool)
        .await?;
        for (participant, number) in done_rows {
            completed
                .entry(participant)
                .or_default()
                .push(number as u32);
        }
        let own_over = own
            .values()
            .flatten()
            .filter_map(|(_, d)| d.date())
            .all(|d| d <= w.last_day);
        let program_over = w.program_over && own_over;
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
        let mut participants = Vec::with_capacity(rows.len());
        for (id, created, left, cohort, focus, reported) in rows {
            let done = completed.get(&id).map_or(&[][..], Vec::as_slice);
            let plan = spec.planned_for(
                cohort.as_deref(),
                own.get(&ParticipantId(id)).map_or(&[][..], Vec::as_slice),
            );
            let (due, done_due) = dates::usage(&plan, done, w.last_day);
            // Once the program is over, a cancelled session never given a
            // new date is still one not completed.
            let undated = if program_over {
                plan.iter()
                    .filter(|p| p.planned.is_none() && !done.contains(&p.number))
                    .count() as u32
            } else {
                0
            };
            let this_week = asked.get(&id).copied();
            let assessed = assessments.remove(&id).unwrap_or_default();
            participants.push(ParticipantWeek {
                id,
                enrolled: created < end && left.is_none_or(|l| l >= end),
                started: !done.is_empty() || reported != 0,
                sessions_due: due,
                sessions_completed: done_due,
                sessions_missing: due - done_due + undated,
                paused_all_week: paused.contains(&id),
                asked: this_week.is_some(),
                responded: this_week.is_some_and(|a| a.responded),
                silent: this_week.is_some_and(|a| a.silent),
                shifts: assessed
                    .baseline
                    .map(|b| {
                        assessed
                            .follow_ups
                            .iter()
                            .map(|(d, v)| (*d, v - b))
                            .collect()
                    })
                    .unwrap_or_default(),
                observation: assessed.observed.map(|(_, v)| v),
                comparison: comparison_cohort.is_some() && cohort.as_deref() == comparison_cohort,
                groups: Groups {
                    cohort,
                    theme: focus,
                },
            });
        }
        // Reports first made this week, each with its answer as of the week's
        // end, and how many people made them, in one pass.
        // (Only an answer changed after the week looks its value up in the taps.)
        let (done, partly, not_yet, action_people): (Option<i64>, Option<i64>, Option<i64>, i64) =
            sqlx::query_as(
                "SELECT CAST(SUM(CASE WHEN answer = 'done' THEN 1 ELSE 0 END) AS BIGINT), \
                        CAST(SUM(CASE WHEN answer = 'partly' THEN 1 ELSE 0 END) AS BIGINT), \
                        CAST(SUM(CASE WHEN answer IN ('done', 'partly') THEN 0 ELSE 1 END) AS BIGINT), \
                        COUNT(DISTINCT participant_id) \
                 FROM (SELECT r.participant_id, CASE WHEN r.answered_at < $4 THEN r.answer ELSE \
                     COALESCE((SELECT t.answer FROM taps t WHERE t.org_id = r.org_id AND t.job_id = r.job_id AND t.tapped_at < $4 \
                               ORDER BY t.tapped_at DESC, t.id DESC LIMIT 1), r.answer) END AS answer \
                   FROM reports r JOIN participants pa ON pa.id = r.participant_id AND pa.org_id = r.org_id \
                   WHERE r.org_id = $1 AND pa.program_id = $2 AND r.first_answered_at >= $3 AND r.first_answered_at < $4) AS week_reports",
            )
            .bind(org.0)
            .bind(program_id)
            .bind(millis(w.start))
            .bind(end)
            .fetch_one(&self.pool)
            .await?;
        let count = |n: Option<i64>| n.unwrap_or(0) as u64;
        let actions = Actions {
            done: count(done),
            partly: count(partly),
            not_yet: count(not_yet),
        };
        let (checkins_sent, checkins_supported, managers): (i64, Option<i64>, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN c.answer IN ('supported', 'will') AND c.first_answered_at < $5 THEN 1 ELSE 0 END) AS BIGINT), \
                    COUNT(DISTINCT j.recipient_person_id) \
             FROM jobs j LEFT JOIN checkins c ON c.job_id = j.id AND c.org_id = j.org_id \
             WHERE j.org_id = $1 AND j.program_id = $2 AND j.purpose = 'manager_checkin' AND j.state = 'sent' \
               AND j.sent_at >= $3 AND j.sent_at < $4",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(w.start))
        .bind(end)
        .bind(cutoff)
        .fetch_one(&self.pool)
        .await?;
        // The pulse question sent this week: each person's latest answer.
        let pulse_rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT u.participant_id, u.value FROM pulses u JOIN jobs j ON j.id = u.job_id AND j.org_id = u.org_id \
             WHERE u.org_id = $1 AND j.program_id = $2 AND j.purpose = 'pulse_question' AND u.kind = 'question' AND j.sent_at >= $3 AND j.sent_at < $4 \
               AND u.first_answered_at < $5 ORDER BY j.sent_at, j.id",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(w.start))
        .bind(end)
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        let latest: HashMap<i64, i64> = pulse_rows.into_iter().collect();
        Ok(WeekFacts {
            participants,
            actions,
            action_people: action_people as u64,
            checkins_sent: checkins_sent as u64,
            checkins_supported: checkins_supported.unwrap_or(0) as u64,
            checkin_managers: managers as u64,
            program_over,
            has_comparison: comparison_cohort.is_some(),
            follow_up_days: vec![],
            pulse_answers: latest.into_values().collect(),
        })
    }

    /// Whether a program week's digest is stored.
    pub async fn has_week(&self, org: OrgId, program_id: ProgramId, week: Date) -> Result<bool> {
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
        program_id: ProgramId,
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
        program_id: ProgramId,
        week: Date,
    ) -> Result<HashMap<String, Trend>> {
        // (group key, people, eligible, asked, responded, silent, momentum
        // in millionths (before 0013), momentum's exact bits)
        type TrendRow = (String, i64, i64, i64, i64, i64, Option<i64>, Option<i64>);
        let rows: Vec<TrendRow> = sqlx::query_as(
            "SELECT group_key, people, eligible, asked, responded, silent, momentum_ppm, momentum_bits FROM weekly_trends \
             WHERE org_id = $1 AND program_id = $2 AND week = $3",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(week.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(key, people, eligible, asked, responded, silent, ppm, bits)| {
                    let t = Trend {
                        people: people as u64,
                        eligible: eligible as u64,
                        asked: asked as u64,
                        responded: responded as u64,
                        silent: silent as u64,
                        momentum: bits
                            .map(|b| f64::from_bits(b as u64))
                            .or(ppm.map(|ppm| ppm as f64 / 1e6)),
                    };
                    (key, t)
                },
            )
            .collect())
    }

    /// The accumulating figures of a program as last published.
    pub async fn held_figures(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<HashMap<String, Held>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT figure, week, value, contributions FROM held_figures WHERE org_id = $1 AND program_id = $2",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(figure, week, value, contributions)| {
                let broken = |e: serde_json::Error| {
                    super::StoreError::Conflict(format!(
                        "held figure {figure:?} is unreadable: {e}"
                    ))
                };
                Ok((
                    figure.clone(),
                    Held {
                        week,
                        value: serde_json::from_str(&value).map_err(broken)?,
                        contributions: serde_json::from_str(&contributions).map_err(broken)?,
                    },
                ))
            })
            .collect()
    }

    /// Stores a week's trends, the figures it (re)published and its digest
    /// (replacing an earlier computation), in one transaction.
    pub async fn store_week(
        &self,
        org: OrgId,
        program_id: ProgramId,
        week: Date,
        composed: &Composed,
        digest_json: &str,
        now: Timestamp,
    ) -> Result<()> {
        let trends = &composed.trends;
        let mut tx = self.pool.begin().await?;
        for (figure, held) in &composed.held {
            let value = serde_json::to_string(&held.value)
                .map_err(|e| super::StoreError::Conflict(e.to_string()))?;
            let contributions = serde_json::to_string(&held.contributions)
                .map_err(|e| super::StoreError::Conflict(e.to_string()))?;
            sqlx::query(
                "INSERT INTO held_figures (org_id, program_id, figure, week, value, contributions) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (org_id, program_id, figure) DO UPDATE SET week = excluded.week, value = excluded.value, contributions = excluded.contributions",
            )
            .bind(org.0)
            .bind(program_id)
            .bind(figure)
            .bind(&held.week)
            .bind(value)
            .bind(contributions)
            .execute(&mut *tx)
            .await?;
        }
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
            let values: Vec<String> = chunk.iter().map(|_| p.row(11)).collect();
            let sql = format!(
                "INSERT INTO weekly_trends (org_id, program_id, week, group_key, people, eligible, asked, responded, silent, momentum_ppm, momentum_bits) VALUES {}",
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
                    .bind(t.asked as i64)
                    .bind(t.responded as i64)
                    .bind(t.silent as i64)
                    .bind(t.momentum.map(|m| (m * 1e6).round() as i64))
                    .bind(t.momentum.map(|m| m.to_bits() as i64));
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
    pub async fn last_digest(&self, org: OrgId, program_id: ProgramId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM digests WHERE org_id = $1 AND program_id = $2 ORDER BY week DESC LIMIT 1",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The stored digests of a program, oldest week first (JSON bodies).
    pub async fn digests(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT week, body FROM digests WHERE org_id = $1 AND program_id = $2 ORDER BY week",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
