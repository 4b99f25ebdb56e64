package notify

import (
	"fmt"
	"strings"
	"time"

	"kinko/internal/audit"
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
//   - expiry notice: to the user.
//
// Events about no user, and certificate events about no certificate, cause
// none; other events cause none. When the mail is sent, the recipient must
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
// sent, signed by bank. It returns a non-empty drop, saying why, for a mail
// that is not to be sent: its recipient is gone, deleted or without an
// address; the master's copy of a mail about the master user; a
// certificate that cannot be found or was never signed.
func compose(m outbox.Mail, f outbox.Facts, bank string) (msg Message, drop string, err error) {
	msg = Message{ID: m.ID, Kind: Kind(m.Kind), CreatedAt: m.CreatedAt, Attempts: m.Attempts,
		OrganizationID: m.OrganizationID, UserID: m.UserID, Serial: m.Serial}
	if m.To == "" {
		// Composed when it was written.
		msg.To, msg.Subject, msg.Body = m.Address, m.Subject, m.Body
		return msg, "", nil
	}
	if f.User.ID == 0 {
		return Message{}, "the user is gone", nil
	}
	kind := Kind(m.Kind)
	d := Data{BankName: bank, OrganizationName: f.OrganizationName, UserName: f.User.Name, LoginID: f.User.LoginID,
		UserIsMaster: f.User.Master, Serial: m.Event.Serial, At: m.Event.At}
	var to outbox.Person
	switch Recipient(m.To) {
	case ToUser:
		to = f.User
	case ToMaster:
		if f.User.Master {
			return Message{}, "the user is the master user", nil
		}
		to = f.Master
		d.RecipientName, d.AboutOther = f.Master.Name, true
	default:
		return Message{}, "", fmt.Errorf("%w: recipient %q", ErrUnknownKind, m.To)
	}
	switch {
	case to.ID == 0:
		return Message{}, "no recipient", nil
	case to.Deleted:
		return Message{}, "the recipient is deleted", nil
	case to.Email == "":
		return Message{}, "the recipient has no address", nil
	}
	switch kind {
	case CertificateIssued, CertificateRenewed, CertificateRevoked, ExpiryNotice:
		if f.NotAfter.IsZero() {
			return Message{}, "no such certificate", nil
		}
		d.NotAfter = f.NotAfter
	}
	switch kind {
	case CertificateRevoked:
		if !f.Issued {
			return Message{}, "the certificate was never signed", nil
		}
		d.Reason = m.Event.Reason
		d.ByBank = strings.HasPrefix(m.Event.Actor, audit.OperatorActor(""))
		d.RequestRef = m.Event.RequestRef
		d.Withdrawn = m.Event.Cause == audit.Withdrawn
	case ExpiryNotice:
		d.DaysLeft = daysLeft(d.NotAfter, d.At)
	case PasswordChanged:
		d.ConfirmationPassword = m.Event.Password == audit.ConfirmationPassword
	}
	msg.To = to.Email
	msg.Subject, msg.Body, err = Compose(kind, d)
	if err != nil {
		return Message{}, "", err
	}
	return msg, "", nil
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
