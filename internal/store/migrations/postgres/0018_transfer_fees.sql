-- Transfer fees (振込手数料): the fee of a transfer, fixed by the bank's
-- table when it was requested, and who bears it (payer 当方負担, payee
-- 先方負担: the payee receives the amount less the fee). At execution the
-- fee is its own posting of kind 'fee', beside the transfer's debit.
ALTER TABLE transfers ADD COLUMN fee BIGINT NOT NULL DEFAULT 0 CHECK (fee >= 0);
ALTER TABLE transfers ADD COLUMN fee_payer TEXT NOT NULL DEFAULT 'payer' CHECK (fee_payer IN ('payer', 'payee'));
ALTER TABLE transfers ADD CONSTRAINT transfers_fee_leaves_amount CHECK (fee_payer = 'payer' OR amount > fee);

-- The checks of postings that name its kinds are replaced by the same with
-- the kind 'fee', which takes money out of the account like a debit.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'postings'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%kind%'
    LOOP
        EXECUTE format('ALTER TABLE postings DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
ALTER TABLE postings ADD CONSTRAINT postings_kind CHECK (kind IN ('deposit', 'debit', 'credit', 'fee'));
ALTER TABLE postings ADD CONSTRAINT postings_out_is_negative CHECK ((kind IN ('debit', 'fee')) = (amount < 0));
ALTER TABLE postings ADD CONSTRAINT postings_deposit_has_no_transfer CHECK ((kind = 'deposit') = (transfer_id IS NULL));
