-- A Slack workspace (or Enterprise Grid team) that installed the app through
-- OAuth: its bot token, sealed under the organisation's data key. Deleted
-- when the app is uninstalled or its tokens are revoked.
CREATE TABLE slack_installations (
    team_id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    enterprise_id TEXT,
    team_name TEXT,
    bot_user_id TEXT,
    scopes TEXT NOT NULL,
    token_sealed BYTEA NOT NULL,
    installed_at BIGINT NOT NULL
);

-- OAuth states handed out with "Add to Slack" (a hash of each): single use,
-- valid for ten minutes, so a redirect that Momentum did not start is refused.
CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
