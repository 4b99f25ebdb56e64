-- A certificate's life after issuance (R9..R13): renewal, expiry notices,
-- and the outbox of mails.

-- Renewal (R9): the new certificate names the one it renews. It takes the
-- user's active place at once; the renewed one keeps working, outside the
-- place, until the new one is first used to log in, when it is revoked as
-- superseded (or until it expires).
ALTER TABLE certificates ADD COLUMN renews INTEGER REFERENCES certificates (id);
CREATE INDEX certificates_renews ON certificates (renews);

-- Expiry notices (R9), one row per notice sent: occasion is 'login' (the
-- first certificate login inside the renewal window) or the days left of a
-- daily reminder ('40', '14', '7', '1'); day is the bank's calendar day
-- (YYYY-MM-DD). Never twice for one certificate and occasion, never twice
-- for one certificate and day.
CREATE TABLE expiry_notices (
    certificate_id INTEGER NOT NULL REFERENCES certificates (id),
    occasion       TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (certificate_id, occasion),
    UNIQUE (certificate_id, day)
);

-- Mails to send, written in the transaction of the event that causes them
-- and delivered at least once by the sender. claimed_until is a lease: a
-- server that took a mail and died leaves it to another after the lease.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    organization_id INTEGER,
    user_id         INTEGER,
    serial          TEXT,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
