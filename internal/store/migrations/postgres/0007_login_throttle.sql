-- Failed logins that need no certificate (portal login, certificate
-- issuance) are throttled per client address and per login ID, here so
-- that every server of a bank sees the same counts. throttle_key is "ip:<address or
-- IPv6 /64>" or "id:<hex SHA-256 of the lower-case login ID>"; failures
-- counts within the window; blocked_until refuses attempts before it; the
-- row may go at expires_at (a background job deletes it).
CREATE TABLE login_throttles (
    throttle_key  TEXT    PRIMARY KEY,
    failures      BIGINT  NOT NULL CHECK (failures >= 0),
    blocked_until BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX login_throttles_expires ON login_throttles (expires_at);

-- What a user is told after logging in: the failed attempts on the user's
-- login ID since the previous login. failures_pending counts those since
-- the last login; at a login it becomes failures_reported, shown until the
-- next one, and counting starts anew.
ALTER TABLE users ADD COLUMN failures_pending BIGINT NOT NULL DEFAULT 0 CHECK (failures_pending >= 0);
ALTER TABLE users ADD COLUMN failures_reported BIGINT NOT NULL DEFAULT 0 CHECK (failures_reported >= 0);

-- Where those attempts came from: one row per distinct address (empty:
-- unknown), with the channel and time of its last failure; identity keeps
-- only the few most recent per user and state (reported false: since the last
-- login; true: the report of the last login).
CREATE TABLE login_failure_sources (
    user_id  BIGINT  NOT NULL REFERENCES users (id),
    reported BOOLEAN NOT NULL,
    address  TEXT    NOT NULL,
    channel  TEXT    NOT NULL,
    failed_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, reported, address)
);
