-- A manager gets one message a day for every report due that day: the job
-- that carries the message (its lead) and the reports' jobs in it share
-- batch_job_id = the lead's id. The others wait as 'batched' (never leased
-- on their own) and take the lead's outcome, so each report's check-in is
-- still sent, answered and counted on its own.
ALTER TABLE jobs ADD COLUMN batch_job_id INTEGER;
CREATE INDEX jobs_batch ON jobs (org_id, batch_job_id) WHERE batch_job_id IS NOT NULL;
