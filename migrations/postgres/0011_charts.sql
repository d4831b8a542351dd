-- Digest charts for platforms that show images by URL (Teams cards): served
-- at /charts/ID.png under an unguessable id. Aggregates only, like the
-- digest itself; deleted with the raw events by retention.
CREATE TABLE charts (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    png BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
