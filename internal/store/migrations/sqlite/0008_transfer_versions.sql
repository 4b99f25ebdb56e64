-- The version of a transfer and of a batch: every change of the row makes
-- it one higher. An approver's decision names the version the approver was
-- shown (the API's ETag and If-Match, the pages' hidden field), and it is
-- refused when the row changed since.

ALTER TABLE transfers ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
ALTER TABLE transfer_batches ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
