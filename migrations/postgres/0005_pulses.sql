-- Self-assessment and manager observation pulses (Kirkpatrick level 3): the
-- current answer per pulse job, on the program's scale.
CREATE TABLE pulses (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    -- 'self' (the participant's own) or 'manager' (their manager's observation).
    kind TEXT NOT NULL,
    -- Days after the participant's first completed session (0 = baseline).
    day BIGINT NOT NULL,
    value BIGINT NOT NULL,
    first_answered_at BIGINT NOT NULL,
    answered_at BIGINT NOT NULL,
    UNIQUE (job_id)
);
CREATE INDEX pulses_participant ON pulses (org_id, participant_id);
