-- A users.list sweep under way, page by page: where it has got to, so that
-- a resolver restarted mid-sweep goes on from there instead of paging
-- through the whole directory again, and so that HR's estimate of the time
-- left counts the pages still to read.
CREATE TABLE directory_sweeps (
    org_id BIGINT NOT NULL,
    platform TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    next_cursor TEXT NOT NULL,
    pages BIGINT NOT NULL,
    users BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, platform, workspace_id)
);
