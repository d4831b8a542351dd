-- Microsoft Teams: what Momentum knows of a person in a tenant, and how to
-- reach them. Keyed by the Entra (AAD) object id, which email look-ups and
-- Graph return; `user_id` is Bot Framework's id (29:…). The 1:1
-- conversation is set once the app is installed for the person and cleared
-- when they uninstall it. Names and emails come only from roster look-ups
-- (to resolve enrolled work emails) and are erased with the person.
CREATE TABLE teams_users (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    user_id TEXT,
    name TEXT,
    email TEXT,
    locale TEXT,
    time_zone TEXT,
    conversation_id TEXT,
    service_url TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, aad_object_id)
);
CREATE INDEX teams_users_email ON teams_users (tenant_id, email);
CREATE INDEX teams_users_conversation ON teams_users (tenant_id, conversation_id);

-- Team and channel conversations the app is installed in: where rosters are
-- read and where a sponsors' channel is posted to.
CREATE TABLE teams_conversations (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    tenant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    team_id TEXT,
    service_url TEXT NOT NULL,
    installed BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id)
);
