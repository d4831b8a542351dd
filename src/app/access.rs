//! Who may do what to an organisation's programs. An organisation admin
//! (granted by an operator, listed, revocable) reaches every program; a
//! program's admins (its file's `admins:`) reach only their programs, and
//! not the settings that protect the people in them: the program's
//! `admins`, its anonymity threshold k and its `metrics:`. Creating
//! programs needs an organisation admin. API tokens reach the whole
//! organisation or some programs, with the same limits.

use super::*;
use crate::domain::program::ProgramSpec;
use crate::store::admins::OrgAdmin;

/// What a console session or an API token reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every program of the organisation, and organisation-wide actions.
    Organisation,
    /// Only these programs (by key), without their protected settings.
    Programs(Vec<String>),
}

impl Reach {
    pub fn is_organisation(&self) -> bool {
        matches!(self, Reach::Organisation)
    }

    /// Whether program `key` is within reach.
    pub fn covers(&self, key: &str) -> bool {
        match self {
            Reach::Organisation => true,
            Reach::Programs(keys) => keys.iter().any(|k| k == key),
        }
    }

    /// As stored: `None` for the organisation, else a JSON list of keys.
    pub fn to_column(&self) -> Option<String> {
        match self {
            Reach::Organisation => None,
            Reach::Programs(keys) => Some(serde_json::to_string(keys).unwrap_or_default()),
        }
    }

    /// From the stored column. Unreadable lists reach nothing.
    pub fn from_column(column: Option<&str>) -> Self {
        match column {
            None => Reach::Organisation,
            Some(text) => Reach::Programs(serde_json::from_str(text).unwrap_or_default()),
        }
    }
}

/// The program settings only an organisation admin changes, as program
/// file paths.
pub const PROTECTED: [&str; 3] = [
    "program.admins",
    "program.anonymity_threshold",
    "program.metrics",
];

/// Why something is refused to someone whose reach is some programs.
pub fn needs_org_admin(what: &str) -> AppError {
    AppError::Forbidden(format!(
        "{what}: an organisation admin changes this (momentum admin grant)"
    ))
}

/// The first protected setting `new` changes from `old`, if any.
pub fn protected_change(old: &ProgramSpec, new: &ProgramSpec) -> Option<&'static str> {
    let people = |s: &ProgramSpec| {
        let mut v: Vec<(Option<String>, Option<String>)> = s
            .admins
            .iter()
            .map(|a| {
                (
                    a.email.as_ref().map(|e| e.to_string()),
                    a.chat.as_ref().map(|c| c.to_string()),
                )
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    if people(old) != people(new) {
        return Some(PROTECTED[0]);
    }
    if old.anonymity_threshold != new.anonymity_threshold {
        return Some(PROTECTED[1]);
    }
    if old.metrics != new.metrics {
        return Some(PROTECTED[2]);
    }
    None
}

/// Whom an organisation admin is granted to: a work email or a chat identity.
pub fn admin_person(email: Option<&str>, chat: Option<&str>) -> AppResult<PersonRef> {
    let bad = |field: &str, m: String| AppError::Invalid(ConfigErrors::single(field, m));
    match (email, chat) {
        (Some(e), None) => {
            let email = crate::domain::identity::Email::parse(e)
                .map_err(|_| bad("email", format!("{:?} is not an email", e.trim())))?;
            Ok(PersonRef {
                email: Some(email),
                chat: None,
                name: None,
            })
        }
        (None, Some(c)) => {
            let chat = ChatIdentity::parse(c).map_err(|e| bad("chat", e.to_string()))?;
            Ok(PersonRef {
                email: None,
                chat: Some(chat),
                name: None,
            })
        }
        _ => Err(bad("", "give exactly one of email or chat".into())),
    }
}

/// How the audit log and a session name a person: their email, else their
/// chat identity.
pub fn person_label(p: &PersonRef) -> String {
    match (&p.email, &p.chat) {
        (Some(e), _) => e.to_string(),
        (None, Some(c)) => c.to_string(),
        (None, None) => String::new(),
    }
}

/// A console role: what the person reaches, and the grant that makes them
/// an organisation admin (revoking it ends their sessions).
#[derive(Debug, Clone)]
pub struct ConsoleRole {
    pub reach: Reach,
    pub grant: Option<i64>,
}

impl App {
    /// The email behind a chat identity in `org`: the stored person's, else
    /// the chat profile's (when the platform is connected).
    pub(super) async fn chat_email(
        &self,
        org: OrgId,
        who: &ChatIdentity,
    ) -> AppResult<Option<String>> {
        let email = match self.store.person_by_chat(org, who).await? {
            Some(p) if p.email.is_some() => p.email,
            _ => match self.chats.for_identity(who) {
                Some(port) => port.user_info(who).await.ok().and_then(|u| u.email),
                None => None,
            },
        };
        Ok(email.map(|e| e.to_lowercase()))
    }

    /// What `person` may do in `org`'s console: an organisation admin
    /// reaches everything; a program admin their programs; `None` otherwise.
    pub async fn console_role(
        &self,
        org: OrgId,
        person: &PersonRef,
    ) -> AppResult<Option<ConsoleRole>> {
        let email = match (&person.email, &person.chat) {
            (Some(e), _) => Some(e.to_string()),
            (None, Some(c)) => self.chat_email(org, c).await?,
            (None, None) => None,
        };
        let chat = person.chat.as_ref().map(|c| c.to_string());
        if let Some(grant) = self
            .store
            .org_admin_grant(org, email.as_deref(), chat.as_deref())
            .await?
        {
            return Ok(Some(ConsoleRole {
                reach: Reach::Organisation,
                grant: Some(grant),
            }));
        }
        let keys: Vec<String> = self
            .store
            .programs(org)
            .await?
            .into_iter()
            .filter(|p| {
                p.spec.admins.iter().any(|a| {
                    (a.chat.is_some() && a.chat == person.chat)
                        || a.email
                            .as_ref()
                            .is_some_and(|e| Some(e.as_str()) == email.as_deref())
                })
            })
            .map(|p| p.key)
            .collect();
        Ok((!keys.is_empty()).then_some(ConsoleRole {
            reach: Reach::Programs(keys),
            grant: None,
        }))
    }

    /// Grants `person` organisation admin of `org` (kept if they have it).
    pub async fn grant_org_admin(
        &self,
        org: OrgId,
        person: &PersonRef,
        by: &str,
    ) -> AppResult<OrgAdmin> {
        if let Some(c) = &person.chat {
            self.check_own_workspaces(org, vec![("chat".to_string(), c.platform, &c.workspace)])
                .await?;
        }
        let (email, chat) = (
            person.email.as_ref().map(|e| e.to_string()),
            person.chat.as_ref().map(|c| c.to_string()),
        );
        let (grant, new) = self
            .store
            .grant_org_admin(org, email.as_deref(), chat.as_deref(), by, self.clock.now())
            .await?;
        if new {
            self.audit(org, by, "org_admin.grant", None).await;
        }
        Ok(grant)
    }

    /// The organisation's live admin grants, oldest first.
    pub async fn org_admins(&self, org: OrgId) -> AppResult<Vec<OrgAdmin>> {
        Ok(self.store.org_admins(org).await?)
    }

    /// Revokes `person`'s organisation admin grant; `false` when they have
    /// none. Their organisation-wide console sessions end with it.
    pub async fn revoke_org_admin(
        &self,
        org: OrgId,
        person: &PersonRef,
        by: &str,
    ) -> AppResult<bool> {
        let (email, chat) = (
            person.email.as_ref().map(|e| e.to_string()),
            person.chat.as_ref().map(|c| c.to_string()),
        );
        let revoked = self
            .store
            .revoke_org_admin(org, email.as_deref(), chat.as_deref(), by, self.clock.now())
            .await?;
        if revoked {
            self.audit(org, by, "org_admin.revoke", None).await;
        }
        Ok(revoked)
    }

    /// Applies a program file for someone whose reach is `reach`: within
    /// some programs, only to one of them that exists, and without changing
    /// its protected settings (403 naming the first one otherwise).
    pub async fn apply_program_within(
        &self,
        org: OrgId,
        doc: &serde_json::Value,
        prune: bool,
        reach: &Reach,
    ) -> AppResult<ApplyOutcome> {
        if let Reach::Programs(_) = reach {
            let key = doc["program"]["key"].as_str().unwrap_or_default();
            if !reach.covers(key) {
                return Err(AppError::Forbidden(format!(
                    "program.key: {key:?} is not one of this token's programs"
                )));
            }
            let Some(stored) = self.store.program_by_key(org, key).await? else {
                return Err(AppError::Forbidden(format!(
                    "program.key: there is no program {key:?} yet, and creating one needs an organisation-wide token"
                )));
            };
            let file = ProgramFile::from_value(doc).map_err(AppError::Invalid)?;
            if let Some(field) = protected_change(&stored.spec, &file.program) {
                return Err(needs_org_admin(field));
            }
        }
        self.apply_program(org, doc, prune).await
    }
}
