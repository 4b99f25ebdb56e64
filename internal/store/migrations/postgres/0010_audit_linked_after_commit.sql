-- The audit chain is linked after commit (see internal/audit/chain.go and
-- docs/audit.md): an event is inserted in the transaction of its change
-- without prev_hash and hash, and the linker gives it, after that
-- transaction committed, its place in the chain (chain_seq, 1, 2, 3, …),
-- prev_hash and hash. Writers no longer queue on the head. Rows linked
-- before keep no chain_seq and keep their hashes (versions 1 and 2); they
-- come first in the chain, in order of id.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
-- The ID of the request that wrote the event, when one did (version 3).
ALTER TABLE audit_events ADD COLUMN request_id TEXT;
-- When the row was inserted, by the writing server's own clock (Unix
-- microseconds): verify reports an event left unlinked for long. Not part
-- of the chain; NULL on the rows before.
ALTER TABLE audit_events ADD COLUMN recorded_at BIGINT;
CREATE UNIQUE INDEX audit_events_chain_seq ON audit_events (chain_seq);
-- The events not linked yet, for the linker.
CREATE INDEX audit_events_unlinked ON audit_events (id) WHERE chain_seq IS NULL AND hash IS NULL;

-- The head also names the chain_seq of the last row linked (0 while only
-- rows linked at insert exist).
ALTER TABLE audit_head ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
