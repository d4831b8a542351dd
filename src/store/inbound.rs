//! Inbound platform events already handled, so that a platform's retry of
//! the same event (Slack's `event_id`) is acknowledged and not handled twice.

use super::{millis, Result, Store};
use jiff::{SignedDuration, Timestamp};

/// How long an event id is remembered: Slack retries within minutes.
const REMEMBER: SignedDuration = SignedDuration::from_hours(24);

impl Store {
    /// Claims an event: true the first time `key` is seen, false for a
    /// repeat. Ids older than a day are forgotten on the way.
    pub async fn claim_inbound_event(&self, key: &str, now: Timestamp) -> Result<bool> {
        sqlx::query("DELETE FROM inbound_events WHERE received_at < $1")
            .bind(millis(now - REMEMBER))
            .execute(&self.pool)
            .await?;
        let claimed = sqlx::query(
            "INSERT INTO inbound_events (event_key, received_at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(key)
        .bind(millis(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Lets a claimed event be handled again (its handling failed).
    pub async fn release_inbound_event(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM inbound_events WHERE event_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
