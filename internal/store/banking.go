package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
)

var _ banking.Store = (*DB)(nil)

// Banking keeps money in integer yen and changes a balance only together
// with the posting that explains it, in one transaction. On PostgreSQL a
// transaction locks what it decides on, always in this order: the
// organization (daily limit of approvals), the requesting user (daily limit
// of requests), the transfer or batch, then the accounts in ascending id;
// its audit events come last, since appending one locks the head of the
// audit chain. SQLite's IMMEDIATE transaction holds the database's write
// lock from the start.

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

// bankingErrors are returned by the banking methods as they are.
var bankingErrors = []error{banking.ErrNotFound, banking.ErrForbidden, banking.ErrInsufficientFunds, banking.ErrLimitExceeded,
	banking.ErrSelfApprovalForbidden, banking.ErrInvalidState, banking.ErrIdempotencyConflict, banking.ErrAccountExists,
	banking.ErrPayeeExists, banking.ErrBatchItem, banking.ErrInterbankAlreadyWritten, banking.ErrInvalidAmount}

// bankingErr returns a domain error as it is and wraps any other.
func bankingErr(err error, what string) error {
	if err == nil {
		return nil
	}
	for _, e := range bankingErrors {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// dateText is a Date as stored; the zero Date is stored as "".
func dateText(d banking.Date) string { return d.String() }

func parseDate(s string) (banking.Date, error) {
	if s == "" {
		return banking.Date{}, nil
	}
	return banking.ParseDate(s)
}

// lockUser takes the row lock that serializes the requests of one user
// (daily limit).
func (d *DB) lockUser(ctx context.Context, tx *sql.Tx, id int64) error {
	if d.dialect != Postgres {
		return nil
	}
	var got int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+d.forUpdate(), id).Scan(&got); err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}

// lockOrganizationApprovals takes the row lock that serializes the
// approvals of one organization (daily limit). Unlike lockOrganization it
// lets others insert rows that name the organization meanwhile.
func (d *DB) lockOrganizationApprovals(ctx context.Context, tx *sql.Tx, id int64) error {
	if d.dialect != Postgres {
		return nil
	}
	var got int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE id = $1`+d.forUpdate(), id).Scan(&got); err != nil {
		return fmt.Errorf("lock organization: %w", err)
	}
	return nil
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

// OpenAccount inserts an account with a balance of 0.
func (d *DB) OpenAccount(ctx context.Context, a *banking.Account, requestRef string, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO accounts (organization_id, account_type, branch_code, number, holder_name, balance, opened_at, request_ref)
			VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id`,
			a.OrganizationID, string(a.Type), a.BranchCode, a.Number, a.HolderName, micros(a.OpenedAt), requestRef).Scan(&a.ID)
		if _, ok := uniqueViolation(err); ok {
			return banking.ErrAccountExists
		}
		if err != nil {
			return err
		}
		a.Balance = 0
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "open account")
}

// Deposit books p (a deposit) on its account: the balance and the posting
// change together. It fills p's ID and BalanceAfter.
func (d *DB) Deposit(ctx context.Context, p *banking.Posting, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var balance int64
		err := tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = $1`+d.forUpdate(), p.AccountID).Scan(&balance)
		if errors.Is(err, sql.ErrNoRows) {
			return banking.ErrNotFound
		}
		if err != nil {
			return err
		}
		if p.Amount <= 0 || balance > math.MaxInt64-p.Amount {
			return banking.ErrInvalidAmount
		}
		p.BalanceAfter = balance + p.Amount
		if err := insertPosting(ctx, tx, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = $1 WHERE id = $2`, p.BalanceAfter, p.AccountID); err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "deposit")
}

func insertPosting(ctx context.Context, tx *sql.Tx, p *banking.Posting) error {
	return tx.QueryRowContext(ctx, `INSERT INTO postings (account_id, transfer_id, kind, amount, balance_after, value_date, description, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		p.AccountID, nullInt(p.TransferID), string(p.Kind), p.Amount, p.BalanceAfter, dateText(p.Date), p.Description, micros(p.CreatedAt)).Scan(&p.ID)
}

// AccountByID returns an account.
func (d *DB) AccountByID(ctx context.Context, id int64) (banking.Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Account{}, banking.ErrNotFound
	}
	return a, bankingErr(err, "account")
}

// AccountByNumber returns the account with a branch code, type and number.
func (d *DB) AccountByNumber(ctx context.Context, branchCode string, typ banking.AccountType, number string) (banking.Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		WHERE a.branch_code = $1 AND a.account_type = $2 AND a.number = $3`, branchCode, string(typ), number))
	if errors.Is(err, sql.ErrNoRows) {
		return banking.Account{}, banking.ErrNotFound
	}
	return a, bankingErr(err, "account")
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
func dateBounds(from, to banking.Date) (string, string) {
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
func (d *DB) Postings(ctx context.Context, accountID int64, from, to banking.Date, offset, limit int) ([]banking.Posting, int, error) {
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

// SetOrganizationDailyLimit sets the daily limit the bank gives an
// organization.
func (d *DB) SetOrganizationDailyLimit(ctx context.Context, organizationID, limit int64, at time.Time, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organization_limits (organization_id, daily_limit, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (organization_id) DO UPDATE SET daily_limit = excluded.daily_limit, updated_at = excluded.updated_at`,
			organizationID, limit, micros(at)); err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "set organization limit")
}

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

// SetPrivileges sets a general user's privileges.
func (d *DB) SetPrivileges(ctx context.Context, userID, organizationID int64, p banking.Privileges, at time.Time, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO privileges (user_id, organization_id, inquiry, transfer_request, approval,
				transaction_limit, daily_limit, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id) DO UPDATE SET inquiry = excluded.inquiry, transfer_request = excluded.transfer_request,
				approval = excluded.approval, transaction_limit = excluded.transaction_limit, daily_limit = excluded.daily_limit,
				updated_at = excluded.updated_at`,
			userID, organizationID, p.Inquiry, p.TransferRequest, p.Approval, p.TransactionLimit, p.DailyLimit, micros(at)); err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "set privileges")
}

// Privileges returns a user's privileges, and false when none were set.
func (d *DB) Privileges(ctx context.Context, userID int64) (banking.Privileges, bool, error) {
	var p banking.Privileges
	err := d.db.QueryRowContext(ctx, `SELECT inquiry, transfer_request, approval, transaction_limit, daily_limit
		FROM privileges WHERE user_id = $1`, userID).Scan(&p.Inquiry, &p.TransferRequest, &p.Approval, &p.TransactionLimit, &p.DailyLimit)
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

// CreatePayee registers a payee.
func (d *DB) CreatePayee(ctx context.Context, p *banking.Payee, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO payees (organization_id, bank_code, branch_code, account_type, account_number, name,
				nickname, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			p.OrganizationID, p.BankCode, p.BranchCode, string(p.AccountType), p.AccountNumber, p.Name, p.Nickname, p.CreatedBy,
			micros(p.CreatedAt)).Scan(&p.ID)
		if _, ok := uniqueViolation(err); ok {
			return banking.ErrPayeeExists
		}
		if err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "create payee")
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
	return p, bankingErr(err, "payee")
}

// DeletePayee removes a payee.
func (d *DB) DeletePayee(ctx context.Context, id int64, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM payees WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return banking.ErrNotFound
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "delete payee")
}

// ---- transfers: reading ----

const transferColumns = `t.id, t.organization_id, t.batch_id, t.from_account_id, t.payee_bank_code, t.payee_branch_code,
	t.payee_account_type, t.payee_account_number, t.payee_name, t.to_account_id, t.interbank, t.amount, t.execution_date, t.memo,
	t.customer_code1, t.customer_code2, t.status, t.requested_by, t.created_at, t.updated_at, t.approved_by, t.approved_at,
	t.executed_at, t.failure_reason, t.interbank_file, t.interbank_sent_at`

func scanTransfer(s scanner) (banking.Transfer, error) {
	var t banking.Transfer
	var batch, to, approvedBy, approvedAt, executedAt, sentAt sql.NullInt64
	var typ, date, status string
	var created, updated int64
	var reason, file sql.NullString
	err := s.Scan(&t.ID, &t.OrganizationID, &batch, &t.FromAccountID, &t.Payee.BankCode, &t.Payee.BranchCode,
		&typ, &t.Payee.AccountNumber, &t.Payee.Name, &to, &t.Interbank, &t.Amount, &date, &t.Memo,
		&t.CustomerCode1, &t.CustomerCode2, &status, &t.RequestedBy, &created, &updated, &approvedBy, &approvedAt,
		&executedAt, &reason, &file, &sentAt)
	if err != nil {
		return banking.Transfer{}, err
	}
	if t.ExecutionDate, err = parseDate(date); err != nil {
		return banking.Transfer{}, err
	}
	t.BatchID, t.ToAccountID, t.ApprovedBy = batch.Int64, to.Int64, approvedBy.Int64
	t.Payee.AccountType, t.Status = banking.AccountType(typ), banking.Status(status)
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
	return t, bankingErr(err, "transfer")
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
	b.interbank, b.requested_by, b.created_at, b.updated_at, b.approved_by, b.approved_at, b.executed_at, b.failure_reason`

func scanBatch(s scanner) (banking.Batch, error) {
	var b banking.Batch
	var date, status string
	var created, updated int64
	var approvedBy, approvedAt, executedAt sql.NullInt64
	var reason sql.NullString
	err := s.Scan(&b.ID, &b.OrganizationID, &b.FromAccountID, &date, &b.SourceFile, &status, &b.Count, &b.Total,
		&b.Interbank, &b.RequestedBy, &created, &updated, &approvedBy, &approvedAt, &executedAt, &reason)
	if err != nil {
		return banking.Batch{}, err
	}
	if b.ExecutionDate, err = parseDate(date); err != nil {
		return banking.Batch{}, err
	}
	b.Status, b.ApprovedBy, b.FailureReason = banking.Status(status), approvedBy.Int64, reason.String
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
	return b, bankingErr(err, "batch")
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

// ---- transfers: requests ----

// Idempotent returns what a user's request with an idempotency key
// recorded.
func (d *DB) Idempotent(ctx context.Context, userID int64, key string) (string, banking.Unit, bool, error) {
	var hash string
	var transfer, batch sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT request_hash, transfer_id, batch_id FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2`,
		userID, key).Scan(&hash, &transfer, &batch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", banking.Unit{}, false, nil
	}
	if err != nil {
		return "", banking.Unit{}, false, fmt.Errorf("store: idempotency key: %w", err)
	}
	return hash, banking.Unit{TransferID: transfer.Int64, BatchID: batch.Int64}, true, nil
}

// activeRequestStatuses are the statuses of transfers that count towards a
// requester's daily limit.
const activeRequestStatuses = `('awaiting_approval', 'sent_back', 'scheduled', 'executed')`

// userDailyUsed returns the sum of a user's transfers for a date that count
// towards the daily limit, leaving out transfer except.
func userDailyUsed(ctx context.Context, tx *sql.Tx, userID int64, date banking.Date, except int64) (int64, error) {
	var used int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM transfers
		WHERE requested_by = $1 AND execution_date = $2 AND id <> $3 AND status IN `+activeRequestStatuses,
		userID, dateText(date), except).Scan(&used)
	return used, err
}

func insertHistory(ctx context.Context, tx *sql.Tx, h banking.HistoryEntry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO transfer_events (transfer_id, batch_id, at, actor, user_id, action, comment)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		nullInt(h.TransferID), nullInt(h.BatchID), micros(h.At), h.Actor, nullInt(h.UserID), h.Action, h.Comment)
	return err
}

// withDetail puts what the event is about before the event's own detail.
func withDetail(ev audit.Event, about string) audit.Event {
	if ev.Detail != "" {
		about += ": " + ev.Detail
	}
	ev.Detail = about
	return ev
}

func insertTransfer(ctx context.Context, tx *sql.Tx, t *banking.Transfer) error {
	return tx.QueryRowContext(ctx, `INSERT INTO transfers (organization_id, batch_id, from_account_id, payee_bank_code, payee_branch_code,
			payee_account_type, payee_account_number, payee_name, to_account_id, interbank, amount, execution_date, memo,
			customer_code1, customer_code2, status, requested_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
		t.OrganizationID, nullInt(t.BatchID), t.FromAccountID, t.Payee.BankCode, t.Payee.BranchCode,
		string(t.Payee.AccountType), t.Payee.AccountNumber, t.Payee.Name, nullInt(t.ToAccountID), t.Interbank, t.Amount,
		dateText(t.ExecutionDate), t.Memo, t.CustomerCode1, t.CustomerCode2, string(t.Status), t.RequestedBy,
		micros(t.RequestedAt), micros(t.UpdatedAt)).Scan(&t.ID)
}

// CreateTransfers records a single transfer or a batch, within the
// requester's daily limit, once per idempotency key.
func (d *DB) CreateTransfers(ctx context.Context, n *banking.NewTransfers) (bool, error) {
	if len(n.Transfers) == 0 {
		return false, errors.New("store: create transfers: none")
	}
	var existing *banking.Unit
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := d.lockUser(ctx, tx, n.UserID); err != nil {
			return err
		}
		if n.IdempotencyKey != "" {
			var hash string
			var transfer, batch sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT request_hash, transfer_id, batch_id FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2`,
				n.UserID, n.IdempotencyKey).Scan(&hash, &transfer, &batch)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case hash != n.RequestHash:
				return banking.ErrIdempotencyConflict
			default:
				existing = &banking.Unit{TransferID: transfer.Int64, BatchID: batch.Int64}
				return nil
			}
		}
		date := n.Transfers[0].ExecutionDate
		var total int64
		for _, t := range n.Transfers {
			if t.ExecutionDate != date || t.Amount <= 0 || t.Amount > banking.MaxAmount {
				return fmt.Errorf("create transfers: items differ in date or have a bad amount")
			}
			total += t.Amount
		}
		used, err := userDailyUsed(ctx, tx, n.UserID, date, 0)
		if err != nil {
			return err
		}
		if used+total > n.UserDailyLimit {
			return &banking.LimitError{Kind: banking.LimitUserDaily, Limit: n.UserDailyLimit, Used: used, Amount: total}
		}
		var unit banking.Unit
		var about string
		if b := n.Batch; b != nil {
			err := tx.QueryRowContext(ctx, `INSERT INTO transfer_batches (organization_id, from_account_id, execution_date, source_file,
					status, item_count, total, interbank, requested_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
				b.OrganizationID, b.FromAccountID, dateText(b.ExecutionDate), b.SourceFile, string(b.Status), len(n.Transfers), total,
				b.Interbank, b.RequestedBy, micros(b.RequestedAt), micros(b.UpdatedAt)).Scan(&b.ID)
			if err != nil {
				return err
			}
			b.Count, b.Total = len(n.Transfers), total
			unit = banking.Unit{BatchID: b.ID}
			about = fmt.Sprintf("batch %d count %d total %d", b.ID, b.Count, b.Total)
		}
		for i := range n.Transfers {
			t := &n.Transfers[i]
			if n.Batch != nil {
				t.BatchID = n.Batch.ID
			}
			if err := insertTransfer(ctx, tx, t); err != nil {
				return err
			}
		}
		if n.Batch == nil {
			unit = banking.Unit{TransferID: n.Transfers[0].ID}
			about = fmt.Sprintf("transfer %d amount %d", n.Transfers[0].ID, total)
		}
		if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: unit.TransferID, BatchID: unit.BatchID, At: n.At,
			Actor: n.Actor, UserID: n.UserID, Action: banking.HistoryRequested}); err != nil {
			return err
		}
		if n.IdempotencyKey != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, transfer_id, batch_id, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, n.UserID, n.IdempotencyKey, n.RequestHash, nullInt(unit.TransferID), nullInt(unit.BatchID),
				micros(n.At)); err != nil {
				return err
			}
		}
		return d.insertAudit(ctx, tx, withDetail(n.Audit, about))
	})
	if err != nil {
		return false, bankingErr(err, "create transfers")
	}
	if existing == nil {
		return false, nil
	}
	if existing.BatchID != 0 {
		b, err := d.BatchByID(ctx, existing.BatchID)
		if err != nil {
			return false, err
		}
		ts, err := d.BatchTransfers(ctx, b.ID)
		if err != nil {
			return false, err
		}
		n.Batch, n.Transfers = &b, ts
		return true, nil
	}
	t, err := d.TransferByID(ctx, existing.TransferID)
	if err != nil {
		return false, err
	}
	n.Batch, n.Transfers = nil, []banking.Transfer{t}
	return true, nil
}

// Resubmit replaces a sent-back transfer's request and puts it back to
// awaiting approval.
func (d *DB) Resubmit(ctx context.Context, t banking.Transfer, userDailyLimit int64, actor string, ev audit.Event) (banking.Transfer, error) {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := d.lockUser(ctx, tx, t.RequestedBy); err != nil {
			return err
		}
		var status string
		var requester int64
		var batch sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT status, requested_by, batch_id FROM transfers WHERE id = $1 AND organization_id = $2`+d.forUpdate(),
			t.ID, t.OrganizationID).Scan(&status, &requester, &batch)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return banking.ErrNotFound
		case err != nil:
			return err
		case batch.Valid:
			return banking.ErrBatchItem
		case requester != t.RequestedBy:
			return banking.ErrForbidden
		case banking.Status(status) != banking.StatusSentBack:
			return banking.ErrInvalidState
		}
		used, err := userDailyUsed(ctx, tx, t.RequestedBy, t.ExecutionDate, t.ID)
		if err != nil {
			return err
		}
		if used+t.Amount > userDailyLimit {
			return &banking.LimitError{Kind: banking.LimitUserDaily, Limit: userDailyLimit, Used: used, Amount: t.Amount}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transfers SET from_account_id = $1, payee_bank_code = $2, payee_branch_code = $3,
				payee_account_type = $4, payee_account_number = $5, payee_name = $6, to_account_id = $7, interbank = $8, amount = $9,
				execution_date = $10, memo = $11, status = 'awaiting_approval', updated_at = $12 WHERE id = $13`,
			t.FromAccountID, t.Payee.BankCode, t.Payee.BranchCode, string(t.Payee.AccountType), t.Payee.AccountNumber, t.Payee.Name,
			nullInt(t.ToAccountID), t.Interbank, t.Amount, dateText(t.ExecutionDate), t.Memo, micros(t.UpdatedAt), t.ID); err != nil {
			return err
		}
		if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: t.ID, At: t.UpdatedAt, Actor: actor, UserID: t.RequestedBy,
			Action: banking.HistoryResubmitted}); err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, withDetail(ev, fmt.Sprintf("transfer %d amount %d", t.ID, t.Amount)))
	})
	if err != nil {
		return banking.Transfer{}, bankingErr(err, "resubmit")
	}
	return d.TransferByID(ctx, t.ID)
}

// ---- transfers: decisions and execution ----

// lockedUnit is a unit read, locked, in a transaction.
type lockedUnit struct {
	unit           banking.Unit
	organizationID int64
	status         banking.Status
	requestedBy    int64
	date           banking.Date
	items          []banking.Transfer
	total          int64
}

func (u lockedUnit) about() string {
	if u.unit.BatchID != 0 {
		return fmt.Sprintf("batch %d count %d total %d", u.unit.BatchID, len(u.items), u.total)
	}
	return fmt.Sprintf("transfer %d amount %d", u.unit.TransferID, u.total)
}

// lockUnit reads a unit and its items, locking the transfer or the batch
// row (a batch's items change only with their batch).
func (d *DB) lockUnit(ctx context.Context, tx *sql.Tx, u banking.Unit) (lockedUnit, error) {
	lu := lockedUnit{unit: u}
	if u.BatchID != 0 {
		b, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM transfer_batches b WHERE b.id = $1`+d.forUpdate(), u.BatchID))
		if errors.Is(err, sql.ErrNoRows) {
			return lockedUnit{}, banking.ErrNotFound
		}
		if err != nil {
			return lockedUnit{}, err
		}
		items, err := queryTransfers(ctx, tx, `SELECT `+transferColumns+` FROM transfers t WHERE t.batch_id = $1 ORDER BY t.id`, u.BatchID)
		if err != nil {
			return lockedUnit{}, err
		}
		lu.organizationID, lu.status, lu.requestedBy, lu.date, lu.items = b.OrganizationID, b.Status, b.RequestedBy, b.ExecutionDate, items
	} else {
		t, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers t WHERE t.id = $1`+d.forUpdate(), u.TransferID))
		if errors.Is(err, sql.ErrNoRows) {
			return lockedUnit{}, banking.ErrNotFound
		}
		if err != nil {
			return lockedUnit{}, err
		}
		if t.BatchID != 0 {
			return lockedUnit{}, banking.ErrBatchItem
		}
		lu.organizationID, lu.status, lu.requestedBy, lu.date, lu.items = t.OrganizationID, t.Status, t.RequestedBy, t.ExecutionDate, []banking.Transfer{t}
	}
	for _, t := range lu.items {
		lu.total += t.Amount
	}
	return lu, nil
}

// setUnitStatus moves a unit and its items to status at at; approvedBy,
// when not 0, is recorded as the approver; reason as the failure reason.
func setUnitStatus(ctx context.Context, tx *sql.Tx, u banking.Unit, status banking.Status, at time.Time, approvedBy int64, reason string) error {
	var executed sql.NullInt64
	if status == banking.StatusExecuted {
		executed = nullMicros(at)
	}
	var approvedAt sql.NullInt64
	if approvedBy != 0 {
		approvedAt = nullMicros(at)
	}
	set := `SET status = $1, updated_at = $2, executed_at = $3, failure_reason = $4,
		approved_by = COALESCE($5, approved_by), approved_at = COALESCE($6, approved_at)`
	args := []any{string(status), micros(at), executed, nullString(reason), nullInt(approvedBy), approvedAt}
	if u.BatchID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE transfer_batches `+set+` WHERE id = $7`, append(args, u.BatchID)...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE transfers `+set+` WHERE batch_id = $7`, append(args, u.BatchID)...)
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE transfers `+set+` WHERE id = $7`, append(args, u.TransferID)...)
	return err
}

// executeItems books the items of a unit: for each, a debit of its account
// and, to an account here, a credit of the payee's, with the balances, all
// or none: the money for every item must be there, and nothing is written
// before that is known. It writes each item's "executed" history.
func (d *DB) executeItems(ctx context.Context, tx *sql.Tx, items []banking.Transfer, today banking.Date, at time.Time, actor string) error {
	var ids []int64
	need := map[int64]int64{}
	for _, t := range items {
		ids = append(ids, t.FromAccountID)
		if t.ToAccountID != 0 {
			ids = append(ids, t.ToAccountID)
		}
		need[t.FromAccountID] += t.Amount
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, balance, holder_name FROM accounts WHERE id IN (`+placeholders(1, len(ids))+`) ORDER BY id`+d.forUpdate(), args...)
	if err != nil {
		return err
	}
	balance := map[int64]int64{}
	holder := map[int64]string{}
	for rows.Next() {
		var id, b int64
		var h string
		if err := rows.Scan(&id, &b, &h); err != nil {
			rows.Close()
			return err
		}
		balance[id], holder[id] = b, h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(balance) != len(ids) {
		return fmt.Errorf("execute: an account of the transfer is missing")
	}
	for id, n := range need {
		if balance[id] < n {
			return banking.ErrInsufficientFunds
		}
	}
	for _, t := range items {
		balance[t.FromAccountID] -= t.Amount
		debit := banking.Posting{AccountID: t.FromAccountID, TransferID: t.ID, Kind: banking.PostingDebit, Amount: -t.Amount,
			BalanceAfter: balance[t.FromAccountID], Date: today, Description: description("振込 " + t.Payee.Name), CreatedAt: at}
		if err := insertPosting(ctx, tx, &debit); err != nil {
			return err
		}
		if t.ToAccountID != 0 {
			if balance[t.ToAccountID] > math.MaxInt64-t.Amount {
				return banking.ErrInvalidAmount
			}
			balance[t.ToAccountID] += t.Amount
			credit := banking.Posting{AccountID: t.ToAccountID, TransferID: t.ID, Kind: banking.PostingCredit, Amount: t.Amount,
				BalanceAfter: balance[t.ToAccountID], Date: today, Description: description("振込 " + holder[t.FromAccountID]), CreatedAt: at}
			if err := insertPosting(ctx, tx, &credit); err != nil {
				return err
			}
		}
		if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: t.ID, BatchID: t.BatchID, At: at, Actor: actor,
			Action: banking.HistoryExecuted}); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = $1 WHERE id = $2`, balance[id], id); err != nil {
			return err
		}
	}
	return nil
}

// description cuts a posting's description to banking.MaxDescription
// characters.
func description(s string) string {
	r := []rune(s)
	if len(r) > banking.MaxDescription {
		return string(r[:banking.MaxDescription])
	}
	return s
}

// Decide applies a user's decision on a unit; see banking.Decision.
func (d *DB) Decide(ctx context.Context, dc banking.Decision) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if dc.Approval {
			if err := d.lockOrganizationApprovals(ctx, tx, dc.OrganizationID); err != nil {
				return err
			}
		}
		lu, err := d.lockUnit(ctx, tx, dc.Unit)
		if err != nil {
			return err
		}
		switch {
		case lu.organizationID != dc.OrganizationID:
			return banking.ErrNotFound
		case dc.RequesterMustBe != 0 && lu.requestedBy != dc.RequesterMustBe:
			return banking.ErrForbidden
		case dc.RequesterMustNotBe != 0 && lu.requestedBy == dc.RequesterMustNotBe:
			return banking.ErrSelfApprovalForbidden
		case !slices.Contains(dc.From, lu.status):
			return banking.ErrInvalidState
		}
		events := []audit.Event{withDetail(dc.Audit, lu.about())}
		var approver int64
		if dc.Approval {
			approver = dc.UserID
			var used int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM transfers
				WHERE organization_id = $1 AND execution_date = $2 AND status IN ('scheduled', 'executed')`,
				dc.OrganizationID, dateText(lu.date)).Scan(&used); err != nil {
				return err
			}
			if used+lu.total > dc.OrganizationDailyLimit {
				return &banking.LimitError{Kind: banking.LimitOrganizationDaily, Limit: dc.OrganizationDailyLimit, Used: used, Amount: lu.total}
			}
		}
		if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: dc.Unit.TransferID, BatchID: dc.Unit.BatchID, At: dc.At,
			Actor: dc.Actor, UserID: dc.UserID, Action: dc.Action, Comment: dc.Comment}); err != nil {
			return err
		}
		if dc.Execute {
			if err := d.executeItems(ctx, tx, lu.items, dc.Today, dc.At, audit.System); err != nil {
				return err
			}
			events = append(events, audit.Event{At: dc.At, Type: audit.TransferExecuted, Actor: audit.System,
				OrganizationID: lu.organizationID, UserID: lu.requestedBy, Detail: lu.about()})
		}
		if err := setUnitStatus(ctx, tx, dc.Unit, dc.To, dc.At, approver, ""); err != nil {
			return err
		}
		for _, ev := range events {
			if err := d.insertAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return bankingErr(err, "decide on "+dc.Unit.String())
}

// DueUnits returns the scheduled units dated on or before today.
func (d *DB) DueUnits(ctx context.Context, today banking.Date) ([]banking.Unit, error) {
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

// failedReason is the reason a scheduled unit failed for lack of money.
const failedReason = "insufficient funds on the execution date (残高不足)"

// ExecuteScheduled executes a unit that is still scheduled and due, or
// marks it failed when the money is not there.
func (d *DB) ExecuteScheduled(ctx context.Context, u banking.Unit, today banking.Date, at time.Time) (banking.Status, error) {
	var result banking.Status
	err := d.tx(ctx, func(tx *sql.Tx) error {
		result = ""
		lu, err := d.lockUnit(ctx, tx, u)
		if err != nil {
			return err
		}
		if lu.status != banking.StatusScheduled || lu.date.After(today) {
			return nil // executed by another run, or not due
		}
		err = d.executeItems(ctx, tx, lu.items, today, at, audit.System)
		switch {
		case errors.Is(err, banking.ErrInsufficientFunds):
			// Nothing was written before the funds were checked.
			if err := setUnitStatus(ctx, tx, u, banking.StatusFailed, at, 0, failedReason); err != nil {
				return err
			}
			if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: u.TransferID, BatchID: u.BatchID, At: at,
				Actor: audit.System, Action: banking.HistoryFailed, Comment: failedReason}); err != nil {
				return err
			}
			result = banking.StatusFailed
			return d.insertAudit(ctx, tx, audit.Event{At: at, Type: audit.TransferFailed, Actor: audit.System,
				OrganizationID: lu.organizationID, UserID: lu.requestedBy, Detail: lu.about() + ": " + failedReason})
		case err != nil:
			return err
		}
		if err := setUnitStatus(ctx, tx, u, banking.StatusExecuted, at, 0, ""); err != nil {
			return err
		}
		result = banking.StatusExecuted
		return d.insertAudit(ctx, tx, audit.Event{At: at, Type: audit.TransferExecuted, Actor: audit.System,
			OrganizationID: lu.organizationID, UserID: lu.requestedBy, Detail: lu.about()})
	})
	if err != nil {
		return "", bankingErr(err, "execute "+u.String())
	}
	return result, nil
}

// ---- interbank ----

// InterbankPending returns executed interbank transfers dated on or before
// through and not yet written to a file, in order of id.
func (d *DB) InterbankPending(ctx context.Context, through banking.Date) ([]banking.Transfer, error) {
	out, err := queryTransfers(ctx, d.db, `SELECT `+transferColumns+` FROM transfers t
		WHERE t.interbank = TRUE AND t.status = 'executed' AND t.interbank_sent_at IS NULL AND t.execution_date <= $1 ORDER BY t.id`,
		dateText(through))
	if err != nil {
		return nil, fmt.Errorf("store: interbank pending: %w", err)
	}
	return out, nil
}

// MarkInterbankSent records that transfers were written to an interbank
// file: all, or none.
func (d *DB) MarkInterbankSent(ctx context.Context, ids []int64, fileName, actor string, at time.Time, ev audit.Event) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var total int64
		for _, id := range sorted {
			var interbank bool
			var status string
			var sent sql.NullInt64
			var amount int64
			var batch sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT interbank, status, interbank_sent_at, amount, batch_id FROM transfers WHERE id = $1`+d.forUpdate(), id).
				Scan(&interbank, &status, &sent, &amount, &batch)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("transfer %d: %w", id, banking.ErrNotFound)
			case err != nil:
				return err
			case !interbank || banking.Status(status) != banking.StatusExecuted:
				return fmt.Errorf("transfer %d is not an executed interbank transfer: %w", id, banking.ErrInvalidState)
			case sent.Valid:
				return fmt.Errorf("transfer %d: %w", id, banking.ErrInterbankAlreadyWritten)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE transfers SET interbank_file = $1, interbank_sent_at = $2 WHERE id = $3`,
				fileName, micros(at), id); err != nil {
				return err
			}
			if err := insertHistory(ctx, tx, banking.HistoryEntry{TransferID: id, BatchID: batch.Int64, At: at, Actor: actor,
				Action: banking.HistoryInterbankSent, Comment: fileName}); err != nil {
				return err
			}
			total += amount
		}
		ev.Detail += fmt.Sprintf(", total %d", total)
		return d.insertAudit(ctx, tx, ev)
	})
	return bankingErr(err, "mark interbank sent")
}

// ---- verification ----

// VerifyLedger checks, in one snapshot of the database, that every account's
// balance is the sum of its postings and the balance after its last posting,
// that each posting's balance follows from the one before, that every
// executed transfer has exactly its postings (one debit of its amount from
// its account and, to an account here, one credit to it) and every other
// transfer none, and that the items of a batch are in the batch's status.
func (d *DB) VerifyLedger(ctx context.Context) ([]banking.LedgerProblem, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("store: verify ledger: %w", err)
	}
	defer tx.Rollback()
	problems, err := verifyLedger(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("store: verify ledger: %w", err)
	}
	return problems, nil
}

func verifyLedger(ctx context.Context, tx *sql.Tx) ([]banking.LedgerProblem, error) {
	var problems []banking.LedgerProblem
	add := func(account, transfer int64, format string, args ...any) {
		problems = append(problems, banking.LedgerProblem{AccountID: account, TransferID: transfer, Detail: fmt.Sprintf(format, args...)})
	}

	balances := map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT id, balance FROM accounts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var accountIDs []int64
	for rows.Next() {
		var id, b int64
		if err := rows.Scan(&id, &b); err != nil {
			rows.Close()
			return nil, err
		}
		balances[id] = b
		accountIDs = append(accountIDs, id)
		if b < 0 {
			add(id, 0, "negative balance %d", b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Every posting in order, per account: the running balance.
	type posting struct {
		account int64
		kind    string
		amount  int64
	}
	byTransfer := map[int64][]posting{}
	total := map[int64]int64{}   // the sum of an account's postings
	running := map[int64]int64{} // the same, but following each posting's balance after a break
	last := map[int64]int64{}
	rows, err = tx.QueryContext(ctx, `SELECT id, account_id, transfer_id, kind, amount, balance_after FROM postings ORDER BY account_id, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, account, amount, after int64
		var transfer sql.NullInt64
		var kind string
		if err := rows.Scan(&id, &account, &transfer, &kind, &amount, &after); err != nil {
			rows.Close()
			return nil, err
		}
		total[account] += amount
		running[account] += amount
		if running[account] != after {
			add(account, transfer.Int64, "posting %d: balance after %d, but the balance before it and its amount make %d", id, after, running[account])
			running[account] = after // report each break once
		}
		last[account] = after
		if after < 0 {
			add(account, transfer.Int64, "posting %d: negative balance after %d", id, after)
		}
		if transfer.Valid {
			byTransfer[transfer.Int64] = append(byTransfer[transfer.Int64], posting{account, kind, amount})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range accountIDs {
		if balances[id] != total[id] {
			add(id, 0, "balance %d, but its postings sum to %d", balances[id], total[id])
		} else if balances[id] != last[id] {
			add(id, 0, "balance %d, but the balance after its last posting is %d", balances[id], last[id])
		}
	}

	// Every transfer: its postings exactly once if executed, none otherwise.
	rows, err = tx.QueryContext(ctx, `SELECT t.id, t.status, t.amount, t.from_account_id, t.to_account_id, t.interbank, t.batch_id, b.status
		FROM transfers t LEFT JOIN transfer_batches b ON b.id = t.batch_id ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, amount, from int64
		var to, batch sql.NullInt64
		var status string
		var batchStatus sql.NullString
		var interbank bool
		if err := rows.Scan(&id, &status, &amount, &from, &to, &interbank, &batch, &batchStatus); err != nil {
			return nil, err
		}
		ps := byTransfer[id]
		delete(byTransfer, id)
		if batch.Valid && batchStatus.String != status {
			add(0, id, "status %s, but its batch %d is %s", status, batch.Int64, batchStatus.String)
		}
		if banking.Status(status) != banking.StatusExecuted {
			if len(ps) > 0 {
				add(0, id, "%s, but it has %d postings", status, len(ps))
			}
			continue
		}
		var debits, credits int
		for _, p := range ps {
			switch {
			case p.kind == string(banking.PostingDebit) && p.account == from && p.amount == -amount:
				debits++
			case p.kind == string(banking.PostingCredit) && !interbank && p.account == to.Int64 && p.amount == amount:
				credits++
			default:
				add(p.account, id, "unexpected %s posting of %d", p.kind, p.amount)
			}
		}
		if debits != 1 {
			add(from, id, "executed with %d debits of %d, want exactly 1", debits, amount)
		}
		wantCredits := 1
		if interbank {
			wantCredits = 0
		}
		if credits != wantCredits {
			add(to.Int64, id, "executed with %d credits of %d, want %d", credits, amount, wantCredits)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return problems, nil
}
