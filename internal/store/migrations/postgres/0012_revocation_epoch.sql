-- The revocation epoch: a counter that every revocation's transaction
-- increments. Each server caches the OCSP status of the serials it knows
-- (issued or revoked) and drops that cache when the epoch it reads (at most
-- once a poll interval) has changed. Issuance does not touch it: a serial
-- the database does not know is never cached. Revocations are rare, so this
-- one row is not hot.
CREATE TABLE revocation_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO revocation_epoch (id, epoch) VALUES (1, 0);
