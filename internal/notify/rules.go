package notify

import (
	"fmt"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/outbox"
)

// Recipient is whom a mail goes to, by role, so that the address and the
// names are read when the mail is sent, not when the event happens.
type Recipient string

// Recipients.
const (
	// ToUser: the user the event is about.
	ToUser Recipient = "user"
	// ToMaster: the organization's master user, told about another user;
	// none when the user the event is about is the master user.
	ToMaster Recipient = "master"
	// ToApprovers: the users who may approve the transfer or batch the
	// event is about, found when the mail is sent: the organization's
	// users with the approval privilege and its master user, never the
	// requester, not deleted, not locked, with an address. Each gets a
	// Message of their own.
	ToApprovers Recipient = "approvers"
	// ToRequester: the user who requested the transfer or batch the event
	// is about.
	ToRequester Recipient = "requester"
)

// Mail is a mail that an audit event causes: what it tells and to whom.
type Mail struct {
	Kind Kind
	To   Recipient
}

// MailsOf returns the mails ev causes. It reads nothing but ev:
//
//   - certificate issued or renewed: to the user;
//   - certificate revoked: to the user and to the master user; none for a
//     certificate never signed (NeverSigned, SigningFailed), nor for one
//     superseded by its renewal;
//   - user locked: to the user and to the master user;
//   - password changed: to the user;
//   - expiry notice: to the user;
//   - transfer or batch requested or resubmitted: to those who may approve
//     it (TransferAwaitingApproval);
//   - sent back, rejected, executed, failed (不能): to its requester.
//
// Events about no user, certificate events about no certificate, and
// transfer events about no transfer and no batch (TransferID, BatchID)
// cause none; other events cause none. When the mail is sent, the recipient must
// still be there, not deleted, with an address (see compose).
func MailsOf(ev audit.Event) []Mail {
	if ev.UserID == 0 {
		return nil
	}
	user := func(k Kind) []Mail { return []Mail{{Kind: k, To: ToUser}} }
	userAndMaster := func(k Kind) []Mail { return []Mail{{Kind: k, To: ToUser}, {Kind: k, To: ToMaster}} }
	switch ev.Type {
	case audit.CertificateIssued, audit.CertificateRenewed, audit.CertificateExpiryNotice, audit.CertificateRevoked:
		if ev.Serial == "" {
			return nil
		}
	}
	switch ev.Type {
	case audit.TransferRequested, audit.TransferResubmitted, audit.TransferSentBack, audit.TransferRejected,
		audit.TransferExecuted, audit.TransferFailed:
		if ev.TransferID == 0 && ev.BatchID == 0 {
			return nil
		}
	}
	requester := func(k Kind) []Mail { return []Mail{{Kind: k, To: ToRequester}} }
	switch ev.Type {
	case audit.TransferRequested, audit.TransferResubmitted:
		return []Mail{{Kind: TransferAwaitingApproval, To: ToApprovers}}
	case audit.TransferSentBack:
		return requester(TransferSentBack)
	case audit.TransferRejected:
		return requester(TransferRejected)
	case audit.TransferExecuted:
		return requester(TransferExecuted)
	case audit.TransferFailed:
		return requester(TransferFailed)
	case audit.CertificateIssued:
		return user(CertificateIssued)
	case audit.CertificateRenewed:
		return user(CertificateRenewed)
	case audit.CertificateRevoked:
		// A certificate never signed was never the user's; one superseded
		// by its renewal was replaced as the user wished.
		if ev.Cause == audit.NeverSigned || ev.Cause == audit.SigningFailed || ev.Reason == "superseded" {
			return nil
		}
		return userAndMaster(CertificateRevoked)
	case audit.UserLocked:
		return userAndMaster(UserLocked)
	case audit.PasswordChanged:
		return user(PasswordChanged)
	case audit.PasswordsReset:
		return user(PasswordsReset)
	case audit.CertificateExpiryNotice:
		return user(ExpiryNotice)
	}
	return nil
}

// Rules gives the store, which writes the mails' intents in the
// transaction of each event, the rules of MailsOf in the outbox's terms.
type Rules struct{}

// Mails returns the intents of the mails ev causes (see MailsOf).
func (Rules) Mails(ev audit.Event) []outbox.Intent {
	mails := MailsOf(ev)
	if len(mails) == 0 {
		return nil
	}
	out := make([]outbox.Intent, len(mails))
	for i, m := range mails {
		out[i] = outbox.Intent{Kind: string(m.Kind), To: string(m.To)}
	}
	return out
}

// compose writes the mail m of the outbox from the facts f read when it is
// sent, signed by bank: one Message, or one per recipient for a mail to
// several (the approvers). It returns a non-empty drop, saying why, for a
// mail that is not to be sent: its recipient is gone, deleted or without
// an address; the master's copy of a mail about the master user; a
// certificate that cannot be found or was never signed; a transfer that
// cannot be found, or no longer awaits approval; no approver to tell.
func compose(m outbox.Mail, f outbox.Facts, bank string) (msgs []Message, drop string, err error) {
	msg := Message{ID: m.ID, Kind: Kind(m.Kind), CreatedAt: m.CreatedAt, Attempts: m.Attempts,
		OrganizationID: m.OrganizationID, UserID: m.UserID, Serial: m.Serial}
	if m.To == "" {
		// Composed when it was written.
		msg.To, msg.Subject, msg.Body = m.Address, m.Subject, m.Body
		return []Message{msg}, "", nil
	}
	if f.User.ID == 0 {
		return nil, "the user is gone", nil
	}
	kind := Kind(m.Kind)
	if bankingKind(kind) {
		return composePayment(msg, m, f, bank)
	}
	d := Data{BankName: bank, OrganizationName: f.OrganizationName, UserName: f.User.Name, LoginID: f.User.LoginID,
		UserIsMaster: f.User.Master, Serial: m.Event.Serial, At: m.Event.At}
	var to outbox.Person
	switch Recipient(m.To) {
	case ToUser:
		to = f.User
	case ToMaster:
		if f.User.Master {
			return nil, "the user is the master user", nil
		}
		to = f.Master
		d.RecipientName, d.AboutOther = f.Master.Name, true
	default:
		return nil, "", fmt.Errorf("%w: recipient %q", ErrUnknownKind, m.To)
	}
	if why := unreachable(to); why != "" {
		return nil, why, nil
	}
	switch kind {
	case CertificateIssued, CertificateRenewed, CertificateRevoked, ExpiryNotice:
		if f.NotAfter.IsZero() {
			return nil, "no such certificate", nil
		}
		d.NotAfter = f.NotAfter
	}
	switch kind {
	case CertificateRevoked:
		if !f.Issued {
			return nil, "the certificate was never signed", nil
		}
		d.Reason = m.Event.Reason
		d.ByBank = strings.HasPrefix(m.Event.Actor, audit.OperatorActor(""))
		d.RequestRef = m.Event.RequestRef
		d.Withdrawn = m.Event.Cause == audit.Withdrawn
	case ExpiryNotice:
		d.DaysLeft = daysLeft(d.NotAfter, d.At)
	case PasswordChanged:
		d.ConfirmationPassword = m.Event.Password == audit.ConfirmationPassword
	case PasswordsReset:
		d.ByBank = strings.HasPrefix(m.Event.Actor, audit.OperatorActor(""))
		d.RequestRef = m.Event.RequestRef
	}
	msg.To = to.Email
	msg.Subject, msg.Body, err = Compose(kind, d)
	if err != nil {
		return nil, "", err
	}
	return []Message{msg}, "", nil
}

// unreachable says why a mail cannot go to p, or "" when it can.
func unreachable(p outbox.Person) string {
	switch {
	case p.ID == 0:
		return "no recipient"
	case p.Deleted:
		return "the recipient is deleted"
	case p.Email == "":
		return "the recipient has no address"
	}
	return ""
}

// composePayment writes a banking mail: to each approver of the transfer
// or batch, or to its requester.
func composePayment(msg Message, m outbox.Mail, f outbox.Facts, bank string) ([]Message, string, error) {
	kind := Kind(m.Kind)
	p := f.Payment
	if p == nil {
		return nil, "no such transfer", nil
	}
	d := Data{BankName: bank, OrganizationName: f.OrganizationName, UserName: p.Requester.Name, LoginID: p.Requester.LoginID,
		UserIsMaster: p.Requester.Master, At: m.Event.At, TransferID: p.TransferID, BatchID: p.BatchID,
		Amount: p.Amount, Count: p.Count, PayeeName: p.PayeeName, PayeeBankCode: p.PayeeBankCode,
		PayeeBranchCode: p.PayeeBranchCode, SourceFile: p.SourceFile, Comment: p.Comment, FailureReason: p.FailureReason}
	if p.ExecutionDate != "" {
		date, err := calendar.ParseDate(p.ExecutionDate)
		if err != nil {
			return nil, "", fmt.Errorf("notify: mail %d: execution date: %w", m.ID, err)
		}
		d.ExecutionDate = date
	}
	if f.User.ID != p.Requester.ID {
		d.ActorName = f.User.Name
	}
	switch Recipient(m.To) {
	case ToApprovers:
		if p.Status != "awaiting_approval" {
			return nil, "the transfer no longer awaits approval", nil
		}
		var out []Message
		for _, a := range p.Approvers {
			if a.ID == p.Requester.ID || a.Locked || unreachable(a) != "" {
				continue
			}
			one := msg
			one.To, one.RecipientID = a.Email, a.ID
			d.RecipientName = a.Name
			var err error
			one.Subject, one.Body, err = Compose(kind, d)
			if err != nil {
				return nil, "", err
			}
			out = append(out, one)
		}
		if len(out) == 0 {
			return nil, "no approver with an address", nil
		}
		return out, "", nil
	case ToRequester:
		if why := unreachable(p.Requester); why != "" {
			return nil, why, nil
		}
		msg.To = p.Requester.Email
		var err error
		msg.Subject, msg.Body, err = Compose(kind, d)
		if err != nil {
			return nil, "", err
		}
		return []Message{msg}, "", nil
	}
	return nil, "", fmt.Errorf("%w: recipient %q of %s", ErrUnknownKind, m.To, kind)
}

// daysLeft counts the days from at to notAfter, part of a day as a day; 0
// when notAfter has passed.
func daysLeft(notAfter, at time.Time) int {
	if !at.Before(notAfter) {
		return 0
	}
	day := 24 * time.Hour
	return int((notAfter.Sub(at) + day - 1) / day)
}
