-- The version of a transfer and of a batch: every change of the row makes
-- it one higher. An approver's decision names the version the approver was
-- shown (the API's ETag and If-Match, the pages' hidden field), and it is
-- refused when the row changed since.

ALTER TABLE transfers ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version > 0);
ALTER TABLE transfer_batches ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version > 0);

-- How many accounts at this bank a user checked (a payee given in full, a
-- batch's items, a payee registered, the entry form's check) in the window
-- that ends at window_end (Unix microseconds): banking refuses more than
-- its limit, on every server, until the window ends.
CREATE TABLE payee_checks (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id),
    window_end BIGINT NOT NULL,
    checks     BIGINT NOT NULL CHECK (checks > 0)
);
