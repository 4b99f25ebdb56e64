-- The transfer or the batch of transfers (総合振込) a banking event is
-- about, as typed fields (see internal/audit/chain.go and docs/audit.md): a
-- linked row with either is encoded as version 4. NULL on every row
-- before, which keep their versions. No foreign key: the audit log names
-- what it names, whatever becomes of the row.
ALTER TABLE audit_events ADD COLUMN transfer_id INTEGER;
ALTER TABLE audit_events ADD COLUMN batch_id INTEGER;
