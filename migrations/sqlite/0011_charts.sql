-- Digest charts for platforms that show images by URL (Teams cards): served
-- at /charts/ID.png under an unguessable id. Aggregates only, like the
-- digest itself; deleted with the raw events by retention.
CREATE TABLE charts (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    png BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
