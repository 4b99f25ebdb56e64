package banking

import (
	"context"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
)

// Store is what banking needs from storage: reads outside any transaction,
// and InTx, in which every change is made. The store decides nothing: the
// reads return rows, and a missing row is ErrNotFound.
type Store interface {
	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back otherwise. fn's error is returned as it is. fn must use
	// only tx for the database and must not wait for anything else that
	// writes to it.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	AccountByID(ctx context.Context, id int64) (Account, error)
	AccountByNumber(ctx context.Context, branchCode string, typ AccountType, number string) (Account, error)
	Accounts(ctx context.Context, organizationID int64) ([]Account, error)
	// Postings returns an account's postings booked from..to (zero: no
	// bound), oldest first, from offset, at most limit, and their number.
	Postings(ctx context.Context, accountID int64, from, to calendar.Date, offset, limit int) ([]Posting, int, error)

	// OrganizationDailyLimit returns the limit the bank set, and false when
	// it set none.
	OrganizationDailyLimit(ctx context.Context, organizationID int64) (int64, bool, error)
	// Privileges returns a user's privileges, and false when none were set.
	Privileges(ctx context.Context, userID int64) (Privileges, bool, error)

	Payees(ctx context.Context, organizationID int64) ([]Payee, error)
	PayeeByID(ctx context.Context, id int64) (Payee, error)

	// Idempotent returns the request hash and the unit that a user's
	// request with an idempotency key recorded, and false for a key not used.
	Idempotent(ctx context.Context, userID int64, key string) (string, Unit, bool, error)
	TransferByID(ctx context.Context, id int64) (Transfer, error)
	Transfers(ctx context.Context, f TransferFilter) ([]Transfer, int, error)
	History(ctx context.Context, u Unit) ([]HistoryEntry, error)
	BatchByID(ctx context.Context, id int64) (Batch, error)
	Batches(ctx context.Context, organizationID int64, offset, limit int) ([]Batch, int, error)
	BatchTransfers(ctx context.Context, batchID int64) ([]Transfer, error)
	// BatchDraft returns an upload kept for its confirmation.
	BatchDraft(ctx context.Context, id int64) (DraftRow, error)
	// DueUnits returns the scheduled units dated on or before today.
	DueUnits(ctx context.Context, today calendar.Date) ([]Unit, error)
	// InterbankPending returns executed transfers to other banks, dated on
	// or before through, not yet written to an interbank file, in order of
	// ID.
	InterbankPending(ctx context.Context, through calendar.Date) ([]Transfer, error)
	LedgerReader
}

// Tx is one transaction of the store. Its methods are data operations:
// lock rows, read sums, insert and update rows, append history and audit
// events. They decide nothing; every rule is checked by banking between
// them.
//
// Lock order. On PostgreSQL the Lock methods lock rows FOR NO KEY UPDATE
// (FOR UPDATE would wait on the FOR KEY SHARE locks that foreign-key checks
// of concurrent inserts take, and deadlock against them). A transaction
// takes only the locks it needs, always in this order, so that no two
// transactions wait on each other in a cycle:
//
//  1. LockOrganization: the approvals of one organization (its daily limit);
//  2. LockUser: the requests of one user (the user's daily limit, the
//     idempotency keys);
//  3. LockTransfer or LockBatch: the unit being decided on; several
//     transfers in ascending ID;
//  4. LockAccounts: the accounts whose balances change, in ascending ID
//     (LockAccounts sorts them);
//  5. AppendAudit, last: appending locks the head of the audit chain.
//
// On SQLite the transaction holds the database's write lock from its start,
// and the Lock methods only read.
type Tx interface {
	// LockOrganization locks an organization's row for its approvals.
	LockOrganization(ctx context.Context, organizationID int64) error
	// LockUser locks a user's row for the user's requests.
	LockUser(ctx context.Context, userID int64) error
	// LockTransfer reads and locks a transfer; ErrNotFound if there is none.
	LockTransfer(ctx context.Context, id int64) (Transfer, error)
	// LockBatch reads and locks a batch, and reads its items in order of
	// ID (they change only with their batch); ErrNotFound if there is none.
	LockBatch(ctx context.Context, id int64) (Batch, []Transfer, error)
	// LockAccounts reads and locks accounts in ascending ID and returns
	// them in that order; an ID with no account is left out.
	LockAccounts(ctx context.Context, ids []int64) ([]Account, error)

	// IdempotencyKey returns the request hash and the unit that a user's
	// idempotency key recorded, and false for a key not used.
	IdempotencyKey(ctx context.Context, userID int64, key string) (string, Unit, bool, error)
	// InsertIdempotencyKey records a user's idempotency key with the request
	// hash and the unit it made.
	InsertIdempotencyKey(ctx context.Context, userID int64, key, requestHash string, u Unit, at time.Time) error
	// RequestedSum returns the sum of the amounts of a user's transfers for
	// an execution date that are in one of statuses, leaving out transfer
	// except (0: none).
	RequestedSum(ctx context.Context, userID int64, date calendar.Date, statuses []Status, except int64) (int64, error)
	// OrganizationSum returns the sum of the amounts of an organization's
	// transfers for an execution date that are in one of statuses.
	OrganizationSum(ctx context.Context, organizationID int64, date calendar.Date, statuses []Status) (int64, error)

	// InsertAccount inserts an account with a balance of 0 and fills its
	// ID; ErrAccountExists when its branch, type and number are taken.
	InsertAccount(ctx context.Context, a *Account, requestRef string) error
	// InsertPosting inserts a posting and fills its ID.
	InsertPosting(ctx context.Context, p *Posting) error
	// SetBalance sets an account's balance.
	SetBalance(ctx context.Context, accountID, balance int64) error
	// SetOrganizationDailyLimit sets the daily limit of an organization.
	SetOrganizationDailyLimit(ctx context.Context, organizationID, limit int64, at time.Time) error
	// SetPrivileges sets a user's privileges.
	SetPrivileges(ctx context.Context, userID, organizationID int64, p Privileges, at time.Time) error
	// InsertPayee inserts a payee and fills its ID; ErrPayeeExists when the
	// organization has registered the account already.
	InsertPayee(ctx context.Context, p *Payee) error
	// DeletePayee deletes a payee; ErrNotFound if there is none.
	DeletePayee(ctx context.Context, id int64) error

	// InsertBatch inserts a batch and fills its ID and Version.
	InsertBatch(ctx context.Context, b *Batch) error
	// InsertTransfer inserts a transfer and fills its ID and Version.
	InsertTransfer(ctx context.Context, t *Transfer) error
	// UpdateTransferRequest replaces what a transfer t.ID asks for (its
	// account, payee, amount, date, memo), its status and UpdatedAt by t's.
	// It, SetStatus and SetInterbankSent make the Version of each row they
	// change one higher.
	UpdateTransferRequest(ctx context.Context, t Transfer) error
	// SetStatus sets the status of a unit: of the transfer, or of the batch
	// and all its items.
	SetStatus(ctx context.Context, u Unit, c StatusChange) error
	// SetInterbankSent records the interbank file a transfer was written to.
	SetInterbankSent(ctx context.Context, transferID int64, fileName string, at time.Time) error
	// AddPayeeChecks adds n to the count of a user's checks of accounts at
	// this bank in the user's current window, and returns the count and the
	// window's end. A window that ended at or before now is replaced by a
	// new one ending at windowEnd, whose count starts at n. It is one
	// statement: concurrent calls on several servers all count.
	AddPayeeChecks(ctx context.Context, userID int64, n int, now, windowEnd time.Time) (int, time.Time, error)
	// InsertBatchDraft keeps an upload for its confirmation and fills its
	// ID.
	InsertBatchDraft(ctx context.Context, r *DraftRow) error
	// DeleteBatchDraft deletes an upload and reports whether there was one.
	DeleteBatchDraft(ctx context.Context, id int64) (bool, error)
	// DeleteBatchDrafts deletes the uploads expired at or before now, and
	// a user's oldest so that at most keep-1 remain.
	DeleteBatchDrafts(ctx context.Context, now time.Time, userID int64, keep int) error
	// AppendHistory appends a step to the history of a transfer or batch.
	AppendHistory(ctx context.Context, h HistoryEntry) error
	// AppendAudit appends an event to the audit chain, with the mails it
	// causes. It comes last in a transaction (see the lock order).
	AppendAudit(ctx context.Context, ev audit.Event) error
}

// StatusChange is a new status of a unit.
type StatusChange struct {
	Status Status
	At     time.Time // UpdatedAt
	// ExecutedAt is set for an executed unit, and zero otherwise.
	ExecutedAt time.Time
	// ApprovedBy and ApprovedAt record the approver; 0 keeps the one
	// recorded.
	ApprovedBy    int64
	ApprovedAt    time.Time
	FailureReason string
}
