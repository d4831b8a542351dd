-- Planning inserts hundreds of thousands of jobs at once: the index the
-- weekly figures use covers sent jobs only, so planning does not pay for it.
DROP INDEX jobs_sent;
CREATE INDEX jobs_sent ON jobs (org_id, program_id, purpose, sent_at) WHERE sent_at IS NOT NULL;
-- A report's answer as of a week's end is its job's last tap before then:
-- found by job first, then time (not by time across every tap).
DROP INDEX taps_job;
CREATE INDEX taps_job ON taps (org_id, job_id, tapped_at);
-- Activity per program week reads taps by program and time alone (no join
-- to their jobs): a tap carries its program.
ALTER TABLE taps ADD COLUMN program_id BIGINT;
UPDATE taps SET program_id = (SELECT j.program_id FROM jobs j WHERE j.id = taps.job_id AND j.org_id = taps.org_id);
CREATE INDEX taps_program ON taps (org_id, program_id, tapped_at, person_id);
