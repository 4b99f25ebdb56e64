-- Indexes for a bank of 100,000 organizations and millions of certificates:
-- the jobs and the top screen read only the rows they need.

-- The expiry reminders (R9) read the issued certificates whose notAfter
-- falls on a reminder day, never every issued certificate.
CREATE INDEX certificates_issued_not_after ON certificates (not_after) WHERE status = 'issued';

-- The CRL lists the revoked certificates that have not expired (RFC 5280
-- allows dropping the expired ones).
CREATE INDEX certificates_revoked_not_after ON certificates (not_after) WHERE status = 'revoked';

-- The top screen's recent logins: a user's newest events of one type,
-- instead of a scan of the audit log.
CREATE INDEX audit_events_user_type ON audit_events (user_id, type, id);
