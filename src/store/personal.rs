//! Everything stored about one person: read for `my-data`, deleted for
//! erasure. The list of tables here is the list erasure must cover; the
//! erasure test scans every table, so a new table holding personal data
//! fails it until it is added here.

use super::participants::Participant;
use super::{instant, millis, OrgId, PersonId, Result, Store};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Any, Transaction};

/// One row of the person's own data, as they download it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub program: String,
    pub session: Option<i64>,
    pub purpose: String,
    pub answer: String,
    pub first_answered_at: Timestamp,
    pub answered_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub program: String,
    pub number: i64,
    pub completed_on: Option<String>,
    pub source: Option<String>,
    /// The participant's own planned date, where they have one.
    pub planned_on: Option<String>,
    /// Where it came from (`file`, `csv`, `api`, `calendar`, `chat`).
    pub planned_source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PulseRow {
    pub program: String,
    /// `self` (their own) or `manager` (an observation they gave as a manager).
    pub kind: String,
    pub day: i64,
    pub value: i64,
    pub answered_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckinRow {
    pub program: String,
    pub answer: String,
    pub answered_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub program: String,
    pub purpose: String,
    pub session: Option<i64>,
    pub due_at: Timestamp,
    pub state: String,
    pub outcome: Option<String>,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PauseRow {
    pub program: String,
    pub from: Timestamp,
    /// `None`: until they resumed or for good.
    pub until: Option<Timestamp>,
}

/// The rows about a person, except notes (sealed: the app opens them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonalRows {
    pub sessions: Vec<SessionRow>,
    pub reports: Vec<ReportRow>,
    pub checkins_given: Vec<CheckinRow>,
    pub pulses: Vec<PulseRow>,
    pub pauses: Vec<PauseRow>,
    pub messages: Vec<MessageRow>,
}

/// What erasure removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Erased {
    /// The programs they took part in.
    pub participations: u64,
    /// Rows deleted or rewritten, in all tables.
    pub rows: u64,
}

/// program, purpose, session, due, state, outcome, sent.
type MessageColumns = (
    String,
    String,
    Option<i64>,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

fn ts(ms: i64) -> Result<Timestamp> {
    instant(ms)
}

impl Store {
    /// Every program a person takes part in (deactivated ones too).
    pub async fn participations(
        &self,
        org: OrgId,
        person_id: PersonId,
    ) -> Result<Vec<Participant>> {
        let rows = sqlx::query(&super::participants::participant_query("pa.person_id = $2"))
            .bind(org.0)
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(super::participants::participant_row)
            .collect()
    }

    pub async fn personal_rows(&self, org: OrgId, person_id: PersonId) -> Result<PersonalRows> {
        let mine = "SELECT id FROM participants WHERE org_id = $1 AND person_id = $2";
        type Row = (
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let sessions: Vec<Row> = sqlx::query_as(&format!(
            "SELECT pr.name, s.number, s.completed_on, s.source, s.planned_on, s.planned_source FROM sessions s \
             JOIN participants pa ON pa.id = s.participant_id JOIN programs pr ON pr.id = pa.program_id \
             WHERE s.org_id = $1 AND s.participant_id IN ({mine}) ORDER BY pr.name, s.number"
        ))
        .bind(org.0)
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let reports: Vec<(String, Option<i64>, String, String, i64, i64)> =
            sqlx::query_as(&format!(
                "SELECT pr.name, j.session_number, j.purpose, r.answer, r.first_answered_at, r.answered_at FROM reports r \
                 JOIN jobs j ON j.id = r.job_id JOIN programs pr ON pr.id = j.program_id \
                 WHERE r.org_id = $1 AND r.participant_id IN ({mine}) ORDER BY r.first_answered_at"
            ))
            .bind(org.0)
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        let checkins: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT pr.name, c.answer, c.answered_at FROM checkins c JOIN jobs j ON j.id = c.job_id \
             JOIN programs pr ON pr.id = j.program_id \
             WHERE c.org_id = $1 AND c.manager_person_id = $2 ORDER BY c.answered_at",
        )
        .bind(org.0)
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let pulses: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT pr.name, p.kind, p.day, p.value, p.answered_at FROM pulses p JOIN jobs j ON j.id = p.job_id \
             JOIN programs pr ON pr.id = j.program_id \
             WHERE p.org_id = $1 AND ((p.kind = 'self' AND p.participant_id IN ({mine})) \
                                     OR (p.kind = 'manager' AND j.recipient_person_id = $2)) \
             ORDER BY p.answered_at"
        ))
        .bind(org.0)
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let pauses: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT pr.name, pz.from_at, pz.until_at FROM pauses pz JOIN participants pa ON pa.id = pz.participant_id \
             JOIN programs pr ON pr.id = pa.program_id \
             WHERE pz.org_id = $1 AND pz.participant_id IN ({mine}) ORDER BY pz.from_at"
        ))
        .bind(org.0)
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let messages: Vec<MessageColumns> =
            sqlx::query_as(
                "SELECT pr.name, j.purpose, j.session_number, j.due_at, j.state, j.outcome, j.sent_at FROM jobs j \
                 JOIN programs pr ON pr.id = j.program_id \
                 WHERE j.org_id = $1 AND j.recipient_person_id = $2 ORDER BY j.due_at, j.id",
            )
            .bind(org.0)
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(PersonalRows {
            sessions: sessions
                .into_iter()
                .map(
                    |(program, number, completed_on, source, planned_on, planned_source)| {
                        SessionRow {
                            program,
                            number,
                            completed_on,
                            source,
                            planned_on,
                            planned_source,
                        }
                    },
                )
                .collect(),
            reports: reports
                .into_iter()
                .map(|(program, session, purpose, answer, first, at)| {
                    Ok(ReportRow {
                        program,
                        session,
                        purpose,
                        answer,
                        first_answered_at: ts(first)?,
                        answered_at: ts(at)?,
                    })
                })
                .collect::<Result<_>>()?,
            checkins_given: checkins
                .into_iter()
                .map(|(program, answer, at)| {
                    Ok(CheckinRow {
                        program,
                        answer,
                        answered_at: ts(at)?,
                    })
                })
                .collect::<Result<_>>()?,
            pulses: pulses
                .into_iter()
                .map(|(program, kind, day, value, at)| {
                    Ok(PulseRow {
                        program,
                        kind,
                        day,
                        value,
                        answered_at: ts(at)?,
                    })
                })
                .collect::<Result<_>>()?,
            pauses: pauses
                .into_iter()
                .map(|(program, from, until)| {
                    Ok(PauseRow {
                        program,
                        from: ts(from)?,
                        until: (until != super::participants::PAUSED_INDEFINITELY)
                            .then(|| ts(until))
                            .transpose()?,
                    })
                })
                .collect::<Result<_>>()?,
            messages: messages
                .into_iter()
                .map(|(program, purpose, session, due, state, outcome, sent)| {
                    Ok(MessageRow {
                        program,
                        purpose,
                        session,
                        due_at: ts(due)?,
                        state,
                        outcome,
                        sent_at: sent.map(ts).transpose()?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    /// The identity hashes of everyone erased in the organisation (few).
    pub async fn erased_hashes(&self, org: OrgId) -> Result<std::collections::HashSet<String>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT identity_hash FROM erasures WHERE org_id = $1")
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Deletes a person and everything about them, in one transaction: their
    /// participations, sessions, reports, taps, pulses, pauses, notes, the
    /// messages sent to them and the check-ins they answered as a manager.
    /// Their reports lose them as manager. What stays: the weekly aggregates
    /// already computed (numbers only; a digest naming them as a manager says
    /// "a manager" instead) and the keyed `hashes` that keep a later program
    /// file from enrolling them again.
    pub async fn erase_person(
        &self,
        org: OrgId,
        person_id: PersonId,
        name: Option<&str>,
        hashes: &[String],
        now: Timestamp,
    ) -> Result<Erased> {
        let mut tx = self.pool.begin().await?;
        let participations: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM participants WHERE org_id = $1 AND person_id = $2")
                .bind(org.0)
                .bind(person_id)
                .fetch_all(&mut *tx)
                .await?;
        let mine = "(SELECT id FROM participants WHERE org_id = $1 AND person_id = $2)";
        let their_jobs = format!(
            "(SELECT id FROM jobs WHERE org_id = $1 AND (recipient_person_id = $2 OR participant_id IN {mine}))"
        );
        let statements = [
            format!("DELETE FROM taps WHERE org_id = $1 AND (person_id = $2 OR job_id IN {their_jobs})"),
            format!("DELETE FROM reports WHERE org_id = $1 AND (participant_id IN {mine} OR job_id IN {their_jobs})"),
            format!("DELETE FROM checkins WHERE org_id = $1 AND (participant_id IN {mine} OR manager_person_id = $2 OR job_id IN {their_jobs})"),
            format!("DELETE FROM pulses WHERE org_id = $1 AND (participant_id IN {mine} OR job_id IN {their_jobs})"),
            format!("DELETE FROM sessions WHERE org_id = $1 AND participant_id IN {mine}"),
            format!("DELETE FROM pauses WHERE org_id = $1 AND participant_id IN {mine}"),
            format!("DELETE FROM diagnoses WHERE org_id = $1 AND participant_id IN {mine}"),
            format!("DELETE FROM steps WHERE org_id = $1 AND (participant_id IN {mine} OR job_id IN {their_jobs})"),
            "DELETE FROM notes WHERE org_id = $1 AND person_id = $2".to_string(),
            format!("DELETE FROM jobs WHERE org_id = $1 AND (recipient_person_id = $2 OR participant_id IN {mine})"),
            "UPDATE participants SET manager_person_id = NULL WHERE org_id = $1 AND manager_person_id = $2".to_string(),
            // An organisation admin's grant names them: it goes too.
            "DELETE FROM org_admins WHERE org_id = $1 AND ( \
               email = (SELECT email FROM people WHERE org_id = $1 AND id = $2) \
               OR chat = (SELECT platform || ':' || workspace_id || '/' || user_id FROM people WHERE org_id = $1 AND id = $2))"
                .to_string(),
            "DELETE FROM participants WHERE org_id = $1 AND person_id = $2".to_string(),
            "DELETE FROM teams_users WHERE org_id = $1 AND aad_object_id IN \
             (SELECT user_id FROM people WHERE org_id = $1 AND id = $2 AND platform = 'teams')"
                .to_string(),
            "DELETE FROM people WHERE org_id = $1 AND id = $2".to_string(),
        ];
        let mut rows = 0;
        for sql in &statements {
            rows += sqlx::query(sql)
                .bind(org.0)
                .bind(person_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
            rows += forget_name_in_digests(&mut tx, org, name).await?;
        }
        rows += forget_contributions(&mut tx, org, &participations).await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO erasures (org_id, identity_hash, erased_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, identity_hash) DO NOTHING",
            )
            .bind(org.0)
            .bind(h)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Erased {
            participations: participations.len() as u64,
            rows,
        })
    }
}

/// Held figures remember who contributed (an id and a fingerprint): the
/// erased participations are taken out of them.
async fn forget_contributions(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    participations: &[i64],
) -> Result<u64> {
    if participations.is_empty() {
        return Ok(0);
    }
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT program_id, figure, contributions FROM held_figures WHERE org_id = $1",
    )
    .bind(org.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut changed = 0;
    for (program_id, figure, text) in rows {
        type Publications = Vec<std::collections::BTreeMap<i64, u64>>;
        let Ok(mut who) = serde_json::from_str::<Publications>(&text) else {
            continue;
        };
        let before: usize = who.iter().map(|m| m.len()).sum();
        for m in who.iter_mut() {
            m.retain(|p, _| !participations.contains(p));
        }
        if who.iter().map(|m| m.len()).sum::<usize>() == before {
            continue;
        }
        sqlx::query(
            "UPDATE held_figures SET contributions = $1 WHERE org_id = $2 AND program_id = $3 AND figure = $4",
        )
        .bind(serde_json::to_string(&who).unwrap_or_else(|_| "{}".into()))
        .bind(org.0)
        .bind(program_id)
        .bind(figure)
        .execute(&mut **tx)
        .await?;
        changed += 1;
    }
    Ok(changed)
}

/// Published digests name a manager's team by the manager's name: after the
/// manager's erasure they say "A manager" instead.
async fn forget_name_in_digests(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    name: &str,
) -> Result<u64> {
    // A few digests per program and week: found in Rust, not with LIKE
    // (a name may hold the pattern's wildcards).
    let mut found: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT program_id, week, body FROM digests WHERE org_id = $1")
            .bind(org.0)
            .fetch_all(&mut **tx)
            .await?;
    found.retain(|(_, _, body)| body.contains(name));
    for (program_id, week, body) in &found {
        sqlx::query(
            "UPDATE digests SET body = $1 WHERE org_id = $2 AND program_id = $3 AND week = $4",
        )
        .bind(body.replace(name, "A manager"))
        .bind(org.0)
        .bind(program_id)
        .bind(week)
        .execute(&mut **tx)
        .await?;
    }
    Ok(found.len() as u64)
}
