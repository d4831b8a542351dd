-- What admins did: who (a token's name, the CLI, a program admin in chat),
-- what (an action and the program it concerned), when. Never content: no
-- program file, no person's name or email.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT
);
CREATE INDEX audit_log_org ON audit_log (org_id, at);

-- Periodic maintenance (retention) claimed by one replica at a time.
CREATE TABLE maintenance (
    name TEXT PRIMARY KEY,
    last_run INTEGER NOT NULL
);

-- When the participant chose their focus and whether to share it with their
-- manager themselves: from then on a program file no longer overrides them.
ALTER TABLE participants ADD COLUMN chosen_at INTEGER;

-- A participant's own diagnosis (goal, context, main blocker), sealed under
-- the organisation's data key like a note: readable only by them.
CREATE TABLE diagnoses (
    participant_id INTEGER PRIMARY KEY REFERENCES participants(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    sealed BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
