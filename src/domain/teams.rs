//! What Momentum keeps of Microsoft Teams to reach people: a person's ids and
//! 1:1 conversation with the app, and the team channels the app is in. The
//! Teams adapter reads and remembers them through the app; the store keeps
//! them.

/// A person in a Teams tenant, as far as Momentum knows them. `None` fields
/// are left as they were when saved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamsUser {
    pub tenant_id: String,
    /// The Entra object id: the person's id in `teams:TENANT/AAD_OBJECT_ID`.
    pub aad_object_id: String,
    /// Bot Framework's id for the person (29:…).
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// The 1:1 chat with the app, while the app is installed for the person.
    pub conversation_id: Option<String>,
    pub service_url: Option<String>,
}

/// A team's channel conversation and whether the app is in it.
#[derive(Debug, Clone, Copy)]
pub struct TeamsConversation<'a> {
    pub tenant: &'a str,
    pub conversation_id: &'a str,
    pub team_id: Option<&'a str>,
    pub service_url: &'a str,
    pub installed: bool,
}
