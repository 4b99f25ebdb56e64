-- Banking: accounts and their ledger of postings, privileges and limits,
-- payees, transfers, batches, their history and idempotency keys.
-- Money is INTEGER yen; dates of the calendar are TEXT 'YYYY-MM-DD' (Japan),
-- which sort as dates; times are Unix microseconds.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    account_type    TEXT    NOT NULL CHECK (account_type IN ('ordinary', 'current')),
    branch_code     TEXT    NOT NULL CHECK (length(branch_code) = 3 AND branch_code GLOB '[0-9][0-9][0-9]'),
    number          TEXT    NOT NULL CHECK (length(number) = 7 AND number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    holder_name     TEXT    NOT NULL CHECK (holder_name <> ''),
    -- The balance is the sum of the account's postings (kinko ledger verify).
    balance         INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    opened_at       INTEGER NOT NULL,
    request_ref     TEXT    NOT NULL,
    UNIQUE (branch_code, account_type, number)
);
CREATE INDEX accounts_organization ON accounts (organization_id);

-- Limits the bank sets for an organization. No row: the default.
CREATE TABLE organization_limits (
    organization_id INTEGER PRIMARY KEY REFERENCES organizations (id),
    daily_limit     INTEGER NOT NULL CHECK (daily_limit >= 0),
    updated_at      INTEGER NOT NULL
);

-- What the master user lets a general user do. No row: nothing.
CREATE TABLE privileges (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id),
    organization_id   INTEGER NOT NULL REFERENCES organizations (id),
    inquiry           INTEGER NOT NULL CHECK (inquiry IN (0, 1)),
    transfer_request  INTEGER NOT NULL CHECK (transfer_request IN (0, 1)),
    approval          INTEGER NOT NULL CHECK (approval IN (0, 1)),
    transaction_limit INTEGER NOT NULL CHECK (transaction_limit >= 0),
    daily_limit       INTEGER NOT NULL CHECK (daily_limit >= 0),
    updated_at        INTEGER NOT NULL
);

CREATE TABLE payees (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    bank_code       TEXT    NOT NULL CHECK (length(bank_code) = 4 AND bank_code GLOB '[0-9][0-9][0-9][0-9]'),
    branch_code     TEXT    NOT NULL CHECK (length(branch_code) = 3 AND branch_code GLOB '[0-9][0-9][0-9]'),
    account_type    TEXT    NOT NULL CHECK (account_type IN ('ordinary', 'current', 'savings')),
    account_number  TEXT    NOT NULL CHECK (length(account_number) = 7 AND account_number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    name            TEXT    NOT NULL CHECK (name <> ''),
    nickname        TEXT    NOT NULL,
    created_by      INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    UNIQUE (organization_id, bank_code, branch_code, account_type, account_number)
);

-- A batch of transfers (総合振込), decided as one; its items are transfers
-- with its id, whose status follows the batch's.
CREATE TABLE transfer_batches (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    from_account_id INTEGER NOT NULL REFERENCES accounts (id),
    execution_date  TEXT    NOT NULL CHECK (execution_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    source_file     TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('awaiting_approval', 'sent_back', 'rejected', 'cancelled', 'scheduled', 'executed', 'failed')),
    item_count      INTEGER NOT NULL CHECK (item_count > 0),
    total           INTEGER NOT NULL CHECK (total > 0),
    interbank       INTEGER NOT NULL CHECK (interbank IN (0, 1)),
    requested_by    INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    approved_by     INTEGER REFERENCES users (id),
    approved_at     INTEGER,
    executed_at     INTEGER,
    failure_reason  TEXT,
    CHECK ((status = 'executed') = (executed_at IS NOT NULL)),
    CHECK (status NOT IN ('scheduled', 'executed', 'failed') OR approved_by IS NOT NULL),
    CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
CREATE INDEX transfer_batches_organization ON transfer_batches (organization_id, id);
CREATE INDEX transfer_batches_due ON transfer_batches (status, execution_date);

CREATE TABLE transfers (
    id                   INTEGER PRIMARY KEY,
    organization_id      INTEGER NOT NULL REFERENCES organizations (id),
    batch_id             INTEGER REFERENCES transfer_batches (id),
    from_account_id      INTEGER NOT NULL REFERENCES accounts (id),
    payee_bank_code      TEXT    NOT NULL CHECK (length(payee_bank_code) = 4 AND payee_bank_code GLOB '[0-9][0-9][0-9][0-9]'),
    payee_branch_code    TEXT    NOT NULL CHECK (length(payee_branch_code) = 3 AND payee_branch_code GLOB '[0-9][0-9][0-9]'),
    payee_account_type   TEXT    NOT NULL CHECK (payee_account_type IN ('ordinary', 'current', 'savings')),
    payee_account_number TEXT    NOT NULL CHECK (length(payee_account_number) = 7 AND payee_account_number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    payee_name           TEXT    NOT NULL CHECK (payee_name <> ''),
    -- The payee's account when it is at this bank; NULL for another bank.
    to_account_id        INTEGER REFERENCES accounts (id),
    interbank            INTEGER NOT NULL CHECK (interbank IN (0, 1)),
    amount               INTEGER NOT NULL CHECK (amount > 0),
    execution_date       TEXT    NOT NULL CHECK (execution_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    memo                 TEXT    NOT NULL,
    customer_code1       TEXT    NOT NULL,
    customer_code2       TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('awaiting_approval', 'sent_back', 'rejected', 'cancelled', 'scheduled', 'executed', 'failed')),
    requested_by         INTEGER NOT NULL REFERENCES users (id),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    approved_by          INTEGER REFERENCES users (id),
    approved_at          INTEGER,
    executed_at          INTEGER,
    failure_reason       TEXT,
    interbank_file       TEXT,
    interbank_sent_at    INTEGER,
    CHECK ((interbank = 1) = (to_account_id IS NULL)),
    CHECK (to_account_id IS NULL OR to_account_id <> from_account_id),
    CHECK ((status = 'executed') = (executed_at IS NOT NULL)),
    CHECK (status NOT IN ('scheduled', 'executed', 'failed') OR approved_by IS NOT NULL),
    -- The requester never approves their own transfer.
    CHECK (approved_by IS NULL OR approved_by <> requested_by),
    CHECK (interbank_sent_at IS NULL OR (interbank = 1 AND status = 'executed' AND interbank_file IS NOT NULL))
);
CREATE INDEX transfers_organization ON transfers (organization_id, id);
CREATE INDEX transfers_requester_date ON transfers (requested_by, execution_date);
CREATE INDEX transfers_organization_date ON transfers (organization_id, execution_date, status);
CREATE INDEX transfers_batch ON transfers (batch_id);
CREATE INDEX transfers_due ON transfers (status, execution_date);
CREATE INDEX transfers_interbank_pending ON transfers (execution_date) WHERE interbank = 1 AND status = 'executed' AND interbank_sent_at IS NULL;

-- Every movement of money. A deposit has no transfer; a transfer has one
-- debit and, to an account here, one credit: never two of a kind.
CREATE TABLE postings (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    transfer_id   INTEGER REFERENCES transfers (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('deposit', 'debit', 'credit')),
    amount        INTEGER NOT NULL CHECK (amount <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    value_date    TEXT    NOT NULL CHECK (value_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    description   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    CHECK ((kind = 'debit') = (amount < 0)),
    CHECK ((kind = 'deposit') = (transfer_id IS NULL)),
    UNIQUE (transfer_id, kind)
);
CREATE INDEX postings_account ON postings (account_id, value_date, id);

-- The history of a transfer or batch: one row per step.
CREATE TABLE transfer_events (
    id          INTEGER PRIMARY KEY,
    transfer_id INTEGER REFERENCES transfers (id),
    batch_id    INTEGER REFERENCES transfer_batches (id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    action      TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    CHECK (transfer_id IS NOT NULL OR batch_id IS NOT NULL)
);
CREATE INDEX transfer_events_transfer ON transfer_events (transfer_id);
CREATE INDEX transfer_events_batch ON transfer_events (batch_id);

-- A client's Idempotency-Key: the first request's fingerprint and result.
CREATE TABLE idempotency_keys (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    transfer_id     INTEGER REFERENCES transfers (id),
    batch_id        INTEGER REFERENCES transfer_batches (id),
    created_at      INTEGER NOT NULL,
    UNIQUE (user_id, idempotency_key),
    CHECK ((transfer_id IS NULL) <> (batch_id IS NULL))
);
