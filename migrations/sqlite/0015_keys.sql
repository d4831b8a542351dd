-- Each organisation's keys are wrapped bound to its id, so one cannot open
-- in another's row. Keyed hashes (erasures) get a key of their own that
-- survives re-keying; for an organisation made before this, it is the data
-- key it used so far (set when the keys are first bound). While the data is
-- re-keyed, the new data key waits in next_data_key.
ALTER TABLE orgs ADD COLUMN hash_key BLOB;
ALTER TABLE orgs ADD COLUMN next_data_key BLOB;
