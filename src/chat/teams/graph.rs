//! Microsoft Graph, when the tenant's admin consented: work emails resolve
//! to Teams users (`User.Read.All`), and the app is installed for enrolled
//! people who do not have it yet (`TeamsAppInstallation.ReadWriteSelfForUser.All`),
//! so that their first nudge can be sent proactively.

use super::super::ChatError;
use super::token::{retry_after, short, TokenSource};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

pub const GRAPH_URL: &str = "https://graph.microsoft.com";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Requests Graph takes in one JSON batch (`POST /v1.0/$batch`).
pub const BATCH_REQUESTS: usize = 20;

/// Percent-encodes a query value for a URL inside a JSON batch (which
/// Graph reads as a URL: spaces and quotes encoded, as in any request).
pub fn odata_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What Momentum may do through Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphUse {
    /// Resolve work emails (`User.Read.All`).
    Lookup,
    /// Also install the app for enrolled people.
    Install,
}

/// A user as Graph returns them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

pub struct Graph {
    http: reqwest::Client,
    app_id: String,
    password: String,
    login_url: String,
    url: String,
    pub uses: GraphUse,
    /// A token source per tenant: Graph tokens come from the customer's tenant.
    sources: Mutex<HashMap<String, Arc<TokenSource>>>,
    /// The app's id in each tenant's app catalog, found once.
    catalog: Mutex<HashMap<String, String>>,
}

impl Graph {
    pub fn new(
        http: reqwest::Client,
        app_id: &str,
        password: &str,
        login_url: &str,
        url: &str,
        uses: GraphUse,
    ) -> Self {
        Self {
            http,
            app_id: app_id.to_string(),
            password: password.to_string(),
            login_url: login_url.trim_end_matches('/').to_string(),
            url: url.trim_end_matches('/').to_string(),
            uses,
            sources: Mutex::new(HashMap::new()),
            catalog: Mutex::new(HashMap::new()),
        }
    }

    async fn source(&self, tenant: &str) -> Arc<TokenSource> {
        self.sources
            .lock()
            .await
            .entry(tenant.to_string())
            .or_insert_with(|| {
                Arc::new(TokenSource::new(
                    self.http.clone(),
                    &self.app_id,
                    &self.password,
                    &format!("{}/{tenant}/oauth2/v2.0/token", self.login_url),
                    GRAPH_SCOPE,
                ))
            })
            .clone()
    }

    /// One Graph call in a tenant; `Ok(None)` for 404.
    async fn call(
        &self,
        tenant: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Option<Value>, ChatError> {
        let source = self.source(tenant).await;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .query(query)
            .bearer_auth(source.bearer().await?);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ChatError::Transient(format!("Graph: {}", short(&e))))?;
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let value: Value = resp.json().await.unwrap_or_default();
        let code = value["error"]["code"].as_str().unwrap_or_default();
        match status {
            s if s.is_success() => Ok(Some(value)),
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::CONFLICT => Ok(Some(value)),
            StatusCode::TOO_MANY_REQUESTS => Err(ChatError::RateLimited { retry_after }),
            StatusCode::UNAUTHORIZED => {
                source.forget().await;
                Err(ChatError::Transient(format!("Graph: unauthorized ({code})")))
            }
            StatusCode::FORBIDDEN => Err(ChatError::Permanent(
                "graph_forbidden: the tenant's admin has not consented to Momentum's Graph permissions".into(),
            )),
            s if s.is_client_error() => Err(ChatError::Permanent(format!("Graph: {code}"))),
            s => Err(ChatError::Transient(format!("Graph: HTTP {}", s.as_u16()))),
        }
    }

    /// The user whose mail or user principal name is `email`.
    pub async fn user_by_email(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<GraphUser>, ChatError> {
        // OData string literals double their single quotes.
        let e = email.replace('\'', "''");
        let query = [
            (
                "$filter",
                format!("mail eq '{e}' or userPrincipalName eq '{e}'"),
            ),
            (
                "$select",
                "id,displayName,mail,userPrincipalName,accountEnabled".to_string(),
            ),
        ];
        let found = self
            .call(tenant, Method::GET, "/v1.0/users", &query, None)
            .await?;
        Ok(found
            .and_then(|v| v["value"].as_array().and_then(|a| a.first().cloned()))
            .and_then(|u| serde_json::from_value(u).ok()))
    }

    /// The users whose mail or user principal name is each of `emails` (at
    /// most [`BATCH_REQUESTS`]), in their order: one `$batch` call of one
    /// filtered `GET /users` each. A request throttled inside the batch
    /// (429, with its own Retry-After) throttles the whole call.
    pub async fn users_by_emails(
        &self,
        tenant: &str,
        emails: &[String],
    ) -> Result<Vec<Option<GraphUser>>, ChatError> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<Value> = emails
            .iter()
            .take(BATCH_REQUESTS)
            .enumerate()
            .map(|(i, email)| {
                let e = email.replace('\'', "''");
                let filter = format!("mail eq '{e}' or userPrincipalName eq '{e}'");
                json!({
                    "id": (i + 1).to_string(),
                    "method": "GET",
                    "url": format!(
                        "/users?$filter={}&$select=id,displayName,mail,userPrincipalName,accountEnabled",
                        odata_encode(&filter)
                    ),
                })
            })
            .collect();
        let body = json!({ "requests": requests });
        let answer = self
            .call(tenant, Method::POST, "/v1.0/$batch", &[], Some(&body))
            .await?
            .unwrap_or_default();
        let mut out: Vec<Option<Option<GraphUser>>> = vec![None; requests.len()];
        for r in answer["responses"].as_array().into_iter().flatten() {
            let Some(i) = r["id"]
                .as_str()
                .and_then(|id| id.parse::<usize>().ok())
                .and_then(|n| n.checked_sub(1))
                .filter(|i| *i < out.len())
            else {
                continue;
            };
            let status = r["status"].as_u64().unwrap_or(0);
            let code = r["body"]["error"]["code"].as_str().unwrap_or_default();
            out[i] = Some(match status {
                200..=299 => r["body"]["value"]
                    .as_array()
                    .and_then(|a| a.first().cloned())
                    .and_then(|u| serde_json::from_value(u).ok()),
                404 => None,
                429 => {
                    let retry_after = r["headers"]["Retry-After"]
                        .as_str()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(std::time::Duration::from_secs);
                    return Err(ChatError::RateLimited { retry_after });
                }
                403 => {
                    return Err(ChatError::Permanent(
                        "graph_forbidden: the tenant's admin has not consented to Momentum's Graph permissions".into(),
                    ))
                }
                400..=499 => return Err(ChatError::Permanent(format!("Graph: {code}"))),
                s => return Err(ChatError::Transient(format!("Graph: HTTP {s} in a batch"))),
            });
        }
        out.into_iter()
            .map(|answered| {
                answered.ok_or_else(|| {
                    ChatError::Transient("Graph: a batched request went unanswered".into())
                })
            })
            .collect()
    }

    /// The app's id in the tenant's catalog (its manifest id is the bot's app id).
    async fn catalog_id(&self, tenant: &str) -> Result<String, ChatError> {
        if let Some(id) = self.catalog.lock().await.get(tenant) {
            return Ok(id.clone());
        }
        let query = [("$filter", format!("externalId eq '{}'", self.app_id))];
        let found = self
            .call(
                tenant,
                Method::GET,
                "/v1.0/appCatalogs/teamsApps",
                &query,
                None,
            )
            .await?;
        let id = found
            .and_then(|v| v["value"][0]["id"].as_str().map(str::to_string))
            .ok_or_else(|| {
                ChatError::Permanent(
                    "app_not_in_catalog: upload the Teams app package (momentum teams-package) first".into(),
                )
            })?;
        self.catalog
            .lock()
            .await
            .insert(tenant.to_string(), id.clone());
        Ok(id)
    }

    /// Installs the app in a person's personal scope (already installed is fine).
    pub async fn install_for(&self, tenant: &str, aad_object_id: &str) -> Result<(), ChatError> {
        let catalog = self.catalog_id(tenant).await?;
        let body = json!({
            "teamsApp@odata.bind": format!("{}/v1.0/appCatalogs/teamsApps/{catalog}", self.url),
        });
        let path = format!("/v1.0/users/{aad_object_id}/teamwork/installedApps");
        match self
            .call(tenant, Method::POST, &path, &[], Some(&body))
            .await?
        {
            Some(_) => Ok(()),
            None => Err(ChatError::Permanent("user_not_found".into())),
        }
    }
}
