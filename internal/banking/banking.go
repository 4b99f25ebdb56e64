// Package banking is the money side of kinko: an organization's accounts and
// their ledger of postings, statements, registered payees, transfers and
// batches of transfers with their approval, the privileges and limits of
// users, and the execution of transfers, at once or on their date, and the
// export of transfers to other banks. Every rule is decided here: balances,
// limits, who may decide, the state of a transfer, each inside one
// transaction of the store (Store.InTx), whose Tx only reads, locks and
// writes rows. It never holds money in a float, never changes a balance
// except by a posting, and never tells a user of one organization whether an
// ID of another exists.
package banking

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// AccountType is the kind of a deposit account (預金種目).
type AccountType string

// Account types. Accounts at this bank are ordinary or current; a payee's
// account at another bank may also be a savings account.
const (
	Ordinary AccountType = "ordinary" // 普通
	Current  AccountType = "current"  // 当座
	Savings  AccountType = "savings"  // 貯蓄
)

// ZenginCode returns the account type's code in Zengin files (1 普通, 2 当座,
// 4 貯蓄), or "" for an unknown type.
func (t AccountType) ZenginCode() string {
	switch t {
	case Ordinary:
		return "1"
	case Current:
		return "2"
	case Savings:
		return "4"
	}
	return ""
}

// Label returns the Japanese name of the account type.
func (t AccountType) Label() string {
	switch t {
	case Ordinary:
		return "普通"
	case Current:
		return "当座"
	case Savings:
		return "貯蓄"
	}
	return string(t)
}

// AccountTypeFromZengin returns the account type of a Zengin code.
func AccountTypeFromZengin(code string) (AccountType, bool) {
	switch code {
	case "1":
		return Ordinary, true
	case "2":
		return Current, true
	case "4":
		return Savings, true
	}
	return "", false
}

// MaxAmount is the largest amount of one transfer or deposit: the ten digits
// of a Zengin amount field. It also keeps every sum far from overflowing.
const MaxAmount int64 = 9_999_999_999

// DefaultOrganizationDailyLimit is an organization's daily limit while the
// bank has set none.
const DefaultOrganizationDailyLimit int64 = 10_000_000

// Account is a deposit account of an organization.
type Account struct {
	ID             int64
	OrganizationID int64
	Type           AccountType
	BranchCode     string // 3 digits
	Number         string // 7 digits
	HolderName     string // half-width katakana
	Balance        int64  // yen, never negative
	OpenedAt       time.Time
}

// PostingKind says why a posting moved money.
type PostingKind string

// Posting kinds.
const (
	PostingDeposit PostingKind = "deposit" // 入金 posted by the bank
	PostingDebit   PostingKind = "debit"   // a transfer out of the account
	PostingCredit  PostingKind = "credit"  // a transfer into the account
	PostingFee     PostingKind = "fee"     // the fee of a transfer (振込手数料), out of the account
)

// Posting is one movement of money on an account: the only way a balance
// changes.
type Posting struct {
	ID           int64
	AccountID    int64
	TransferID   int64 // 0 for a deposit
	Kind         PostingKind
	Amount       int64         // yen: positive into the account, negative out of it
	BalanceAfter int64         // the balance right after this posting
	Date         calendar.Date // booking date
	Description  string
	// RequestRef is the written request of a deposit, used once: a
	// second deposit under it is ErrDepositRefUsed.
	RequestRef string
	CreatedAt  time.Time
}

// PayeeAccount is the account a transfer goes to.
type PayeeAccount struct {
	BankCode      string // 4 digits
	BranchCode    string // 3 digits
	AccountType   AccountType
	AccountNumber string // 7 digits
	Name          string // half-width katakana (Zengin characters), at most 30
}

// Payee is a registered payee (事前登録) of an organization.
type Payee struct {
	ID             int64
	OrganizationID int64
	PayeeAccount
	Nickname  string // the organization's own name for the payee; may be empty
	CreatedBy int64
	CreatedAt time.Time
}

// Status is the state of a transfer or a batch.
type Status string

// Statuses; docs/banking.md draws their transitions.
const (
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusSentBack         Status = "sent_back"
	StatusRejected         Status = "rejected"
	StatusCancelled        Status = "cancelled"
	StatusScheduled        Status = "scheduled"
	StatusExecuted         Status = "executed"
	StatusFailed           Status = "failed" // 不能: the funds were not there on the day
)

// Transfer is a transfer from an organization's account to a payee.
type Transfer struct {
	ID             int64
	OrganizationID int64
	BatchID        int64 // 0 unless the transfer is an item of a batch
	FromAccountID  int64
	Payee          PayeeAccount
	// ToAccountID is the payee's account when it is at this bank; 0 for a
	// transfer to another bank (Interbank).
	ToAccountID int64
	Interbank   bool
	// Amount is the amount requested. The payee receives Sent(): the
	// amount, less the fee when the payee bears it.
	Amount int64
	// Fee is the transfer's fee (振込手数料), fixed by the bank's table when
	// the transfer was requested; FeePayer says who bears it.
	Fee             int64
	FeePayer        FeePayer
	ExecutionDate   calendar.Date
	Memo            string
	CustomerCode1   string // batch items: 顧客コード1, up to 10 digits
	CustomerCode2   string
	Status          Status
	RequestedBy     int64
	RequestedAt     time.Time
	ApprovedBy      int64
	ApprovedAt      time.Time
	ExecutedAt      time.Time
	FailureReason   string
	InterbankFile   string // the outgoing file it was written to
	InterbankSentAt time.Time
	UpdatedAt       time.Time
	// Hidden says that the payee's name and the amount of this item of a
	// payroll batch are hidden from the user who asked (no payroll
	// inquiry): Name is Hidden and Amount 0.
	Hidden bool
	// Version counts the changes of the transfer: every change of its row
	// makes it one higher. An approver's decision names the version the
	// approver saw (see Approve).
	Version int64
}

// Batch is a batch of transfers (総合振込) from one account on one date,
// approved, sent back or rejected as one.
type Batch struct {
	ID             int64
	OrganizationID int64
	FromAccountID  int64
	ExecutionDate  calendar.Date
	SourceFile     string
	Status         Status
	Count          int
	Total          int64
	// Fees is the sum of the fees of its items (当方負担), debited with
	// Total at execution.
	Fees      int64
	Interbank bool // some item goes to another bank
	// Kind is 総合振込, 給与振込 or 賞与振込: the items of a payroll batch
	// are shown with their names and amounts only to users with the
	// payroll-inquiry privilege.
	Kind          BatchKind
	RequestedBy   int64
	RequestedAt   time.Time
	ApprovedBy    int64
	ApprovedAt    time.Time
	ExecutedAt    time.Time
	FailureReason string
	UpdatedAt     time.Time
	// Version counts the changes of the batch, as Transfer's does; its
	// items change only with it.
	Version int64
}

// HistoryEntry is one step in the life of a transfer or batch.
type HistoryEntry struct {
	ID         int64
	TransferID int64 // 0 for a step of a whole batch
	BatchID    int64
	At         time.Time
	Actor      string // "user:<login ID>", "operator:<name>", "system"
	UserID     int64  // 0 unless a user did it
	Action     string // one of the History* constants
	Comment    string
}

// History actions.
const (
	HistoryRequested     = "requested"
	HistoryResubmitted   = "resubmitted"
	HistoryApproved      = "approved"
	HistoryExecuted      = "executed"
	HistorySentBack      = "sent_back"
	HistoryRejected      = "rejected"
	HistoryCancelled     = "cancelled"
	HistoryFailed        = "failed"
	HistoryInterbankSent = "interbank_sent"
)

// Privileges are what the master user lets a general user do. A limit of 0
// means the user may not transfer at all: limits are never "unlimited".
type Privileges struct {
	Inquiry         bool // 照会: balances, statements, transfers
	TransferRequest bool // 振込依頼: request transfers, register payees
	Approval        bool // 承認: approve, send back, reject
	// PayrollInquiry (給与振込の照会) lets a user see the payees' names and
	// amounts of payroll batches (給与・賞与振込).
	PayrollInquiry   bool
	TransactionLimit int64 // yen, the most one transfer may move
	DailyLimit       int64 // yen, the most the user's requests for one execution date may move
	// Master says these are the master user's: all, with the
	// organization's limit, which only the bank changes.
	Master bool
}

// LedgerProblem is one way the ledger is not as it must be.
type LedgerProblem struct {
	AccountID  int64
	TransferID int64
	Detail     string
}

// String describes the problem with the account and transfer it concerns.
func (p LedgerProblem) String() string {
	switch {
	case p.AccountID != 0 && p.TransferID != 0:
		return fmt.Sprintf("account %d, transfer %d: %s", p.AccountID, p.TransferID, p.Detail)
	case p.AccountID != 0:
		return fmt.Sprintf("account %d: %s", p.AccountID, p.Detail)
	case p.TransferID != 0:
		return fmt.Sprintf("transfer %d: %s", p.TransferID, p.Detail)
	}
	return p.Detail
}

// Errors. Each has a stable code for the API and the pages (docs/banking.md).
var (
	ErrNotFound                = errors.New("banking: not found")                                       // not_found
	ErrForbidden               = errors.New("banking: forbidden")                                       // forbidden
	ErrInsufficientFunds       = errors.New("banking: insufficient funds")                              // insufficient_funds
	ErrLimitExceeded           = errors.New("banking: limit exceeded")                                  // limit_exceeded
	ErrSelfApprovalForbidden   = errors.New("banking: a transfer cannot be approved by its requester")  // self_approval_forbidden
	ErrInvalidPayeeName        = errors.New("banking: invalid payee name")                              // invalid_payee_name
	ErrInvalidPayee            = errors.New("banking: invalid payee account")                           // invalid_payee
	ErrOutsideServiceHours     = errors.New("banking: outside service hours")                           // outside_service_hours
	ErrInvalidAccount          = errors.New("banking: invalid account")                                 // invalid_account
	ErrAccountExists           = errors.New("banking: account already exists")                          // account_exists
	ErrPayeeExists             = errors.New("banking: payee already registered")                        // payee_exists
	ErrInvalidAmount           = errors.New("banking: invalid amount")                                  // invalid_amount
	ErrInvalidDate             = errors.New("banking: invalid date")                                    // invalid_date
	ErrInvalidExecutionDate    = errors.New("banking: invalid execution date")                          // invalid_execution_date
	ErrExecutionDatePassed     = errors.New("banking: the execution date can no longer be kept")        // execution_date_passed
	ErrInvalidState            = errors.New("banking: not possible in the transfer's state")            // invalid_state
	ErrIdempotencyConflict     = errors.New("banking: idempotency key reused with another request")     // idempotency_conflict
	ErrInvalidIdempotencyKey   = errors.New("banking: invalid idempotency key")                         // invalid_idempotency_key
	ErrInvalidMemo             = errors.New("banking: invalid memo")                                    // invalid_memo
	ErrInvalidComment          = errors.New("banking: invalid comment")                                 // invalid_comment
	ErrInvalidDescription      = errors.New("banking: invalid description")                             // invalid_description
	ErrInvalidCustomerCode     = errors.New("banking: invalid customer code")                           // invalid_customer_code
	ErrInvalidBatch            = errors.New("banking: invalid batch")                                   // invalid_batch
	ErrRequestRefRequired      = errors.New("banking: the written request's reference is required")     // request_ref_required
	ErrDepositRefUsed          = errors.New("banking: request reference already used for a deposit")    // deposit_ref_used
	ErrUnknownEncoding         = errors.New("banking: unknown statement encoding")                      // unknown_encoding
	ErrBatchItem               = errors.New("banking: a transfer of a batch is decided with its batch") // batch_item
	ErrInterbankAlreadyWritten = errors.New("banking: transfer already written to an interbank file")   // interbank_already_sent
	ErrVersionRequired         = errors.New("banking: the version the approver saw is required")        // precondition_required
	ErrTransferChanged         = errors.New("banking: the transfer changed since the approver saw it")  // transfer_changed
	ErrTooManyLookups          = errors.New("banking: too many accounts at this bank checked")          // too_many_lookups
	ErrUnknownBank             = errors.New("banking: no bank of this code in the names of banks")      // unknown_bank
)

// LimitKind names a limit.
type LimitKind string

// Limits.
const (
	LimitTransaction       LimitKind = "transaction"        // the user's per-transaction limit
	LimitUserDaily         LimitKind = "user_daily"         // the user's daily limit
	LimitOrganizationDaily LimitKind = "organization_daily" // the organization's daily limit, set by the bank
)

// LimitError says which limit a transfer would exceed. It is ErrLimitExceeded
// for errors.Is.
type LimitError struct {
	Kind   LimitKind
	Limit  int64 // yen
	Used   int64 // yen already used on the day (0 for the transaction limit)
	Amount int64 // yen this transfer or batch would add
	// Master says that the user over the limit is the master user, whose
	// limits are the organization's: only the bank (お取引店) raises them.
	// A general user asks the master user.
	Master bool
}

// Error describes the limit, what was used and what was asked.
func (e *LimitError) Error() string {
	return fmt.Sprintf("banking: %s limit %d exceeded: used %d, requested %d", e.Kind, e.Limit, e.Used, e.Amount)
}

// Is makes a LimitError match ErrLimitExceeded.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// Unit names what one approval decides: a single transfer or a batch. Exactly
// one of the IDs is set.
type Unit struct {
	TransferID int64
	BatchID    int64
}

// String names the unit: "transfer 12" or "batch 3".
func (u Unit) String() string {
	if u.BatchID != 0 {
		return fmt.Sprintf("batch %d", u.BatchID)
	}
	return fmt.Sprintf("transfer %d", u.TransferID)
}

// TransferFilter selects transfers of an organization; zero fields select
// all.
type TransferFilter struct {
	OrganizationID int64
	Statuses       []Status
	RequestedBy    int64
	From, To       calendar.Date // execution dates, both included
	SingleOnly     bool          // leave out the items of batches
	Offset, Limit  int
}

// Config holds a Service's dependencies.
type Config struct {
	Store    Store
	Identity *identity.Service
	Now      func() time.Time // default time.Now
	// BankCode is this bank's 4-digit code: transfers to it are booked on
	// both sides here, others go out in the interbank file.
	BankCode string
	// NormalizeName turns a name as typed into the half-width form of Zengin
	// names, or returns an error (wrapped in ErrInvalidPayeeName). Default:
	// DefaultNormalizeName.
	NormalizeName func(string) (string, error)
	// ExecutionDate returns the date a transfer requested for requested, at
	// now, is executed on, or an error for a date that cannot be (wrapped in
	// ErrInvalidExecutionDate). Default: DefaultExecutionDate.
	ExecutionDate func(now time.Time, requested calendar.Date, interbank bool) (calendar.Date, error)
	// DefaultOrganizationDailyLimit applies while the bank has set no limit
	// for an organization; 0 means DefaultOrganizationDailyLimit.
	DefaultOrganizationDailyLimit int64
	// PayeeChecks is how many accounts at this bank one user may check
	// (a payee given in full, in a transfer, a batch's items, a payee to
	// register, the entry form's check) in PayeeCheckWindow; more are
	// ErrTooManyLookups. 0 means DefaultPayeeChecks.
	PayeeChecks int
	// PayeeCheckWindow is the window of PayeeChecks; 0 means
	// DefaultPayeeCheckWindow.
	PayeeCheckWindow time.Duration
	// Banks holds the names of banks and branches, shown beside the codes
	// and written in the interbank files. Default: zengin.Embedded(), the
	// names that ship with kinko.
	Banks *zengin.Directory
	// Fees is the bank's table of transfer fees (振込手数料); nil means no
	// fees at all. The server passes the config's table, whose default is
	// DefaultFees.
	Fees *FeeTable
	// Calendar and Cutoff explain execution dates on the confirmation of
	// an upload, and date the deadline of payroll batches. Default:
	// calendar.Default() and calendar.DefaultCutoff.
	Calendar *calendar.Calendar
	Cutoff   calendar.Clock
	// PayrollDays and PayrollCutoff are the bank's deadline for 給与・賞与振込:
	// requested before PayrollCutoff, PayrollDays business days before the
	// payment date. 0 means DefaultPayrollDays and DefaultPayrollCutoff.
	PayrollDays   int
	PayrollCutoff calendar.Clock
}

// The defaults of Config.PayeeChecks and PayeeCheckWindow: enough for a
// day's work of an organization's clerk, far too few to try the numbers of
// a branch.
const (
	DefaultPayeeChecks      = 200
	DefaultPayeeCheckWindow = time.Hour
)

// Service is the banking domain.
type Service struct {
	c Config
	// payee is the limit of payee checks in force (SetPayeeChecks).
	payee atomic.Pointer[payeeLimit]
	// fees is the fee table in force (SetFees).
	fees atomic.Pointer[FeeTable]
}

// payeeLimit is Config.PayeeChecks and Config.PayeeCheckWindow.
type payeeLimit struct {
	checks int
	window time.Duration
}

// New returns a Service.
func New(c Config) (*Service, error) {
	if c.Store == nil {
		return nil, errors.New("banking: no store")
	}
	if c.Identity == nil {
		return nil, errors.New("banking: no identity service")
	}
	if !isDigits(c.BankCode, 4) {
		return nil, fmt.Errorf("banking: bank code %q is not 4 digits", c.BankCode)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NormalizeName == nil {
		c.NormalizeName = DefaultNormalizeName
	}
	if c.ExecutionDate == nil {
		c.ExecutionDate = DefaultExecutionDate
	}
	if c.DefaultOrganizationDailyLimit <= 0 {
		c.DefaultOrganizationDailyLimit = DefaultOrganizationDailyLimit
	}
	if c.Banks == nil {
		c.Banks = zengin.Embedded()
	}
	if c.Calendar == nil {
		c.Calendar = calendar.Default()
	}
	if c.Cutoff == (calendar.Clock{}) {
		c.Cutoff = calendar.DefaultCutoff
	}
	if c.PayrollDays <= 0 {
		c.PayrollDays = DefaultPayrollDays
	}
	if c.PayrollCutoff == (calendar.Clock{}) {
		c.PayrollCutoff = DefaultPayrollCutoff
	}
	s := &Service{c: c}
	s.SetPayeeChecks(c.PayeeChecks, c.PayeeCheckWindow)
	var fees FeeTable
	if c.Fees != nil {
		fees = *c.Fees
	}
	if err := s.SetFees(fees); err != nil {
		return nil, err
	}
	return s, nil
}

// SetPayeeChecks makes checks in window the limit of a user's checks of
// accounts at this bank (zero: the defaults) from now on, on a running
// server; the checks already counted stay counted, in the windows they
// started.
func (s *Service) SetPayeeChecks(checks int, window time.Duration) {
	if checks <= 0 {
		checks = DefaultPayeeChecks
	}
	if window <= 0 {
		window = DefaultPayeeCheckWindow
	}
	s.payee.Store(&payeeLimit{checks: checks, window: window})
}

// BankCode returns this bank's code.
func (s *Service) BankCode() string { return s.c.BankCode }

// Today returns the day in Japan now.
func (s *Service) Today() calendar.Date { return calendar.DateOf(s.c.Now()) }
