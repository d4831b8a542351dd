-- Who may do what in the HR console and the admin API.
-- Organisation admins: granted (and revoked) by an operator with
-- `momentum admin grant|revoke` or the admin API, by work email or chat
-- identity (`slack:T…/U…`). They see and change everything of their
-- organisation; a program's admins (its file's `admins:`) only their programs.
CREATE TABLE org_admins (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    email TEXT,
    chat TEXT,
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    revoked_by TEXT,
    revoked_at INTEGER
);
CREATE INDEX org_admins_org ON org_admins (org_id);

-- A login link names the person it was made for; their role is derived
-- when it is used.
ALTER TABLE console_links ADD COLUMN who TEXT;

-- A session names its person and its reach: `programs` NULL for an
-- organisation admin (then `org_admin_id` is their grant, and revoking it
-- ends the session), else the JSON list of the program keys it may see.
ALTER TABLE console_sessions ADD COLUMN who TEXT;
ALTER TABLE console_sessions ADD COLUMN programs TEXT;
ALTER TABLE console_sessions ADD COLUMN org_admin_id INTEGER REFERENCES org_admins(id);

-- An API token for some programs only (a JSON list of keys); NULL = the
-- whole organisation.
ALTER TABLE api_tokens ADD COLUMN programs TEXT;
