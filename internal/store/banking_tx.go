package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
)

var _ banking.Tx = (*bankingTx)(nil)

// bankingTx is a transaction of the banking package: the SQL of each step,
// in the lock order documented on banking.Tx.
type bankingTx struct {
	d  *DB
	tx *sql.Tx
}

// InTx runs fn in one transaction (see DB.tx); fn's error is returned as it
// is.
func (d *DB) InTx(ctx context.Context, fn func(tx banking.Tx) error) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return fn(&bankingTx{d: d, tx: tx}) })
}

// lockRow locks one row of table by id; false when there is none. On SQLite
// it only reads: the transaction holds the write lock already.
func (t *bankingTx) lockRow(ctx context.Context, table string, id int64) (bool, error) {
	var got int64
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE id = $1`+t.d.forUpdate(), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// LockOrganization locks an organization's row. Unlike lockOrganization it
// lets others insert rows that name the organization meanwhile.
func (t *bankingTx) LockOrganization(ctx context.Context, organizationID int64) error {
	if t.d.dialect != Postgres {
		return nil
	}
	if _, err := t.lockRow(ctx, "organizations", organizationID); err != nil {
		return fmt.Errorf("store: lock organization: %w", err)
	}
	return nil
}

// LockUser locks a user's row.
func (t *bankingTx) LockUser(ctx context.Context, userID int64) error {
	if t.d.dialect != Postgres {
		return nil
	}
	if _, err := t.lockRow(ctx, "users", userID); err != nil {
		return fmt.Errorf("store: lock user: %w", err)
	}
	return nil
}

// LockTransfer reads and locks a transfer.
func (t *bankingTx) LockTransfer(ctx context.Context, id int64) (banking.Transfer, error) {
	tr, err := scanTransfer(t.tx.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers t WHERE t.id = $1`+t.d.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Transfer{}, banking.ErrNotFound
	}
	return tr, wrapErr(err, "lock transfer")
}

// LockBatch reads and locks a batch, and reads its items.
func (t *bankingTx) LockBatch(ctx context.Context, id int64) (banking.Batch, []banking.Transfer, error) {
	b, err := scanBatch(t.tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM transfer_batches b WHERE b.id = $1`+t.d.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Batch{}, nil, banking.ErrNotFound
	}
	if err != nil {
		return banking.Batch{}, nil, fmt.Errorf("store: lock batch: %w", err)
	}
	items, err := queryTransfers(ctx, t.tx, `SELECT `+transferColumns+` FROM transfers t WHERE t.batch_id = $1 ORDER BY t.id`, id)
	if err != nil {
		return banking.Batch{}, nil, fmt.Errorf("store: lock batch: %w", err)
	}
	return b, items, nil
}

// LockAccounts reads and locks accounts in ascending id.
func (t *bankingTx) LockAccounts(ctx context.Context, ids []int64) ([]banking.Account, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id IN (`+placeholders(1, len(ids))+`) ORDER BY a.id`+t.d.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: lock accounts: %w", err)
	}
	defer rows.Close()
	var out []banking.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: lock accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, wrapErr(rows.Err(), "lock accounts")
}

// IdempotencyKey returns what a user's idempotency key recorded.
func (t *bankingTx) IdempotencyKey(ctx context.Context, userID int64, key string) (string, banking.Unit, bool, error) {
	return idempotent(ctx, t.tx, userID, key)
}

// idempotent reads an idempotency key.
func idempotent(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, userID int64, key string) (string, banking.Unit, bool, error) {
	var hash string
	var transfer, batch sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT request_hash, transfer_id, batch_id FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2`,
		userID, key).Scan(&hash, &transfer, &batch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", banking.Unit{}, false, nil
	}
	if err != nil {
		return "", banking.Unit{}, false, fmt.Errorf("store: idempotency key: %w", err)
	}
	return hash, banking.Unit{TransferID: transfer.Int64, BatchID: batch.Int64}, true, nil
}

// InsertIdempotencyKey records an idempotency key.
func (t *bankingTx) InsertIdempotencyKey(ctx context.Context, userID int64, key, requestHash string, u banking.Unit, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, transfer_id, batch_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, userID, key, requestHash, nullInt(u.TransferID), nullInt(u.BatchID), micros(at))
	return wrapErr(err, "insert idempotency key")
}

// statusArgs returns the placeholders from $from for statuses, and their
// values.
func statusArgs(from int, statuses []banking.Status) (string, []any) {
	args := make([]any, len(statuses))
	for i, s := range statuses {
		args[i] = string(s)
	}
	return placeholders(from, len(statuses)), args
}

// RequestedSum sums a user's transfers of a date in some statuses.
func (t *bankingTx) RequestedSum(ctx context.Context, userID int64, date calendar.Date, statuses []banking.Status, except int64) (int64, error) {
	if len(statuses) == 0 {
		return 0, nil
	}
	in, args := statusArgs(4, statuses)
	var sum int64
	err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM transfers
		WHERE requested_by = $1 AND execution_date = $2 AND id <> $3 AND status IN (`+in+`)`,
		append([]any{userID, dateText(date), except}, args...)...).Scan(&sum)
	return sum, wrapErr(err, "requested sum")
}

// OrganizationSum sums an organization's transfers of a date in some
// statuses.
func (t *bankingTx) OrganizationSum(ctx context.Context, organizationID int64, date calendar.Date, statuses []banking.Status) (int64, error) {
	if len(statuses) == 0 {
		return 0, nil
	}
	in, args := statusArgs(3, statuses)
	var sum int64
	err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM transfers
		WHERE organization_id = $1 AND execution_date = $2 AND status IN (`+in+`)`,
		append([]any{organizationID, dateText(date)}, args...)...).Scan(&sum)
	return sum, wrapErr(err, "organization sum")
}

// InsertAccount inserts an account with a balance of 0.
func (t *bankingTx) InsertAccount(ctx context.Context, a *banking.Account, requestRef string) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO accounts (organization_id, account_type, branch_code, number, holder_name, balance, opened_at, request_ref)
		VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id`,
		a.OrganizationID, string(a.Type), a.BranchCode, a.Number, a.HolderName, micros(a.OpenedAt), requestRef).Scan(&a.ID)
	if _, ok := uniqueViolation(err); ok {
		return banking.ErrAccountExists
	}
	if err != nil {
		return fmt.Errorf("store: insert account: %w", err)
	}
	a.Balance = 0
	return nil
}

// InsertPosting inserts a posting.
func (t *bankingTx) InsertPosting(ctx context.Context, p *banking.Posting) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO postings (account_id, transfer_id, kind, amount, balance_after, value_date, description, request_ref, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		p.AccountID, nullInt(p.TransferID), string(p.Kind), p.Amount, p.BalanceAfter, dateText(p.Date), p.Description,
		nullString(p.RequestRef), micros(p.CreatedAt)).Scan(&p.ID)
	if name, ok := uniqueViolation(err); ok && (strings.Contains(name, "request_ref") || name == "postings_deposit_ref") {
		return banking.ErrDepositRefUsed
	}
	return wrapErr(err, "insert posting")
}

// SetBalance sets an account's balance.
func (t *bankingTx) SetBalance(ctx context.Context, accountID, balance int64) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE accounts SET balance = $1 WHERE id = $2`, balance, accountID)
	return wrapErr(err, "set balance")
}

// SetOrganizationDailyLimit sets an organization's daily limit.
func (t *bankingTx) SetOrganizationDailyLimit(ctx context.Context, organizationID, limit int64, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO organization_limits (organization_id, daily_limit, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (organization_id) DO UPDATE SET daily_limit = excluded.daily_limit, updated_at = excluded.updated_at`,
		organizationID, limit, micros(at))
	return wrapErr(err, "set organization limit")
}

// SetPrivileges sets a user's privileges.
func (t *bankingTx) SetPrivileges(ctx context.Context, userID, organizationID int64, p banking.Privileges, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO privileges (user_id, organization_id, inquiry, transfer_request, approval,
			transaction_limit, daily_limit, updated_at, payroll_inquiry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (user_id) DO UPDATE SET inquiry = excluded.inquiry, transfer_request = excluded.transfer_request,
			approval = excluded.approval, transaction_limit = excluded.transaction_limit, daily_limit = excluded.daily_limit,
			updated_at = excluded.updated_at, payroll_inquiry = excluded.payroll_inquiry`,
		userID, organizationID, p.Inquiry, p.TransferRequest, p.Approval, p.TransactionLimit, p.DailyLimit, micros(at), p.PayrollInquiry)
	return wrapErr(err, "set privileges")
}

// InsertPayee inserts a payee.
func (t *bankingTx) InsertPayee(ctx context.Context, p *banking.Payee) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO payees (organization_id, bank_code, branch_code, account_type, account_number, name,
			nickname, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		p.OrganizationID, p.BankCode, p.BranchCode, string(p.AccountType), p.AccountNumber, p.Name, p.Nickname, p.CreatedBy,
		micros(p.CreatedAt)).Scan(&p.ID)
	if _, ok := uniqueViolation(err); ok {
		return banking.ErrPayeeExists
	}
	return wrapErr(err, "insert payee")
}

// DeletePayee deletes a payee.
func (t *bankingTx) DeletePayee(ctx context.Context, id int64) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM payees WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete payee: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return banking.ErrNotFound
	}
	return nil
}

// InsertBatch inserts a batch.
func (t *bankingTx) InsertBatch(ctx context.Context, b *banking.Batch) error {
	kind := b.Kind
	if kind == "" {
		kind = banking.BatchGeneral
	}
	err := t.tx.QueryRowContext(ctx, `INSERT INTO transfer_batches (organization_id, from_account_id, execution_date, source_file,
			status, item_count, total, interbank, requested_by, created_at, updated_at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id, version`,
		b.OrganizationID, b.FromAccountID, dateText(b.ExecutionDate), b.SourceFile, string(b.Status), b.Count, b.Total,
		b.Interbank, b.RequestedBy, micros(b.RequestedAt), micros(b.UpdatedAt), string(kind)).Scan(&b.ID, &b.Version)
	return wrapErr(err, "insert batch")
}

// InsertTransfer inserts a transfer.
func (t *bankingTx) InsertTransfer(ctx context.Context, tr *banking.Transfer) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO transfers (organization_id, batch_id, from_account_id, payee_bank_code, payee_branch_code,
			payee_account_type, payee_account_number, payee_name, to_account_id, interbank, amount, execution_date, memo,
			customer_code1, customer_code2, status, requested_by, created_at, updated_at, fee, fee_payer)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id, version`,
		tr.OrganizationID, nullInt(tr.BatchID), tr.FromAccountID, tr.Payee.BankCode, tr.Payee.BranchCode,
		string(tr.Payee.AccountType), tr.Payee.AccountNumber, tr.Payee.Name, nullInt(tr.ToAccountID), tr.Interbank, tr.Amount,
		dateText(tr.ExecutionDate), tr.Memo, tr.CustomerCode1, tr.CustomerCode2, string(tr.Status), tr.RequestedBy,
		micros(tr.RequestedAt), micros(tr.UpdatedAt), tr.Fee, feePayerText(tr.FeePayer)).Scan(&tr.ID, &tr.Version)
	return wrapErr(err, "insert transfer")
}

// UpdateTransferRequest replaces what a transfer asks for. Every update of
// a transfer or batch makes its version one higher.
func (t *bankingTx) UpdateTransferRequest(ctx context.Context, tr banking.Transfer) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE transfers SET from_account_id = $1, payee_bank_code = $2, payee_branch_code = $3,
			payee_account_type = $4, payee_account_number = $5, payee_name = $6, to_account_id = $7, interbank = $8, amount = $9,
			execution_date = $10, memo = $11, status = $12, updated_at = $13, fee = $14, fee_payer = $15, version = version + 1 WHERE id = $16`,
		tr.FromAccountID, tr.Payee.BankCode, tr.Payee.BranchCode, string(tr.Payee.AccountType), tr.Payee.AccountNumber, tr.Payee.Name,
		nullInt(tr.ToAccountID), tr.Interbank, tr.Amount, dateText(tr.ExecutionDate), tr.Memo, string(tr.Status), micros(tr.UpdatedAt),
		tr.Fee, feePayerText(tr.FeePayer), tr.ID)
	return wrapErr(err, "update transfer")
}

// SetStatus sets the status of a transfer, or of a batch and its items.
func (t *bankingTx) SetStatus(ctx context.Context, u banking.Unit, c banking.StatusChange) error {
	set := `SET status = $1, updated_at = $2, executed_at = $3, failure_reason = $4,
		approved_by = COALESCE($5, approved_by), approved_at = COALESCE($6, approved_at), version = version + 1`
	args := []any{string(c.Status), micros(c.At), nullMicros(c.ExecutedAt), nullString(c.FailureReason), nullInt(c.ApprovedBy), nullMicros(c.ApprovedAt)}
	if u.BatchID != 0 {
		if _, err := t.tx.ExecContext(ctx, `UPDATE transfer_batches `+set+` WHERE id = $7`, append(args, u.BatchID)...); err != nil {
			return fmt.Errorf("store: set status of %s: %w", u, err)
		}
		_, err := t.tx.ExecContext(ctx, `UPDATE transfers `+set+` WHERE batch_id = $7`, append(args, u.BatchID)...)
		return wrapErr(err, "set status of "+u.String())
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE transfers `+set+` WHERE id = $7`, append(args, u.TransferID)...)
	return wrapErr(err, "set status of "+u.String())
}

// SetInterbankSent records the interbank file of a transfer.
func (t *bankingTx) SetInterbankSent(ctx context.Context, transferID int64, fileName string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE transfers SET interbank_file = $1, interbank_sent_at = $2, version = version + 1 WHERE id = $3`,
		fileName, micros(at), transferID)
	return wrapErr(err, "set interbank sent")
}

// AppendHistory appends a step of a transfer or batch.
func (t *bankingTx) AppendHistory(ctx context.Context, h banking.HistoryEntry) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO transfer_events (transfer_id, batch_id, at, actor, user_id, action, comment)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		nullInt(h.TransferID), nullInt(h.BatchID), micros(h.At), h.Actor, nullInt(h.UserID), h.Action, h.Comment)
	return wrapErr(err, "append history")
}

// AppendAudit appends an audit event with its mails.
func (t *bankingTx) AppendAudit(ctx context.Context, ev audit.Event) error {
	return t.d.insertAudit(ctx, t.tx, ev)
}

// AddPayeeChecks counts a user's checks of accounts at this bank in the
// user's window, in one statement.
func (t *bankingTx) AddPayeeChecks(ctx context.Context, userID int64, n int, now, windowEnd time.Time) (int, time.Time, error) {
	var checks int
	var end int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO payee_checks (user_id, window_end, checks) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET
			checks = CASE WHEN payee_checks.window_end <= $4 THEN excluded.checks ELSE payee_checks.checks + excluded.checks END,
			window_end = CASE WHEN payee_checks.window_end <= $5 THEN excluded.window_end ELSE payee_checks.window_end END
		RETURNING checks, window_end`,
		userID, micros(windowEnd), n, micros(now), micros(now)).Scan(&checks, &end)
	if err != nil {
		return 0, time.Time{}, wrapErr(err, "add payee checks")
	}
	return checks, fromMicros(end), nil
}

// feePayerText is a transfer's fee payer in its column: "payer" unless the
// payee bears the fee.
func feePayerText(p banking.FeePayer) string {
	if p == banking.FeePayerPayee {
		return string(p)
	}
	return string(banking.FeePayerPayer)
}

// InsertBatchDraft keeps an upload for its confirmation.
func (t *bankingTx) InsertBatchDraft(ctx context.Context, r *banking.DraftRow) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO batch_drafts (organization_id, user_id, request, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		r.OrganizationID, r.UserID, r.Request, micros(r.CreatedAt), micros(r.ExpiresAt)).Scan(&r.ID)
	return wrapErr(err, "insert batch draft")
}

// DeleteBatchDraft deletes an upload kept for its confirmation, and reports
// whether there was one.
func (t *bankingTx) DeleteBatchDraft(ctx context.Context, id int64) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM batch_drafts WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("store: delete batch draft: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, "delete batch draft")
}

// DeleteBatchDrafts deletes the uploads that expired at or before now, and
// a user's oldest beyond keep (the newest keep-1 stay, leaving room for one
// more).
func (t *bankingTx) DeleteBatchDrafts(ctx context.Context, now time.Time, userID int64, keep int) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM batch_drafts WHERE expires_at <= $1`, micros(now)); err != nil {
		return fmt.Errorf("store: delete expired batch drafts: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM batch_drafts WHERE user_id = $1 AND id NOT IN
		(SELECT id FROM batch_drafts WHERE user_id = $2 ORDER BY id DESC LIMIT $3)`, userID, userID, keep-1)
	return wrapErr(err, "delete batch drafts")
}
