-- The small step a participant names after a session, sealed under the
-- organisation's data key like a note and readable only by them. One per
-- participant and session; NULL sealed = "no step this time". Naming (or
-- declining) answers the small-step nudge (job_id); only that fact counts.
CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    session INTEGER NOT NULL,
    job_id INTEGER REFERENCES jobs(id),
    sealed BLOB,
    first_answered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (participant_id, session)
);
CREATE INDEX steps_job ON steps (job_id);
