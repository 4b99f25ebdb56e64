-- Transfer fees (振込手数料): the fee of a transfer, fixed by the bank's
-- table when it was requested, and who bears it (payer 当方負担, payee
-- 先方負担: the payee receives the amount less the fee). At execution the
-- fee is its own posting of kind 'fee', beside the transfer's debit.
ALTER TABLE transfers ADD COLUMN fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0);
ALTER TABLE transfers ADD COLUMN fee_payer TEXT NOT NULL DEFAULT 'payer'
    CHECK (fee_payer = 'payer' OR (fee_payer = 'payee' AND amount > fee));

-- SQLite changes no CHECK of a table: postings is made again with the kind
-- 'fee', which takes money out of the account like a debit.
CREATE TABLE postings_0018 (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    transfer_id   INTEGER REFERENCES transfers (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('deposit', 'debit', 'credit', 'fee')),
    amount        INTEGER NOT NULL CHECK (amount <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    value_date    TEXT    NOT NULL CHECK (value_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    description   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    request_ref   TEXT,
    CHECK ((kind IN ('debit', 'fee')) = (amount < 0)),
    CHECK ((kind = 'deposit') = (transfer_id IS NULL)),
    UNIQUE (transfer_id, kind)
);
INSERT INTO postings_0018 (id, account_id, transfer_id, kind, amount, balance_after, value_date, description, created_at, request_ref)
    SELECT id, account_id, transfer_id, kind, amount, balance_after, value_date, description, created_at, request_ref FROM postings;
DROP TABLE postings;
ALTER TABLE postings_0018 RENAME TO postings;
CREATE INDEX postings_account ON postings (account_id, value_date, id);
CREATE UNIQUE INDEX postings_deposit_ref ON postings (request_ref) WHERE kind = 'deposit' AND request_ref IS NOT NULL;
