-- Delivery: per-participant holiday calendars, a person's "stop", and the
-- DM channel used to confirm uncertain sends.
ALTER TABLE participants ADD COLUMN holiday_calendar TEXT;
ALTER TABLE people ADD COLUMN stopped_at INTEGER;
ALTER TABLE people ADD COLUMN dm_channel TEXT;
