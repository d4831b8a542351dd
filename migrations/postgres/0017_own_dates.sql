-- Each participant's own planned date for a session: from the program file,
-- a CSV, a calendar feed, the API or the participant in chat. A row with a
-- planned_source and no planned_on is a cancelled session waiting for a new
-- date; a row without a planned_source follows the cohort's or program's date.
ALTER TABLE sessions ADD COLUMN planned_on TEXT;
ALTER TABLE sessions ADD COLUMN planned_source TEXT;
