-- The last CRL of the client-issuing CA. number only grows: a new CRL takes
-- number + 1 in the transaction that stores it, with this row locked, so
-- that two servers never sign two CRLs with one number. revocations is the
-- number of revoked certificates the CRL was made from; a different count
-- now means a certificate was revoked since.
CREATE TABLE crl_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    number      INTEGER NOT NULL CHECK (number >= 0),
    der         BLOB,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    revocations INTEGER NOT NULL
);
INSERT INTO crl_state (id, number, der, this_update, next_update, revocations) VALUES (1, 0, NULL, 0, 0, 0);
-- Revoked certificates are counted and listed for every CRL.
CREATE INDEX certificates_status ON certificates (status);
