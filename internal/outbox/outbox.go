// Package outbox holds the records of the outbox of mails that package
// notify (which decides which mails an event causes, composes and sends
// them) and package store (which keeps them) both speak of, so that
// neither imports the other. It holds data only: no rule, no SQL, and it
// must never import either package.
package outbox

import (
	"errors"
	"time"

	"kinko/internal/audit"
)

// ErrNotFound is the error of a mail that is not in the outbox.
var ErrNotFound = errors.New("notify: no such mail in the outbox")

// Intent is a mail that an audit event causes, as the store writes it in
// the event's transaction: what it tells and to whom. Everything else (the
// address, the names, the certificate's dates) is read when it is sent.
type Intent struct {
	Kind string // what the mail tells (notify.Kind)
	To   string // whom it goes to, by role (notify.Recipient)
}

// Mail is a mail of the outbox as a sender claims it.
type Mail struct {
	ID        int64 // the outbox row; stable across redeliveries
	Kind      string
	To        string      // the recipient's role; "" for a mail composed when it was written
	Event     audit.Event // the event that caused it (zero for a mail composed when written)
	CreatedAt time.Time
	Attempts  int // deliveries tried before this one
	// OrganizationID, UserID and Serial are what the mail is about.
	OrganizationID int64
	UserID         int64
	Serial         string
	// Address, Subject and Body are those of a mail composed when it was
	// written (by versions that composed mails in the event's
	// transaction); empty for an intent.
	Address, Subject, Body string
}

// Facts are what the text of a mail needs, read when it is sent.
type Facts struct {
	OrganizationName string
	// User is the user the mail is about; a zero ID when there is none.
	User Person
	// Master is the organization's master user who is not deleted; a zero
	// ID when there is none.
	Master Person
	// NotAfter is the expiry of the certificate the mail is about; zero
	// when there is none.
	NotAfter time.Time
	// Issued reports whether that certificate was ever signed.
	Issued bool
	// Payment is the transfer or batch a banking mail is about (the
	// event's TransferID or BatchID); nil when the mail is about none, or
	// it cannot be found.
	Payment *Payment
}

// Payment is a transfer, or a batch of transfers (総合振込), as a banking
// mail tells of it, read when the mail is sent.
type Payment struct {
	TransferID, BatchID int64
	Status              string // banking.Status: awaiting_approval, sent_back, …
	Amount              int64  // the transfer's amount, or the batch's total, in yen
	Count               int    // the batch's items; 1 for a transfer
	// PayeeName, PayeeBankCode and PayeeBranchCode are a transfer's
	// payee; empty for a batch.
	PayeeName       string
	PayeeBankCode   string
	PayeeBranchCode string
	ExecutionDate   string // YYYY-MM-DD
	SourceFile      string // the batch's file name; empty for a transfer
	FailureReason   string // why it failed (不能), when it did
	// Comment is the comment of the step the mail tells of (a send-back
	// or a rejection), from the transfer's history.
	Comment string
	// Requester is the user who requested it.
	Requester Person
	// Approvers are the users who may approve it now: the organization's
	// users with the approval privilege and its master user, not the
	// requester, not deleted, not locked, with an address.
	Approvers []Person
}

// Person is a user as a mail names and addresses them.
type Person struct {
	ID      int64
	Name    string
	LoginID string
	Email   string // "" when the user has no address
	Master  bool   // the organization's master user
	Deleted bool
	Locked  bool
}

// State is where a mail of the outbox stands, as the operators see it.
type State string

// States.
const (
	StateWaiting  State = "waiting"  // not tried yet
	StateRetrying State = "retrying" // tried and failed; tried again later
	StateSent     State = "sent"
	StateFailed   State = "failed" // given up (dropped), with the reason; an operator may send it again
)

// Entry is a mail of the outbox as the operator console lists it.
type Entry struct {
	ID               int64
	CreatedAt        time.Time
	Kind             string
	To               string // the recipient's role
	OrganizationCode string // "" when the mail is about no organization
	LoginID          string // the user it is about; "" when none
	State            State
	Attempts         int
	NextAttemptAt    time.Time
	SentAt           time.Time
	FailedAt         time.Time
	LastError        string
}

// ErrNotFailed is the error of a mail sent again that has not failed.
var ErrNotFailed = errors.New("outbox: only a failed mail is sent again")
