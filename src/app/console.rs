//! The HR console's sign-in: a one-time login link from the CLI opens a
//! browser session of one organisation. Only hashes are stored.

use super::*;

/// How long a login link works.
pub const LINK_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);
/// How long a console session lasts.
pub const SESSION_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(8);

/// A signed-in browser: its organisation and the token its forms carry.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub org: OrgId,
    pub csrf: String,
}

pub(crate) fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl App {
    /// A one-time login link's token for the organisation (valid 15 minutes).
    pub async fn console_login_token(&self, org: OrgId) -> AppResult<String> {
        let token = random_token();
        let now = self.clock.now();
        self.store
            .add_console_link(org, &hash_token(&token), now, now + LINK_LIFETIME)
            .await?;
        self.audit(org, "cli", "console.login_link", None).await;
        Ok(token)
    }

    /// Trades a login link's token for a session: (cookie value, session).
    /// `None` for a link that is unknown, used or expired.
    pub async fn console_sign_in(
        &self,
        token: &str,
    ) -> AppResult<Option<(String, ConsoleSession)>> {
        let now = self.clock.now();
        let Some(org) = self.store.use_console_link(&hash_token(token), now).await? else {
            return Ok(None);
        };
        self.console_open_session(org, "login link").await.map(Some)
    }

    /// Opens a console session of `org` (after a login link or a sign-in
    /// with a chat platform, `how`): (cookie value, session).
    pub async fn console_open_session(
        &self,
        org: OrgId,
        how: &str,
    ) -> AppResult<(String, ConsoleSession)> {
        let now = self.clock.now();
        let (cookie, csrf) = (random_token(), random_token());
        self.store
            .add_console_session(
                org,
                &hash_token(&cookie),
                &csrf,
                now,
                now + SESSION_LIFETIME,
            )
            .await?;
        self.audit(org, &format!("console ({how})"), "console.sign_in", None)
            .await;
        Ok((cookie, ConsoleSession { org, csrf }))
    }

    pub async fn console_session(&self, cookie: &str) -> AppResult<Option<ConsoleSession>> {
        Ok(self
            .store
            .console_session(&hash_token(cookie), self.clock.now())
            .await?
            .map(|(org, csrf)| ConsoleSession { org, csrf }))
    }

    pub async fn console_sign_out(&self, cookie: &str) -> AppResult<()> {
        self.store.end_console_session(&hash_token(cookie)).await?;
        Ok(())
    }
}
