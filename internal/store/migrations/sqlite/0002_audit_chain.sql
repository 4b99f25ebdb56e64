-- The audit log becomes a hash chain (see internal/audit/chain.go): each
-- row holds the hash of the row before it and its own. Rows written before
-- this migration are chained, in order of id, in the same transaction as
-- this migration (by the store, after these statements).
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

-- The head of the chain: the id and hash of the last row appended. Every
-- append locks and updates it in its transaction, which keeps the chain
-- linear with several writers, and a row removed from the end no longer
-- matches it.
CREATE TABLE audit_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    hash    TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
