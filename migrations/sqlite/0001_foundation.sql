-- Foundation: organisations, people, programs, participants, sessions, jobs,
-- reports and check-ins. Instants are UTC milliseconds; dates are YYYY-MM-DD.
-- Every table carries org_id, and every query filters by it.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    locale TEXT NOT NULL,
    data_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- A chat workspace (Slack team, Teams tenant) belongs to one organisation.
CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    platform TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (platform, workspace_id)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- A person known to an organisation: a participant, a manager, or both.
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    email TEXT,
    display_name TEXT,
    platform TEXT,
    workspace_id TEXT,
    user_id TEXT,
    time_zone TEXT,
    locale TEXT,
    unresolved_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX people_email ON people (org_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX people_chat ON people (org_id, platform, workspace_id, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    archived_at INTEGER,
    UNIQUE (org_id, key)
);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    manager_person_id INTEGER REFERENCES people(id),
    cohort TEXT,
    focus TEXT,
    time_zone TEXT,
    share_focus INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER,
    deactivated_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (program_id, person_id)
);
CREATE INDEX participants_org ON participants (org_id, program_id);

-- One row per participant and session number: planned and completed dates.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    number INTEGER NOT NULL,
    completed_on TEXT,
    completed_at INTEGER,
    source TEXT,
    external_id TEXT,
    UNIQUE (participant_id, number)
);
CREATE UNIQUE INDEX sessions_external ON sessions (org_id, external_id) WHERE external_id IS NOT NULL;

-- Everything the service will send, one row per (recipient, purpose, period).
-- Jobs are planned in bulk (hundreds of thousands in one transaction), so
-- they carry no foreign-key constraints: planning reads the rows they point
-- to in the same transaction, and erasure removes a participant's jobs.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    participant_id INTEGER,
    recipient_person_id INTEGER,
    purpose TEXT NOT NULL,
    period TEXT NOT NULL,
    unique_key TEXT NOT NULL,
    session_number INTEGER,
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    outcome TEXT,
    channel_id TEXT,
    message_ts TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, unique_key)
);
CREATE INDEX jobs_due ON jobs (state, due_at);

-- A participant's current answer to one nudge.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    answer TEXT NOT NULL,
    first_answered_at INTEGER NOT NULL,
    answered_at INTEGER NOT NULL,
    UNIQUE (job_id)
);

-- A manager's current answer to one check-in.
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    manager_person_id INTEGER NOT NULL REFERENCES people(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    answer TEXT NOT NULL,
    first_answered_at INTEGER NOT NULL,
    answered_at INTEGER NOT NULL,
    UNIQUE (job_id)
);

-- Every tap, in order: the history of changed answers, and the key that
-- makes a re-delivered tap a no-op.
CREATE TABLE taps (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    answer TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    tapped_at INTEGER NOT NULL,
    UNIQUE (org_id, delivery_key)
);
