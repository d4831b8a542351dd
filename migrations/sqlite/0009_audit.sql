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
