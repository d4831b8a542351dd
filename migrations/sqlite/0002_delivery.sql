-- Delivery: per-participant holiday calendars, a person's "stop", and jobs
-- whose last send had an unknown outcome (check before sending again).
ALTER TABLE participants ADD COLUMN holiday_calendar TEXT;
ALTER TABLE people ADD COLUMN stopped_at INTEGER;
ALTER TABLE jobs ADD COLUMN verify_first INTEGER NOT NULL DEFAULT 0;
-- When the job was meant to go out; retries move due_at, not its send window.
ALTER TABLE jobs ADD COLUMN planned_due_at INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET planned_due_at = due_at;
-- Which dispatcher holds a job's lease; only the holder records its outcome.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
