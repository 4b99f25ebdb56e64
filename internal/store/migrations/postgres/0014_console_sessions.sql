-- The operator console: its sessions, and the indexes of its search.

-- A console session: the operator's staff ID, bound to the fingerprint of
-- the operator certificate it was made on (a request with another
-- certificate is refused), with the form token of its pages. It ends after
-- an idle time that the console checks against last_seen_at.
CREATE TABLE console_sessions (
    id_hash      TEXT    PRIMARY KEY,
    staff_id     BIGINT  NOT NULL,
    fingerprint  TEXT    NOT NULL,
    form_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);

-- The search by account number (the unique index starts with the branch).
CREATE INDEX accounts_number ON accounts (number);

-- The audit log by operator, newest first.
CREATE INDEX audit_events_actor ON audit_events (actor, id);
