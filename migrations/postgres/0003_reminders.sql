-- Reminders: a reminder job points at the nudge or check-in it repeats, so
-- it is skipped once that is answered (at most one per nudge: its unique key).
ALTER TABLE jobs ADD COLUMN reminds_job_id BIGINT;
CREATE INDEX jobs_reminds ON jobs (org_id, reminds_job_id) WHERE reminds_job_id IS NOT NULL;
-- Out of office, as the chat platform reports it (a Slack status, say): until
-- this instant nothing is sent to the person.
ALTER TABLE people ADD COLUMN away_until BIGINT;
