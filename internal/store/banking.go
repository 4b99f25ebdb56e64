package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kinko/internal/banking"
	"kinko/internal/calendar"
)

var _ banking.Store = (*DB)(nil)

// forUpdate is the row-locking suffix of a SELECT on PostgreSQL. It is FOR
// NO KEY UPDATE, not FOR UPDATE: the rows locked are referenced by the rows
// that other transactions insert (a transfer names its accounts, a posting
// its transfer), and PostgreSQL checks each such reference with a FOR KEY
// SHARE lock, which FOR UPDATE would block, and two such waits in opposite
// directions are a deadlock. FOR NO KEY UPDATE still excludes every other
// lock taken here, and no key is ever changed.
func (d *DB) forUpdate() string {
	if d.dialect == Postgres {
		return ` FOR NO KEY UPDATE`
	}
	return ``
}

// wrapErr wraps err with the store's prefix and what was done; nil stays
// nil.
func wrapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// dateText is a Date as stored, "2006-01-02"; the zero Date is stored as "".
func dateText(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// parseDate reads a stored Date; "" is the zero Date.
func parseDate(s string) (calendar.Date, error) {
	if s == "" {
		return calendar.Date{}, nil
	}
	return calendar.ParseDate(s)
}

// placeholders returns "$from, $from+1, ..." n times.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// ---- accounts and postings ----

const accountColumns = `a.id, a.organization_id, a.account_type, a.branch_code, a.number, a.holder_name, a.balance, a.opened_at`

func scanAccount(s scanner) (banking.Account, error) {
	var a banking.Account
	var typ string
	var opened int64
	if err := s.Scan(&a.ID, &a.OrganizationID, &typ, &a.BranchCode, &a.Number, &a.HolderName, &a.Balance, &opened); err != nil {
		return banking.Account{}, err
	}
	a.Type, a.OpenedAt = banking.AccountType(typ), fromMicros(opened)
	return a, nil
}

// AccountByID returns an account.
func (d *DB) AccountByID(ctx context.Context, id int64) (banking.Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Account{}, banking.ErrNotFound
	}
	return a, wrapErr(err, "account")
}

// AccountByNumber returns the account with a branch code, type and number.
func (d *DB) AccountByNumber(ctx context.Context, branchCode string, typ banking.AccountType, number string) (banking.Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		WHERE a.branch_code = $1 AND a.account_type = $2 AND a.number = $3`, branchCode, string(typ), number))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Account{}, banking.ErrNotFound
	}
	return a, wrapErr(err, "account")
}

// Accounts returns an organization's accounts in the order they were opened.
func (d *DB) Accounts(ctx context.Context, organizationID int64) ([]banking.Account, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.organization_id = $1 ORDER BY a.id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	defer rows.Close()
	var out []banking.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const postingColumns = `p.id, p.account_id, p.transfer_id, p.kind, p.amount, p.balance_after, p.value_date, p.description, p.created_at`

func scanPosting(s scanner) (banking.Posting, error) {
	var p banking.Posting
	var transfer sql.NullInt64
	var kind, date string
	var created int64
	if err := s.Scan(&p.ID, &p.AccountID, &transfer, &kind, &p.Amount, &p.BalanceAfter, &date, &p.Description, &created); err != nil {
		return banking.Posting{}, err
	}
	var err error
	if p.Date, err = parseDate(date); err != nil {
		return banking.Posting{}, err
	}
	p.TransferID, p.Kind, p.CreatedAt = transfer.Int64, banking.PostingKind(kind), fromMicros(created)
	return p, nil
}

// dateBounds returns the stored forms of from and to, with no bound for the
// zero Date.
func dateBounds(from, to calendar.Date) (string, string) {
	lo, hi := "0000-00-00", "9999-99-99"
	if !from.IsZero() {
		lo = dateText(from)
	}
	if !to.IsZero() {
		hi = dateText(to)
	}
	return lo, hi
}

// Postings returns an account's postings booked from..to, oldest first.
func (d *DB) Postings(ctx context.Context, accountID int64, from, to calendar.Date, offset, limit int) ([]banking.Posting, int, error) {
	lo, hi := dateBounds(from, to)
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM postings p WHERE p.account_id = $1 AND p.value_date >= $2 AND p.value_date <= $3`,
		accountID, lo, hi).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: postings: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+postingColumns+` FROM postings p
		WHERE p.account_id = $1 AND p.value_date >= $2 AND p.value_date <= $3 ORDER BY p.id LIMIT $4 OFFSET $5`,
		accountID, lo, hi, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("store: postings: %w", err)
	}
	defer rows.Close()
	var out []banking.Posting
	for rows.Next() {
		p, err := scanPosting(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: postings: %w", err)
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// ---- limits and privileges ----

// OrganizationDailyLimit returns the limit the bank set, and false for none.
func (d *DB) OrganizationDailyLimit(ctx context.Context, organizationID int64) (int64, bool, error) {
	var v int64
	err := d.db.QueryRowContext(ctx, `SELECT daily_limit FROM organization_limits WHERE organization_id = $1`, organizationID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: organization limit: %w", err)
	}
	return v, true, nil
}

// Privileges returns a user's privileges, and false when none were set.
func (d *DB) Privileges(ctx context.Context, userID int64) (banking.Privileges, bool, error) {
	var p banking.Privileges
	err := d.db.QueryRowContext(ctx, `SELECT inquiry, transfer_request, approval, transaction_limit, daily_limit, payroll_inquiry
		FROM privileges WHERE user_id = $1`, userID).Scan(&p.Inquiry, &p.TransferRequest, &p.Approval, &p.TransactionLimit, &p.DailyLimit,
		&p.PayrollInquiry)
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Privileges{}, false, nil
	}
	if err != nil {
		return banking.Privileges{}, false, fmt.Errorf("store: privileges: %w", err)
	}
	return p, true, nil
}

// ---- payees ----

const payeeColumns = `y.id, y.organization_id, y.bank_code, y.branch_code, y.account_type, y.account_number, y.name, y.nickname, y.created_by, y.created_at`

func scanPayee(s scanner) (banking.Payee, error) {
	var p banking.Payee
	var typ string
	var created int64
	if err := s.Scan(&p.ID, &p.OrganizationID, &p.BankCode, &p.BranchCode, &typ, &p.AccountNumber, &p.Name, &p.Nickname,
		&p.CreatedBy, &created); err != nil {
		return banking.Payee{}, err
	}
	p.AccountType, p.CreatedAt = banking.AccountType(typ), fromMicros(created)
	return p, nil
}

// Payees returns an organization's payees in the order registered.
func (d *DB) Payees(ctx context.Context, organizationID int64) ([]banking.Payee, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+payeeColumns+` FROM payees y WHERE y.organization_id = $1 ORDER BY y.id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("store: payees: %w", err)
	}
	defer rows.Close()
	var out []banking.Payee
	for rows.Next() {
		p, err := scanPayee(rows)
		if err != nil {
			return nil, fmt.Errorf("store: payees: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PayeeByID returns a payee.
func (d *DB) PayeeByID(ctx context.Context, id int64) (banking.Payee, error) {
	p, err := scanPayee(d.db.QueryRowContext(ctx, `SELECT `+payeeColumns+` FROM payees y WHERE y.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Payee{}, banking.ErrNotFound
	}
	return p, wrapErr(err, "payee")
}

// ---- transfers: reading ----

const transferColumns = `t.id, t.organization_id, t.batch_id, t.from_account_id, t.payee_bank_code, t.payee_branch_code,
	t.payee_account_type, t.payee_account_number, t.payee_name, t.to_account_id, t.interbank, t.amount, t.execution_date, t.memo,
	t.customer_code1, t.customer_code2, t.status, t.requested_by, t.created_at, t.updated_at, t.approved_by, t.approved_at,
	t.executed_at, t.failure_reason, t.interbank_file, t.interbank_sent_at, t.version, t.fee, t.fee_payer`

// scanTransfer scans the transferColumns, then any more columns into more.
func scanTransfer(s scanner, more ...any) (banking.Transfer, error) {
	var t banking.Transfer
	var batch, to, approvedBy, approvedAt, executedAt, sentAt sql.NullInt64
	var typ, date, status, feePayer string
	var created, updated int64
	var reason, file sql.NullString
	dest := []any{&t.ID, &t.OrganizationID, &batch, &t.FromAccountID, &t.Payee.BankCode, &t.Payee.BranchCode,
		&typ, &t.Payee.AccountNumber, &t.Payee.Name, &to, &t.Interbank, &t.Amount, &date, &t.Memo,
		&t.CustomerCode1, &t.CustomerCode2, &status, &t.RequestedBy, &created, &updated, &approvedBy, &approvedAt,
		&executedAt, &reason, &file, &sentAt, &t.Version, &t.Fee, &feePayer}
	err := s.Scan(append(dest, more...)...)
	if err != nil {
		return banking.Transfer{}, err
	}
	if t.ExecutionDate, err = parseDate(date); err != nil {
		return banking.Transfer{}, err
	}
	t.BatchID, t.ToAccountID, t.ApprovedBy = batch.Int64, to.Int64, approvedBy.Int64
	t.Payee.AccountType, t.Status, t.FeePayer = banking.AccountType(typ), banking.Status(status), banking.FeePayer(feePayer)
	t.RequestedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	t.ApprovedAt, t.ExecutedAt, t.InterbankSentAt = fromNullMicros(approvedAt), fromNullMicros(executedAt), fromNullMicros(sentAt)
	t.FailureReason, t.InterbankFile = reason.String, file.String
	return t, nil
}

// queryTransfers runs a query of transferColumns.
func queryTransfers(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, args ...any) ([]banking.Transfer, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []banking.Transfer
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TransferByID returns a transfer.
func (d *DB) TransferByID(ctx context.Context, id int64) (banking.Transfer, error) {
	t, err := scanTransfer(d.db.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers t WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Transfer{}, banking.ErrNotFound
	}
	return t, wrapErr(err, "transfer")
}

// Transfers returns an organization's transfers, newest first, and their
// number.
func (d *DB) Transfers(ctx context.Context, f banking.TransferFilter) ([]banking.Transfer, int, error) {
	lo, hi := dateBounds(f.From, f.To)
	where := `t.organization_id = $1 AND t.execution_date >= $2 AND t.execution_date <= $3`
	args := []any{f.OrganizationID, lo, hi}
	if f.RequestedBy != 0 {
		args = append(args, f.RequestedBy)
		where += fmt.Sprintf(` AND t.requested_by = $%d`, len(args))
	}
	if len(f.Statuses) > 0 {
		where += ` AND t.status IN (` + placeholders(len(args)+1, len(f.Statuses)) + `)`
		for _, s := range f.Statuses {
			args = append(args, string(s))
		}
	}
	if f.SingleOnly {
		where += ` AND t.batch_id IS NULL`
	}
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM transfers t WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: transfers: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = banking.MaxPerPage
	}
	args = append(args, limit, f.Offset)
	out, err := queryTransfers(ctx, d.db, `SELECT `+transferColumns+` FROM transfers t WHERE `+where+
		fmt.Sprintf(` ORDER BY t.id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: transfers: %w", err)
	}
	return out, total, nil
}

const historyColumns = `e.id, e.transfer_id, e.batch_id, e.at, e.actor, e.user_id, e.action, e.comment`

// History returns the steps of a transfer (with those of its batch) or of a
// batch (with those of its items), oldest first.
func (d *DB) History(ctx context.Context, u banking.Unit) ([]banking.HistoryEntry, error) {
	var rows *sql.Rows
	var err error
	if u.BatchID != 0 {
		rows, err = d.db.QueryContext(ctx, `SELECT `+historyColumns+` FROM transfer_events e WHERE e.batch_id = $1 ORDER BY e.id`, u.BatchID)
	} else {
		rows, err = d.db.QueryContext(ctx, `SELECT `+historyColumns+` FROM transfer_events e
			WHERE e.transfer_id = $1 OR (e.transfer_id IS NULL AND e.batch_id = (SELECT t.batch_id FROM transfers t WHERE t.id = $2))
			ORDER BY e.id`, u.TransferID, u.TransferID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	defer rows.Close()
	var out []banking.HistoryEntry
	for rows.Next() {
		var h banking.HistoryEntry
		var transfer, batch, user sql.NullInt64
		var at int64
		if err := rows.Scan(&h.ID, &transfer, &batch, &at, &h.Actor, &user, &h.Action, &h.Comment); err != nil {
			return nil, fmt.Errorf("store: history: %w", err)
		}
		h.TransferID, h.BatchID, h.UserID, h.At = transfer.Int64, batch.Int64, user.Int64, fromMicros(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

const batchColumns = `b.id, b.organization_id, b.from_account_id, b.execution_date, b.source_file, b.status, b.item_count, b.total,
	b.interbank, b.requested_by, b.created_at, b.updated_at, b.approved_by, b.approved_at, b.executed_at, b.failure_reason,
	b.version, (SELECT COALESCE(SUM(f.fee), 0) FROM transfers f WHERE f.batch_id = b.id), b.kind`

func scanBatch(s scanner) (banking.Batch, error) {
	var b banking.Batch
	var date, status string
	var created, updated int64
	var approvedBy, approvedAt, executedAt sql.NullInt64
	var reason sql.NullString
	var kind string
	err := s.Scan(&b.ID, &b.OrganizationID, &b.FromAccountID, &date, &b.SourceFile, &status, &b.Count, &b.Total,
		&b.Interbank, &b.RequestedBy, &created, &updated, &approvedBy, &approvedAt, &executedAt, &reason, &b.Version, &b.Fees, &kind)
	if err != nil {
		return banking.Batch{}, err
	}
	if b.ExecutionDate, err = parseDate(date); err != nil {
		return banking.Batch{}, err
	}
	b.Status, b.ApprovedBy, b.FailureReason, b.Kind = banking.Status(status), approvedBy.Int64, reason.String, banking.BatchKind(kind)
	b.RequestedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
	b.ApprovedAt, b.ExecutedAt = fromNullMicros(approvedAt), fromNullMicros(executedAt)
	return b, nil
}

// BatchByID returns a batch.
func (d *DB) BatchByID(ctx context.Context, id int64) (banking.Batch, error) {
	b, err := scanBatch(d.db.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM transfer_batches b WHERE b.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Batch{}, banking.ErrNotFound
	}
	return b, wrapErr(err, "batch")
}

// Batches returns an organization's batches, newest first, and their number.
func (d *DB) Batches(ctx context.Context, organizationID int64, offset, limit int) ([]banking.Batch, int, error) {
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM transfer_batches b WHERE b.organization_id = $1`, organizationID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: batches: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+batchColumns+` FROM transfer_batches b WHERE b.organization_id = $1
		ORDER BY b.id DESC LIMIT $2 OFFSET $3`, organizationID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("store: batches: %w", err)
	}
	defer rows.Close()
	var out []banking.Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: batches: %w", err)
		}
		out = append(out, b)
	}
	return out, total, rows.Err()
}

// BatchTransfers returns the items of a batch in order.
func (d *DB) BatchTransfers(ctx context.Context, batchID int64) ([]banking.Transfer, error) {
	out, err := queryTransfers(ctx, d.db, `SELECT `+transferColumns+` FROM transfers t WHERE t.batch_id = $1 ORDER BY t.id`, batchID)
	if err != nil {
		return nil, fmt.Errorf("store: batch transfers: %w", err)
	}
	return out, nil
}

// ---- transfers: idempotency and execution ----

// Idempotent returns what a user's request with an idempotency key
// recorded.
func (d *DB) Idempotent(ctx context.Context, userID int64, key string) (string, banking.Unit, bool, error) {
	return idempotent(ctx, d.db, userID, key)
}

// DueUnits returns the scheduled units dated on or before today.
func (d *DB) DueUnits(ctx context.Context, today calendar.Date) ([]banking.Unit, error) {
	var out []banking.Unit
	for _, q := range []struct {
		query string
		batch bool
	}{
		{`SELECT id FROM transfers WHERE status = 'scheduled' AND execution_date <= $1 AND batch_id IS NULL ORDER BY id`, false},
		{`SELECT id FROM transfer_batches WHERE status = 'scheduled' AND execution_date <= $1 ORDER BY id`, true},
	} {
		rows, err := d.db.QueryContext(ctx, q.query, dateText(today))
		if err != nil {
			return nil, fmt.Errorf("store: due transfers: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: due transfers: %w", err)
			}
			if q.batch {
				out = append(out, banking.Unit{BatchID: id})
			} else {
				out = append(out, banking.Unit{TransferID: id})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: due transfers: %w", err)
		}
	}
	return out, nil
}

// ---- interbank ----

// InterbankPending returns executed interbank transfers dated on or before
// through and not yet written to a file, in order of id.
func (d *DB) InterbankPending(ctx context.Context, through calendar.Date) ([]banking.Transfer, error) {
	out, err := queryTransfers(ctx, d.db, `SELECT `+transferColumns+` FROM transfers t
		WHERE t.interbank = TRUE AND t.status = 'executed' AND t.interbank_sent_at IS NULL AND t.execution_date <= $1 ORDER BY t.id`,
		dateText(through))
	if err != nil {
		return nil, fmt.Errorf("store: interbank pending: %w", err)
	}
	return out, nil
}

// ---- verification ----

// ReadLedger reads every account, posting and transfer in one snapshot of
// the database (a read-only transaction, REPEATABLE READ on PostgreSQL), in
// the order banking.LedgerRows documents.
func (d *DB) ReadLedger(ctx context.Context, r banking.LedgerRows) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: read ledger: %w", err)
	}
	defer tx.Rollback()
	if err := readLedger(ctx, tx, r); err != nil {
		return fmt.Errorf("store: read ledger: %w", err)
	}
	return nil
}

func readLedger(ctx context.Context, tx *sql.Tx, r banking.LedgerRows) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a ORDER BY a.id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err == nil {
			err = r.Account(a)
		}
		if err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT `+postingColumns+` FROM postings p ORDER BY p.account_id, p.id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		p, err := scanPosting(rows)
		if err == nil {
			err = r.Posting(p)
		}
		if err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT `+transferColumns+`, b.status FROM transfers t
		LEFT JOIN transfer_batches b ON b.id = t.batch_id ORDER BY t.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var batchStatus sql.NullString
		t, err := scanTransfer(rows, &batchStatus)
		if err != nil {
			return err
		}
		if err := r.Transfer(t, banking.Status(batchStatus.String)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ---- batch drafts ----

// BatchDraft returns an upload kept for its confirmation.
func (d *DB) BatchDraft(ctx context.Context, id int64) (banking.DraftRow, error) {
	var r banking.DraftRow
	var created, expires int64
	err := d.db.QueryRowContext(ctx, `SELECT id, organization_id, user_id, request, created_at, expires_at FROM batch_drafts WHERE id = $1`,
		id).Scan(&r.ID, &r.OrganizationID, &r.UserID, &r.Request, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return banking.DraftRow{}, banking.ErrNotFound
	}
	if err != nil {
		return banking.DraftRow{}, fmt.Errorf("store: batch draft: %w", err)
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	return r, nil
}
