-- When a certificate was first and last used to log in (Unix
-- microseconds; NULL: never). A certificate never used to log in may be
-- withdrawn by its own user within a day of its issuance (one issued but
-- never saved); the bank's console shows the last use.
ALTER TABLE certificates ADD COLUMN first_used_at BIGINT;
ALTER TABLE certificates ADD COLUMN last_used_at BIGINT;
