//! Slack installations made through OAuth (bot tokens sealed by the app)
//! and the one-time states that guard the OAuth redirect.

use super::{col, millis, OrgId, Result, Store};
use jiff::{SignedDuration, Timestamp};

/// How long an "Add to Slack" click may take to come back.
pub const OAUTH_STATE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);

/// A workspace's installation; the token still sealed.
#[derive(Debug, Clone)]
pub struct SlackInstallation {
    pub team_id: String,
    pub org_id: OrgId,
    pub enterprise_id: Option<String>,
    pub team_name: Option<String>,
    pub bot_user_id: Option<String>,
    pub scopes: String,
    pub token_sealed: Vec<u8>,
}

impl Store {
    /// Stores (or replaces, on a reinstall) a workspace's installation.
    pub async fn save_slack_installation(
        &self,
        i: &SlackInstallation,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO slack_installations (team_id, org_id, enterprise_id, team_name, bot_user_id, scopes, token_sealed, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (team_id) DO UPDATE SET org_id = $2, enterprise_id = $3, team_name = $4, bot_user_id = $5, \
             scopes = $6, token_sealed = $7, installed_at = $8",
        )
        .bind(&i.team_id)
        .bind(i.org_id.0)
        .bind(i.enterprise_id.clone())
        .bind(i.team_name.clone())
        .bind(i.bot_user_id.clone())
        .bind(&i.scopes)
        .bind(i.token_sealed.clone())
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every installation, to connect at start-up (across organisations).
    pub async fn slack_installations(&self) -> Result<Vec<SlackInstallation>> {
        let rows = sqlx::query(
            "SELECT team_id, org_id, enterprise_id, team_name, bot_user_id, scopes, token_sealed \
             FROM slack_installations ORDER BY installed_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SlackInstallation {
                    team_id: col(r, "team_id")?,
                    org_id: OrgId(col(r, "org_id")?),
                    enterprise_id: col(r, "enterprise_id")?,
                    team_name: col(r, "team_name")?,
                    bot_user_id: col(r, "bot_user_id")?,
                    scopes: col(r, "scopes")?,
                    token_sealed: col(r, "token_sealed")?,
                })
            })
            .collect()
    }

    /// Deletes a workspace's installation (its token goes with it); returns
    /// the organisation it belonged to, if there was one.
    pub async fn delete_slack_installation(&self, team_id: &str) -> Result<Option<OrgId>> {
        let org: Option<i64> = sqlx::query_scalar(
            "DELETE FROM slack_installations WHERE team_id = $1 RETURNING org_id",
        )
        .bind(team_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(org.map(OrgId))
    }

    /// Pending messages to people in a workspace that uninstalled the app
    /// end as skipped with `reason`; returns how many.
    pub async fn skip_pending_for_workspace(
        &self,
        org: OrgId,
        team_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'skipped', outcome = $1, updated_at = $2 \
             WHERE org_id = $3 AND state = 'pending' AND recipient_person_id IN \
               (SELECT id FROM people WHERE org_id = $3 AND platform = 'slack' AND workspace_id = $4)",
        )
        .bind(reason)
        .bind(millis(now))
        .bind(org.0)
        .bind(team_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Stores a one-time state (purging expired ones first) unless `max`
    /// unexpired ones are already stored: false then, nothing stored.
    pub async fn add_oauth_state(
        &self,
        state_hash: &str,
        now: Timestamp,
        max: i64,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM oauth_states WHERE created_at < $1")
            .bind(millis(now - OAUTH_STATE_LIFETIME))
            .execute(&self.pool)
            .await?;
        let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states")
            .fetch_one(&self.pool)
            .await?;
        if live >= max {
            return Ok(false);
        }
        sqlx::query("INSERT INTO oauth_states (state_hash, created_at) VALUES ($1, $2)")
            .bind(state_hash)
            .bind(millis(now))
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    /// Uses up a state: true when it was handed out less than ten minutes
    /// ago and not used before.
    pub async fn take_oauth_state(&self, state_hash: &str, now: Timestamp) -> Result<bool> {
        let created: Option<i64> = sqlx::query_scalar(
            "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING created_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(created.is_some_and(|at| at >= millis(now - OAUTH_STATE_LIFETIME)))
    }
}
