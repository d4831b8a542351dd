-- The HR console's sign-in: one-time login links made with
-- `momentum admin login-link` (a hash of each; single use, short-lived) and
-- the browser sessions they open (a hash of the cookie, with the session's
-- CSRF token). Every session belongs to one organisation.
CREATE TABLE console_links (
    token_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE console_sessions (
    session_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
