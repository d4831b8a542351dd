-- People given by email wait for their chat identity in the background:
-- resolve_due_at is set while they wait (cleared once found or given up),
-- and a resolver claims them by setting resolve_owner and a lease, so that
-- two replicas never look the same person up and a restart loses no one.
ALTER TABLE people ADD COLUMN resolve_due_at BIGINT;
ALTER TABLE people ADD COLUMN resolve_owner TEXT;
ALTER TABLE people ADD COLUMN resolve_lease_until BIGINT;
ALTER TABLE people ADD COLUMN resolve_attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX people_resolving ON people (resolve_due_at) WHERE resolve_due_at IS NOT NULL;

-- How many users a chat workspace had at its last full directory sweep:
-- what decides between one sweep and one look-up per person next time.
CREATE TABLE chat_directories (
    org_id BIGINT NOT NULL,
    platform TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    users BIGINT NOT NULL,
    counted_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, platform, workspace_id)
);
