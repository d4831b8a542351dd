-- The digest reads every prompt of a week and the weeks "silent" looks back
-- over (100,000 rows for a program of 10,000 people), each with when it was
-- first answered. Both indexes answer that without touching the tables: the
-- prompts index carries the state and the participant, and the answers'
-- index the first answer's time (set once, on the first tap, so later taps
-- leave it alone).
DROP INDEX jobs_sent;
CREATE INDEX jobs_sent ON jobs (org_id, program_id, purpose, sent_at, state, participant_id) WHERE sent_at IS NOT NULL;
CREATE INDEX reports_job_answered ON reports (job_id, org_id, first_answered_at);
