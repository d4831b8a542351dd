-- A participant's private note: sealed under the organisation's data key and
-- readable only by its author. Never in a digest, an export or an aggregate.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    -- The nudge the note was written on, if any.
    job_id INTEGER,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_person ON notes (org_id, person_id);

-- People who asked to be forgotten: keyed hashes (under the organisation's
-- data key) of their email and chat identity, so that a program file applied
-- later does not enrol them again. Nothing readable about them stays.
CREATE TABLE erasures (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    identity_hash TEXT NOT NULL,
    erased_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, identity_hash)
);

-- Inbound platform events already handled (Slack's event_id): a retried
-- delivery is acknowledged and not handled twice. Kept for a day.
CREATE TABLE inbound_events (
    event_key TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
);
CREATE INDEX inbound_events_time ON inbound_events (received_at);
