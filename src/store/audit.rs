//! The audit log: who did what to an organisation, and when; no content.

use super::{col, instant, millis, OrgId, Result, Store};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = String, example = "2026-09-07T08:00:00Z")]
    pub at: Timestamp,
    /// `api token "hr"`, `cli`, `klara@acme.example (console)` (the signed-in
    /// person), `slack:T…/U… (program admin)`, `slack install`.
    pub actor: String,
    /// `program.apply`, `program.create`, `program.edit`, `program.enrol_csv`,
    /// `program.archive`, `program.download`, `aggregates.export`,
    /// `cadence.change`, `person.erase`, `token.create`, `org_admin.grant`,
    /// `org_admin.revoke`, `console.login_link`, `console.sign_in`,
    /// `workspace.install`, `workspace.uninstall`, `key.rotate`.
    pub action: String,
    /// The program concerned, if any. Never a person.
    pub subject: Option<String>,
}

impl Store {
    pub async fn audit(
        &self,
        org: OrgId,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (org_id, at, actor, action, subject) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.0)
            .bind(millis(now))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_log(&self, org: OrgId, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, subject FROM audit_log WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(org.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: instant(col(r, "at")?)?,
                    actor: col(r, "actor")?,
                    action: col(r, "action")?,
                    subject: col(r, "subject")?,
                })
            })
            .collect()
    }
}
