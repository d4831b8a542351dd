-- Measurement: pause history (a participant paused for a whole week is not
-- eligible that week), weekly trends per group (momentum continues from
-- them, and they outlive raw events), and each published digest.
CREATE TABLE pauses (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    from_at INTEGER NOT NULL,
    until_at INTEGER NOT NULL
);
CREATE INDEX pauses_participant ON pauses (org_id, participant_id);
INSERT INTO pauses (org_id, participant_id, from_at, until_at)
    SELECT org_id, id, updated_at, paused_until FROM participants WHERE paused_until IS NOT NULL;

-- One row per program, week (its Monday) and group ("program", "cohort:KEY",
-- "theme:NAME", "manager:ID"). Never published as such: the digest is.
CREATE TABLE weekly_trends (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    week TEXT NOT NULL,
    group_key TEXT NOT NULL,
    people INTEGER NOT NULL,
    eligible INTEGER NOT NULL,
    active INTEGER NOT NULL,
    inactive_two_weeks INTEGER NOT NULL,
    -- Momentum in millionths (0..1000000), NULL before there is one.
    momentum_ppm INTEGER,
    PRIMARY KEY (org_id, program_id, week, group_key)
);

-- The published digest of a program week (JSON, suppressed figures left out).
CREATE TABLE digests (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    week TEXT NOT NULL,
    body TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, program_id, week)
);

-- What the weekly figures read by time.
CREATE INDEX taps_time ON taps (org_id, tapped_at);
CREATE INDEX taps_job ON taps (org_id, job_id);
CREATE INDEX reports_participant ON reports (participant_id, first_answered_at);
CREATE INDEX reports_time ON reports (org_id, first_answered_at);
CREATE INDEX jobs_sent ON jobs (org_id, program_id, purpose, sent_at);
