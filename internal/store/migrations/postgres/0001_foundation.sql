-- Organizations, users, certificates, sessions and the audit log.
-- Times are Unix microseconds (UTC), the same in both dialects.

CREATE TABLE organizations (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    certificate_login BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL
);

CREATE TABLE users (
    id                           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id              BIGINT NOT NULL REFERENCES organizations (id),
    login_id                     TEXT    NOT NULL UNIQUE,
    name                         TEXT    NOT NULL,
    email                        TEXT    NOT NULL,
    role                         TEXT    NOT NULL CHECK (role IN ('master', 'general')),
    password_hash                TEXT    NOT NULL,
    confirmation_hash            TEXT    NOT NULL,
    password_change_required     BOOLEAN NOT NULL,
    confirmation_change_required BOOLEAN NOT NULL,
    failed_logins                BIGINT NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_at                    BIGINT,
    deleted_at                   BIGINT,
    created_at                   BIGINT NOT NULL
);
CREATE INDEX users_organization ON users (organization_id);
-- One master user per organization (R6).
CREATE UNIQUE INDEX users_one_master ON users (organization_id) WHERE role = 'master' AND deleted_at IS NULL;

CREATE TABLE certificates (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial            TEXT    NOT NULL UNIQUE,
    user_id           BIGINT NOT NULL REFERENCES users (id),
    organization_id   BIGINT NOT NULL REFERENCES organizations (id),
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'issued', 'revoked')),
    -- 1 while the certificate holds the user's one place (R6, R7): from the
    -- moment it is recorded until it is revoked or, once expired, replaced.
    active_slot       BOOLEAN CHECK (active_slot),
    tbs               BYTEA    NOT NULL,
    der               BYTEA,
    fingerprint       TEXT    UNIQUE,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    issued_at         BIGINT,
    revoked_at        BIGINT,
    revocation_reason TEXT,
    revoked_by        TEXT,
    request_ref       TEXT,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK (status <> 'revoked' OR active_slot IS NULL),
    CHECK ((status = 'pending') OR (der IS NOT NULL) OR (status = 'revoked'))
);
-- At most one certificate per user holds the active place.
CREATE UNIQUE INDEX certificates_one_active ON certificates (user_id) WHERE active_slot;
CREATE INDEX certificates_organization ON certificates (organization_id, active_slot);

CREATE TABLE sessions (
    id_hash         TEXT    PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    certificate_id  BIGINT REFERENCES certificates (id),
    fingerprint     TEXT,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    CHECK ((certificate_id IS NULL) = (fingerprint IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_certificate ON sessions (certificate_id);

CREATE TABLE audit_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              BIGINT NOT NULL,
    type            TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    organization_id BIGINT,
    user_id         BIGINT,
    serial          TEXT,
    request_ref     TEXT,
    detail          TEXT    NOT NULL
);
CREATE INDEX audit_events_organization ON audit_events (organization_id, at);
