-- Audit events carry typed fields instead of text to parse, and the outbox
-- holds the intent of each mail, composed by the sender when it sends it.

-- The typed fields of an event (see internal/audit): the revocation
-- reason, the cause of a system's action, the password changed. A row that
-- has any of them is hashed with version 2 of the canonical encoding; the
-- rows written before, which have none, keep version 1.
ALTER TABLE audit_events ADD COLUMN reason TEXT;
ALTER TABLE audit_events ADD COLUMN cause TEXT;
ALTER TABLE audit_events ADD COLUMN password TEXT;

-- A mail's intent: whom it goes to, by role ('user', 'master'), and the
-- audit event that caused it; recipient, subject and body stay empty until
-- the mail is sent. Mails written before, already composed, have neither.
-- A mail whose recipient is gone, deleted or without an address when it
-- is to be sent is dropped (dropped_at, and last_error says why).
ALTER TABLE mail_outbox ADD COLUMN recipient_role TEXT;
ALTER TABLE mail_outbox ADD COLUMN audit_id BIGINT;
ALTER TABLE mail_outbox ADD COLUMN dropped_at BIGINT;
DROP INDEX mail_outbox_due;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND dropped_at IS NULL;
