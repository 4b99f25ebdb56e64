-- 給与・賞与振込: a batch's kind (総合振込 general, 給与 salary, 賞与 bonus),
-- the privilege to see payroll payees' names and amounts, and the uploads
-- kept for their confirmation (the request as JSON, bounded in size by the
-- batch's item limit and in time by expires_at).
ALTER TABLE transfer_batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'general' CHECK (kind IN ('general', 'salary', 'bonus'));
ALTER TABLE privileges ADD COLUMN payroll_inquiry INTEGER NOT NULL DEFAULT 0 CHECK (payroll_inquiry IN (0, 1));

CREATE TABLE batch_drafts (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    request         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX batch_drafts_user ON batch_drafts (user_id, id);
CREATE INDEX batch_drafts_expiry ON batch_drafts (expires_at);
