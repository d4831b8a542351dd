//! The HR console's sign-in: a one-time login link from the CLI, made for
//! one person, or a sign-in with a chat platform, opens a browser session
//! of one organisation that names its person and reaches what they may:
//! everything for an organisation admin, their programs for a program
//! admin. Only hashes are stored.

use super::access::{person_label, ConsoleRole};
use super::*;

/// How long a login link works.
pub const LINK_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);
/// How long a console session lasts.
pub const SESSION_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(8);

/// A signed-in browser: its organisation, its person, what it reaches and
/// the token its forms carry.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub org: OrgId,
    pub csrf: String,
    /// The person (an email or a chat identity), as the audit log names them.
    pub who: String,
    pub reach: Reach,
}

impl ConsoleSession {
    /// How the audit log names this session's actions.
    pub fn actor(&self) -> String {
        format!("{} (console)", self.who)
    }

    pub fn is_org_admin(&self) -> bool {
        self.reach.is_organisation()
    }
}

pub(crate) fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl App {
    /// A one-time login link's token (valid 15 minutes) for `person` in
    /// `org`. Refused (naming `for`) when they are neither an organisation
    /// admin nor an admin of one of its programs.
    pub async fn console_login_token(&self, org: OrgId, person: &PersonRef) -> AppResult<String> {
        let who = person_label(person);
        if self.console_role(org, person).await?.is_none() {
            return Err(AppError::Invalid(ConfigErrors::single(
                "for",
                format!(
                    "{who} is neither an organisation admin (momentum admin grant) nor in any program's admins"
                ),
            )));
        }
        let token = random_token();
        let now = self.clock.now();
        self.store
            .add_console_link(org, &hash_token(&token), &who, now, now + LINK_LIFETIME)
            .await?;
        self.audit(org, "cli", "console.login_link", None).await;
        Ok(token)
    }

    /// Trades a login link's token for a session: (cookie value, session).
    /// `None` for a link that is unknown, used or expired; `Forbidden` when
    /// its person is no longer an admin.
    pub async fn console_sign_in(
        &self,
        token: &str,
    ) -> AppResult<Option<(String, ConsoleSession)>> {
        let now = self.clock.now();
        let Some((org, who)) = self.store.use_console_link(&hash_token(token), now).await? else {
            return Ok(None);
        };
        let Ok(person) = PersonRef::parse_short(&who) else {
            return Ok(None);
        };
        match self.console_role(org, &person).await? {
            Some(role) => self
                .console_open_session(org, &who, &role, "login link")
                .await
                .map(Some),
            None => Err(AppError::Forbidden(format!("{who} is not an admin"))),
        }
    }

    /// Signs in a person a chat platform vouched for (`how`): a session of
    /// their workspace's organisation, or `None` when they are not an admin.
    pub async fn console_sign_in_chat(
        &self,
        who: &ChatIdentity,
        how: &str,
    ) -> AppResult<Option<(String, ConsoleSession)>> {
        let Some(org) = self.org_of(who).await? else {
            return Ok(None);
        };
        let person = PersonRef {
            email: None,
            chat: Some(who.clone()),
            name: None,
        };
        let Some(role) = self.console_role(org, &person).await? else {
            return Ok(None);
        };
        // Named by email where known: what HR recognises in the audit log.
        let label = match self.chat_email(org, who).await? {
            Some(email) => email,
            None => who.to_string(),
        };
        self.console_open_session(org, &label, &role, how)
            .await
            .map(Some)
    }

    /// Opens a console session of `org` for `who` with `role`: (cookie
    /// value, session).
    async fn console_open_session(
        &self,
        org: OrgId,
        who: &str,
        role: &ConsoleRole,
        how: &str,
    ) -> AppResult<(String, ConsoleSession)> {
        let now = self.clock.now();
        let (cookie, csrf) = (random_token(), random_token());
        let programs = role.reach.to_column();
        self.store
            .add_console_session(
                &crate::store::console::NewSession {
                    org,
                    session_hash: &hash_token(&cookie),
                    csrf: &csrf,
                    who,
                    programs: programs.as_deref(),
                    org_admin_id: role.grant,
                },
                now,
                now + SESSION_LIFETIME,
            )
            .await?;
        let role_name = if role.reach.is_organisation() {
            "organisation admin"
        } else {
            "program admin"
        };
        self.audit(
            org,
            &format!("{who} (console, {how}, {role_name})"),
            "console.sign_in",
            None,
        )
        .await;
        Ok((
            cookie,
            ConsoleSession {
                org,
                csrf,
                who: who.to_string(),
                reach: role.reach.clone(),
            },
        ))
    }

    pub async fn console_session(&self, cookie: &str) -> AppResult<Option<ConsoleSession>> {
        Ok(self
            .store
            .console_session(&hash_token(cookie), self.clock.now())
            .await?
            .map(|s| ConsoleSession {
                org: s.org,
                csrf: s.csrf,
                reach: Reach::from_column(s.programs.as_deref()),
                who: s.who,
            }))
    }

    pub async fn console_sign_out(&self, cookie: &str) -> AppResult<()> {
        self.store.end_console_session(&hash_token(cookie)).await?;
        Ok(())
    }
}
