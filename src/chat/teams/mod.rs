//! The Microsoft Teams adapter: Bot Framework inbound verification (`auth`),
//! the Bot Connector REST API outbound (`connector`), Adaptive Cards from
//! `templates/teams/` (`cards`), and the app package (`package`). One
//! `TeamsChat` port per tenant; conversation references are kept through
//! `References`, which the app implements.

pub mod activity;
pub mod auth;
pub mod cards;
pub mod connector;
pub mod graph;
pub mod package;
pub mod references;
pub mod token;

use super::{ChatError, ChatPort, ChatUser, Delivered, Message, View};
use crate::domain::teams::TeamsUser;
use crate::domain::{ChatIdentity, Platform};
use async_trait::async_trait;
pub use references::References;
use std::sync::Arc;

/// Where proactive messages go in a tenant the bot has not heard from yet
/// (Microsoft's global Teams service URL); later, the URL activities carry.
pub const GLOBAL_SERVICE_URL: &str = "https://smba.trafficmanager.net/teams/";
/// Bot Framework's sign-in authority.
pub const LOGIN_URL: &str = "https://login.microsoftonline.com";
/// The delivery problem HR sees when a person cannot be messaged because
/// the app is not installed for them (or they removed it).
pub const APP_NOT_INSTALLED: &str = "app_not_installed";

/// How the bot is registered in Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppType {
    /// The default: the bot's tokens come from its own tenant.
    #[default]
    SingleTenant,
    /// Older registrations: tokens from `botframework.com`.
    MultiTenant,
}

/// The bot's registration and where Microsoft's endpoints are.
#[derive(Clone)]
pub struct TeamsSettings {
    pub app_id: String,
    pub app_password: String,
    /// The bot's home tenant (required for `SingleTenant`).
    pub tenant_id: Option<String>,
    pub app_type: AppType,
    /// `https://login.microsoftonline.com`, or the local workspace's.
    pub login_url: String,
    /// Whose tokens `/api/messages` trusts: Bot Framework's metadata unless
    /// configured otherwise (only ever the local workspace's).
    pub openid_metadata_url: String,
    /// The service URL for tenants not heard from yet.
    pub service_url: String,
    /// Where this deployment is reached (`MOMENTUM_PUBLIC_URL`): cards show
    /// the digest's chart from there.
    pub public_url: Option<String>,
    /// Microsoft Graph, when the admin consented: (its URL, what for).
    pub graph: Option<(String, graph::GraphUse)>,
}

impl std::fmt::Debug for TeamsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsSettings")
            .field("app_id", &self.app_id)
            .field("app_password", &"…")
            .field("tenant_id", &self.tenant_id)
            .field("app_type", &self.app_type)
            .field("login_url", &self.login_url)
            .field("openid_metadata_url", &self.openid_metadata_url)
            .field("service_url", &self.service_url)
            .field("graph", &self.graph)
            .finish()
    }
}

impl TeamsSettings {
    /// The OAuth 2.0 token endpoint the bot's credentials go to.
    pub fn token_url(&self) -> String {
        let authority = match (self.app_type, &self.tenant_id) {
            (AppType::SingleTenant, Some(t)) => t.as_str(),
            _ => "botframework.com",
        };
        format!(
            "{}/{authority}/oauth2/v2.0/token",
            self.login_url.trim_end_matches('/')
        )
    }
}

/// The bot, shared by every tenant's port and the inbound route.
pub struct TeamsBot {
    pub settings: TeamsSettings,
    pub auth: auth::BotAuth,
    pub connector: connector::Connector,
    pub graph: Option<graph::Graph>,
}

impl TeamsBot {
    pub fn new(settings: TeamsSettings) -> Self {
        // reqwest honours HTTPS_PROXY / NO_PROXY for every call.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            graph: settings.graph.as_ref().map(|(url, uses)| {
                graph::Graph::new(
                    http.clone(),
                    &settings.app_id,
                    &settings.app_password,
                    &settings.login_url,
                    url,
                    *uses,
                )
            }),
            auth: auth::BotAuth::new(
                &settings.app_id,
                &settings.openid_metadata_url,
                http.clone(),
            ),
            connector: connector::Connector::new(
                http,
                &settings.app_id,
                &settings.app_password,
                &settings.token_url(),
            ),
            settings,
        }
    }
}

/// One tenant, reached through the bot.
pub struct TeamsChat {
    bot: Arc<TeamsBot>,
    tenant: String,
    references: Arc<dyn References>,
}

impl TeamsChat {
    pub fn new(bot: Arc<TeamsBot>, tenant: &str, references: Arc<dyn References>) -> Self {
        Self {
            bot,
            tenant: tenant.to_string(),
            references,
        }
    }

    /// Where a conversation is served; the tenant's service URL when the
    /// conversation itself was not seen (a channel named in a program file).
    async fn service_url(&self, conversation: &str) -> Result<String, ChatError> {
        if let Some(url) = self
            .references
            .service_url(&self.tenant, conversation)
            .await?
        {
            return Ok(url);
        }
        self.tenant_service_url().await
    }

    /// The tenant's most recent service URL, or the global one.
    async fn tenant_service_url(&self) -> Result<String, ChatError> {
        Ok(self
            .references
            .tenant_service_url(&self.tenant)
            .await?
            .unwrap_or_else(|| self.bot.settings.service_url.clone()))
    }

    /// The person's 1:1 conversation with the app: the stored one, or one
    /// created now (which Teams allows only where the app is installed for
    /// them).
    async fn personal_conversation(
        &self,
        to: &ChatIdentity,
    ) -> Result<(String, String), ChatError> {
        let known = self.references.user(&self.tenant, &to.user).await?;
        if let Some(TeamsUser {
            conversation_id: Some(c),
            service_url: Some(s),
            ..
        }) = &known
        {
            return Ok((c.clone(), s.clone()));
        }
        let service_url = self.tenant_service_url().await?;
        // Teams lets the bot start a chat only with someone who has the app:
        // install it for them first where the admin allowed it.
        if let Some(g) = self
            .bot
            .graph
            .as_ref()
            .filter(|g| g.uses == graph::GraphUse::Install)
        {
            g.install_for(&self.tenant, &to.user).await?;
        }
        let member = known
            .as_ref()
            .and_then(|u| u.user_id.clone())
            .unwrap_or_else(|| to.user.clone());
        let conversation = self
            .bot
            .connector
            .create_personal(&service_url, &self.tenant, &member)
            .await?;
        // Not stored here: a reference is kept only from what Teams sends
        // (the install, the person's own messages), so that an erased
        // person's reference does not come back with the reply confirming it.
        Ok((conversation, service_url))
    }

    fn to_chat_user(&self, u: TeamsUser) -> ChatUser {
        ChatUser {
            identity: ChatIdentity {
                platform: Platform::Teams,
                workspace: self.tenant.clone(),
                user: u.aad_object_id,
            },
            display_name: u.name,
            email: u.email,
            time_zone: u.time_zone,
            locale: u.locale,
            deleted: false,
            is_bot: false,
            status: Default::default(),
        }
    }

    /// Reads the rosters of the teams the app is in and remembers each
    /// member's email, so enrolled work emails resolve.
    async fn sweep_rosters(&self) -> Result<(), ChatError> {
        let conversations = self
            .references
            .installed_conversations(&self.tenant)
            .await?;
        for (conversation, service_url) in conversations {
            for m in self
                .bot
                .connector
                .members(&service_url, &conversation)
                .await?
            {
                let Some(aad) = m.aad_object_id else { continue };
                let user = TeamsUser {
                    tenant_id: self.tenant.clone(),
                    aad_object_id: aad,
                    user_id: Some(m.id),
                    name: m.name,
                    email: m.email.or(m.user_principal_name),
                    service_url: Some(service_url.clone()),
                    ..Default::default()
                };
                self.references.remember_user(&user).await?;
            }
        }
        Ok(())
    }

    /// A work email through Graph; the person is remembered (name and
    /// email, for `user_info`).
    async fn lookup_in_graph(
        &self,
        g: &graph::Graph,
        email: &str,
    ) -> Result<Option<ChatUser>, ChatError> {
        let Some(found) = g.user_by_email(&self.tenant, email).await? else {
            return Ok(None);
        };
        self.remember_graph_user(found).await.map(Some)
    }

    /// A user Graph found, remembered (name and email, for `user_info`).
    async fn remember_graph_user(&self, found: graph::GraphUser) -> Result<ChatUser, ChatError> {
        let user = TeamsUser {
            tenant_id: self.tenant.clone(),
            aad_object_id: found.id.clone(),
            name: found.display_name.clone(),
            email: found.mail.clone().or(found.user_principal_name.clone()),
            ..Default::default()
        };
        self.references.remember_user(&user).await?;
        let mut chat_user = self.to_chat_user(user);
        chat_user.deleted = found.account_enabled == Some(false);
        Ok(chat_user)
    }

    async fn send_card(
        &self,
        conversation: &str,
        service_url: &str,
        message: &Message,
    ) -> Result<Delivered, ChatError> {
        let activity = cards::activity(&cards::render(message)?)?;
        let id = self
            .bot
            .connector
            .send(service_url, conversation, &activity)
            .await?;
        Ok(Delivered {
            channel: conversation.to_string(),
            ts: id,
        })
    }

    /// Sends a card that is not a scheduled message (a reply with a form or
    /// the status) to a person's 1:1 chat.
    pub async fn send_card_to(
        &self,
        to: &ChatIdentity,
        card: &serde_json::Value,
    ) -> Result<(), ChatError> {
        let (conversation, service_url) = self.personal_conversation(to).await?;
        self.bot
            .connector
            .send(&service_url, &conversation, &cards::activity(card)?)
            .await
            .map(|_| ())
    }

    /// A text reply in a conversation.
    pub async fn reply_text(&self, to: &ChatIdentity, text: &str) -> Result<(), ChatError> {
        let (conversation, service_url) = self.personal_conversation(to).await?;
        self.bot
            .connector
            .send(&service_url, &conversation, &cards::text_activity(text))
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl ChatPort for TeamsChat {
    fn platform(&self) -> Platform {
        Platform::Teams
    }

    fn workspace(&self) -> &str {
        &self.tenant
    }

    async fn send_direct(
        &self,
        to: &ChatIdentity,
        message: &Message,
    ) -> Result<Delivered, ChatError> {
        let (conversation, service_url) = self.personal_conversation(to).await?;
        self.send_card(&conversation, &service_url, message).await
    }

    async fn post_to_channel(
        &self,
        channel: &str,
        message: &Message,
    ) -> Result<Delivered, ChatError> {
        let service_url = self.service_url(channel).await?;
        self.send_card(channel, &service_url, message).await
    }

    async fn update(&self, at: &Delivered, message: &Message) -> Result<(), ChatError> {
        let service_url = self.service_url(&at.channel).await?;
        let activity = cards::activity(&cards::render(message)?)?;
        self.bot
            .connector
            .update(&service_url, &at.channel, &at.ts, &activity)
            .await
    }

    /// Teams cards show images by URL: the chart is kept and served at
    /// `/charts/ID.png` under this deployment's public URL.
    async fn upload_image(
        &self,
        _filename: &str,
        _title: &str,
        png: Vec<u8>,
    ) -> Result<String, ChatError> {
        let Some(public) = &self.bot.settings.public_url else {
            return Err(ChatError::Permanent(
                "charts in Teams need MOMENTUM_PUBLIC_URL".into(),
            ));
        };
        let id: String = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (0..32)
                .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
                .collect()
        };
        self.references.keep_chart(&self.tenant, &id, &png).await?;
        Ok(format!("{}/charts/{id}.png", public.trim_end_matches('/')))
    }

    /// A bot cannot attach a file without the person accepting it first, so
    /// a person's data (JSON, small) comes as a message with a code block.
    async fn send_file(
        &self,
        to: &ChatIdentity,
        filename: &str,
        title: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ChatError> {
        let body = String::from_utf8(bytes)
            .map_err(|_| ChatError::Permanent("only text files can be sent in Teams".into()))?;
        let text = format!("**{title}** ({filename})\n\n```json\n{body}\n```");
        if text.len() > cards::MAX_ACTIVITY_BYTES - 1024 {
            return Err(ChatError::Permanent(
                "the file is larger than a Teams message".into(),
            ));
        }
        self.reply_text(to, &text).await
    }

    /// Teams has no home tab: the status card goes to the 1:1 chat.
    async fn publish_home(&self, to: &ChatIdentity, view: &View) -> Result<(), ChatError> {
        self.send_card_to(to, &cards::render_view(view)?).await
    }

    /// Forms are cards in the 1:1 chat (`trigger` is the person's identity).
    async fn open_form(&self, trigger: &str, view: &View) -> Result<(), ChatError> {
        let to = ChatIdentity::parse(trigger).map_err(|e| ChatError::Permanent(e.to_string()))?;
        self.send_card_to(&to, &cards::render_view(view)?).await
    }

    /// From what the rosters said; a person not found yet is looked for in
    /// the rosters of the teams the app is in.
    async fn lookup_by_email(&self, email: &str) -> Result<Option<ChatUser>, ChatError> {
        if let Some(g) = &self.bot.graph {
            return self.lookup_in_graph(g, email).await;
        }
        if let Some(u) = self.references.user_by_email(&self.tenant, email).await? {
            return Ok(Some(self.to_chat_user(u)));
        }
        self.sweep_rosters().await?;
        Ok(self
            .references
            .user_by_email(&self.tenant, email)
            .await?
            .map(|u| self.to_chat_user(u)))
    }

    /// With Graph: twenty emails a call (JSON batching).
    fn lookups_per_call(&self) -> usize {
        if self.bot.graph.is_some() {
            graph::BATCH_REQUESTS
        } else {
            1
        }
    }

    async fn lookup_many(&self, emails: &[String]) -> Result<Vec<Option<ChatUser>>, ChatError> {
        let Some(g) = &self.bot.graph else {
            let mut found = Vec::with_capacity(emails.len());
            for email in emails {
                found.push(self.lookup_by_email(email).await?);
            }
            return Ok(found);
        };
        let mut out = Vec::with_capacity(emails.len());
        for chunk in emails.chunks(graph::BATCH_REQUESTS) {
            for found in g.users_by_emails(&self.tenant, chunk).await? {
                out.push(match found {
                    Some(u) => Some(self.remember_graph_user(u).await?),
                    None => None,
                });
            }
        }
        Ok(out)
    }

    async fn user_info(&self, who: &ChatIdentity) -> Result<ChatUser, ChatError> {
        self.references
            .user(&self.tenant, &who.user)
            .await?
            .map(|u| self.to_chat_user(u))
            .ok_or_else(|| ChatError::Permanent("user_not_found".into()))
    }
}
