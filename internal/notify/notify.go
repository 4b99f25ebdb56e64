// Package notify tells users by e-mail what happened to their certificates,
// their logins and their transfers: it composes the mails (Japanese first, English below), renders
// them as RFC 5322 messages, and delivers the mails of the outbox, at least
// once, over SMTP or into a directory of .eml files.
//
// A mail of kinko never carries a link: a bank's mail with a link to click
// teaches its users to fall for phishing. It never carries a password or a
// key either. The package keeps no state of its own: the outbox is the
// Store's. Which mails an audit event causes is MailsOf, a pure function;
// the store writes their intents (kind, recipient by role, the event) in
// the event's transaction, and the Sender composes each mail when it claims
// it, from the recipient's address and names as they stand then.
package notify

import (
	"context"
	"errors"
	"time"

	"kinko/internal/audit"
	"kinko/internal/outbox"
)

// Kind is what a mail tells about.
type Kind string

// Kinds of mail.
const (
	CertificateIssued  Kind = "certificate_issued"
	CertificateRenewed Kind = "certificate_renewed"
	CertificateRevoked Kind = "certificate_revoked"
	ExpiryNotice       Kind = "expiry_notice"
	UserLocked         Kind = "user_locked"
	PasswordChanged    Kind = "password_changed"
	// PasswordsReset: the user's login and confirmation passwords were
	// reset, by the master user (a general user's) or by the bank (a
	// master user's). The mail never carries the new passwords.
	PasswordsReset Kind = "passwords_reset"
	// TransferAwaitingApproval: a transfer or a batch (総合振込) awaits
	// the approval of the recipient.
	TransferAwaitingApproval Kind = "transfer_awaiting_approval"
	// TransferSentBack, TransferRejected, TransferExecuted and
	// TransferFailed tell the requester what became of their transfer or
	// batch: sent back (差戻し), rejected (却下), executed, failed (不能).
	TransferSentBack Kind = "transfer_sent_back"
	TransferRejected Kind = "transfer_rejected"
	TransferExecuted Kind = "transfer_executed"
	TransferFailed   Kind = "transfer_failed"
)

// Kinds are all kinds of mail, in a fixed order.
var Kinds = []Kind{CertificateIssued, CertificateRenewed, CertificateRevoked, ExpiryNotice, UserLocked, PasswordChanged, PasswordsReset,
	TransferAwaitingApproval, TransferSentBack, TransferRejected, TransferExecuted, TransferFailed}

// bankingKind reports whether a mail of kind k tells of a transfer or a
// batch.
func bankingKind(k Kind) bool {
	switch k {
	case TransferAwaitingApproval, TransferSentBack, TransferRejected, TransferExecuted, TransferFailed:
		return true
	}
	return false
}

// Errors.
var (
	ErrUnknownKind   = errors.New("notify: unknown kind of mail")
	ErrMissingData   = errors.New("notify: data missing for the mail")
	ErrNoSTARTTLS    = errors.New("notify: the mail server does not offer STARTTLS; refusing to send in the clear")
	ErrNoAuth        = errors.New("notify: the mail server does not offer AUTH, but a user name is configured")
	ErrBadTLSMode    = errors.New("notify: smtp TLS mode must be starttls, tls or none")
	ErrBadAddress    = errors.New("notify: bad mail address")
	ErrNoSMTPHost    = errors.New("notify: no SMTP host")
	ErrNoMailDir     = errors.New("notify: no mail directory")
	ErrNotConfigured = errors.New("notify: sender needs a store and a transport")
	ErrMailNotFound  = outbox.ErrNotFound
)

// Message is a mail of the outbox, composed.
type Message struct {
	ID   int64 // the outbox row; stable across redeliveries
	Kind Kind
	To   string // the recipient's address
	// RecipientID is the user ID of the recipient of one of the
	// deliveries of a mail to several users (the approvers of a
	// transfer), each a Message of its own; 0 for a mail to one user.
	RecipientID    int64
	Subject        string
	Body           string // plain text, lines separated by "\n"
	CreatedAt      time.Time
	Attempts       int // deliveries tried before this one
	OrganizationID int64
	UserID         int64
	Serial         string
}

// Transport hands a rendered mail to the world.
type Transport interface {
	// Deliver delivers raw, the rendering of m. Delivering the same
	// message twice must be harmless to the recipient: raw carries the
	// same Message-ID each time.
	Deliver(ctx context.Context, m Message, raw []byte) error
}

// Store is the outbox as the sender needs it.
type Store interface {
	// ClaimMail leases, until now+lease, up to limit mails that are not
	// sent nor dropped, are due (next attempt at or before now) and are
	// not leased to another sender, oldest first, each with the event that
	// caused it. A claimed mail is not claimed again before its lease
	// ends, by this or any other server.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]outbox.Mail, error)
	// MailFacts reads, as they stand now, what the text of m needs: the
	// organization, the user the mail is about, the organization's master
	// user, the certificate; for a banking mail (m.Event names a transfer
	// or a batch), the transfer or batch with its requester, the comment
	// of the step, and the users who may approve it.
	MailFacts(ctx context.Context, m outbox.Mail) (outbox.Facts, error)
	// MarkMailDropped records that the mail will not be sent, and why.
	MarkMailDropped(ctx context.Context, id int64, at time.Time, why string) error
	// MarkMailSent records that the mail was delivered at at, with the
	// audit event ev, in one transaction.
	MarkMailSent(ctx context.Context, id int64, at time.Time, ev audit.Event) error
	// MarkMailFailed counts a failed delivery, records its error and
	// makes the mail due again at next.
	MarkMailFailed(ctx context.Context, id int64, next time.Time, errText string) error
}
