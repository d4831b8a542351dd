-- Every tap writes each index of the taps table inside the commit the
-- participant waits for. Two served no query: the program index (no query
-- reads taps by program any more) and the per-organisation time index
-- (retention deletes old taps across organisations by time alone, which
-- that index could not serve; this one can).
DROP INDEX taps_program;
DROP INDEX taps_time;
CREATE INDEX taps_time ON taps (tapped_at);
