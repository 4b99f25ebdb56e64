package notify_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/notify"
	"kinko/internal/outbox"
)

// TestMailsOf checks which mails each kind of event causes, from the event
// alone.
func TestMailsOf(t *testing.T) {
	user := func(k notify.Kind) []notify.Mail { return []notify.Mail{{Kind: k, To: notify.ToUser}} }
	both := func(k notify.Kind) []notify.Mail {
		return []notify.Mail{{Kind: k, To: notify.ToUser}, {Kind: k, To: notify.ToMaster}}
	}
	requester := func(k notify.Kind) []notify.Mail { return []notify.Mail{{Kind: k, To: notify.ToRequester}} }
	ev := func(typ audit.Type, change func(e *audit.Event)) audit.Event {
		e := audit.Event{Type: typ, Actor: "user:test", OrganizationID: 3, UserID: 9, Serial: "0abc"}
		if change != nil {
			change(&e)
		}
		return e
	}
	tests := []struct {
		name string
		ev   audit.Event
		want []notify.Mail
	}{
		{"certificate issued: to the user", ev(audit.CertificateIssued, nil), user(notify.CertificateIssued)},
		{"certificate renewed: to the user", ev(audit.CertificateRenewed, nil), user(notify.CertificateRenewed)},
		{"certificate revoked: to the user and the master", ev(audit.CertificateRevoked, func(e *audit.Event) { e.Reason = "keyCompromise" }),
			both(notify.CertificateRevoked)},
		{"certificate revoked without a reason given: to both", ev(audit.CertificateRevoked, nil), both(notify.CertificateRevoked)},
		{"superseded by a renewal: none", ev(audit.CertificateRevoked, func(e *audit.Event) { e.Reason = "superseded" }), nil},
		{"never signed: none", ev(audit.CertificateRevoked, func(e *audit.Event) { e.Cause = audit.NeverSigned }), nil},
		{"signing failed: none", ev(audit.CertificateRevoked, func(e *audit.Event) { e.Reason, e.Cause = "unspecified", audit.SigningFailed }), nil},
		{"certificate event without a serial: none", ev(audit.CertificateIssued, func(e *audit.Event) { e.Serial = "" }), nil},
		{"user locked: to the user and the master", ev(audit.UserLocked, func(e *audit.Event) { e.Serial = "" }), both(notify.UserLocked)},
		{"login password changed: to the user", ev(audit.PasswordChanged, func(e *audit.Event) { e.Password = audit.LoginPassword }),
			user(notify.PasswordChanged)},
		{"passwords reset: to the user", ev(audit.PasswordsReset, nil), user(notify.PasswordsReset)},
		{"confirmation password changed: to the user", ev(audit.PasswordChanged, func(e *audit.Event) { e.Password = audit.ConfirmationPassword }),
			user(notify.PasswordChanged)},
		{"expiry notice: to the user", ev(audit.CertificateExpiryNotice, nil), user(notify.ExpiryNotice)},
		{"event about no user: none", ev(audit.UserLocked, func(e *audit.Event) { e.UserID = 0 }), nil},
		{"certificate requested: none", ev(audit.CertificateRequested, nil), nil},
		{"login failed: none", ev(audit.LoginFailed, nil), nil},
		{"mail sent: none", ev(audit.MailSent, nil), nil},
		{"the detail is never read", ev(audit.CertificateRevoked, func(e *audit.Event) { e.Detail = "never signed" }), both(notify.CertificateRevoked)},
		{"transfer requested: to the approvers", ev(audit.TransferRequested, func(e *audit.Event) { e.Serial, e.TransferID = "", 12 }),
			[]notify.Mail{{Kind: notify.TransferAwaitingApproval, To: notify.ToApprovers}}},
		{"batch requested: to the approvers", ev(audit.TransferRequested, func(e *audit.Event) { e.Serial, e.BatchID = "", 5 }),
			[]notify.Mail{{Kind: notify.TransferAwaitingApproval, To: notify.ToApprovers}}},
		{"transfer resubmitted: to the approvers", ev(audit.TransferResubmitted, func(e *audit.Event) { e.TransferID = 12 }),
			[]notify.Mail{{Kind: notify.TransferAwaitingApproval, To: notify.ToApprovers}}},
		{"transfer sent back: to the requester", ev(audit.TransferSentBack, func(e *audit.Event) { e.TransferID = 12 }), requester(notify.TransferSentBack)},
		{"batch sent back: to the requester", ev(audit.TransferSentBack, func(e *audit.Event) { e.BatchID = 5 }), requester(notify.TransferSentBack)},
		{"transfer rejected: to the requester", ev(audit.TransferRejected, func(e *audit.Event) { e.TransferID = 12 }), requester(notify.TransferRejected)},
		{"transfer executed: to the requester", ev(audit.TransferExecuted, func(e *audit.Event) { e.TransferID = 12 }), requester(notify.TransferExecuted)},
		{"transfer failed: to the requester", ev(audit.TransferFailed, func(e *audit.Event) { e.TransferID = 12 }), requester(notify.TransferFailed)},
		{"transfer approved, not executed yet: none", ev(audit.TransferApproved, func(e *audit.Event) { e.TransferID = 12 }), nil},
		{"transfer cancelled by its requester: none", ev(audit.TransferCancelled, func(e *audit.Event) { e.TransferID = 12 }), nil},
		{"interbank file written: none", ev(audit.TransferInterbankSent, func(e *audit.Event) { e.TransferID = 12 }), nil},
		{"transfer event naming no transfer nor batch: none", ev(audit.TransferExecuted, func(e *audit.Event) { e.Detail = "transfer 12 amount 5" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notify.MailsOf(tt.ev)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MailsOf (-want +got):\n%s", diff)
			}
			var want []outbox.Intent
			for _, m := range tt.want {
				want = append(want, outbox.Intent{Kind: string(m.Kind), To: string(m.To)})
			}
			if diff := cmp.Diff(want, notify.Rules{}.Mails(tt.ev)); diff != "" {
				t.Errorf("Rules.Mails (-want +got):\n%s", diff)
			}
		})
	}
}
