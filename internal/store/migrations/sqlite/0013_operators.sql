-- The bank's operators (staff), their certificates for the operator
-- console, and the written requests that one operator files and a second
-- one approves (maker-checker). Times are Unix microseconds.

-- Names are ASCII letters, digits, '.', '_' and '-' (the service checks),
-- so lower() means the same on both engines: unique without regard to case.
CREATE TABLE operator_staff (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (name <> ''),
    display_name TEXT    NOT NULL CHECK (display_name <> ''),
    role         TEXT    NOT NULL CHECK (role IN ('clerk', 'approver', 'auditor')),
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    disabled_at  INTEGER
);
CREATE UNIQUE INDEX operator_staff_name_lower ON operator_staff (lower(name));

-- An operator's client certificate, found by the SHA-256 fingerprint of
-- its DER on every request of the console.
CREATE TABLE operator_certificates (
    id          INTEGER PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES operator_staff (id),
    serial      TEXT    NOT NULL CHECK (serial <> ''),
    fingerprint TEXT    NOT NULL UNIQUE CHECK (fingerprint <> ''),
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX operator_certificates_staff ON operator_certificates (staff_id);

-- A written request: a reference is used once per kind of action.
-- Params and result are JSON; the result never holds a password.
CREATE TABLE operator_requests (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('organization_create', 'certificate_login', 'certificate_revoke',
                                                       'user_unlock', 'password_reset', 'deposit', 'limit_set')),
    ref               TEXT    NOT NULL CHECK (ref <> ''),
    organization_code TEXT    NOT NULL DEFAULT '',
    params            TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'failed')),
    maker             TEXT    NOT NULL,
    checker           TEXT    NOT NULL DEFAULT '',
    reason            TEXT    NOT NULL DEFAULT '',
    result            TEXT    NOT NULL DEFAULT '',
    filed_at          INTEGER NOT NULL,
    decided_at        INTEGER,
    UNIQUE (kind, ref),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status = 'pending' OR checker <> '')
);
CREATE INDEX operator_requests_status ON operator_requests (status, id);
CREATE INDEX operator_requests_organization ON operator_requests (organization_code, id);

-- A deposit names its written request, once: a second deposit under the
-- same reference is refused. Postings written before have none.
ALTER TABLE postings ADD COLUMN request_ref TEXT;
CREATE UNIQUE INDEX postings_deposit_ref ON postings (request_ref) WHERE kind = 'deposit' AND request_ref IS NOT NULL;
