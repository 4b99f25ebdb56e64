package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/identity"
	mailbox "kinko/internal/outbox"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestMailFactsOfATransfer: the facts of a banking mail, read when it is
// sent: the transfer, its requester, and as approvers the master user and
// the users with the approval privilege, never the requester, nor a user
// without the privilege, deleted, locked or without an address; the
// comment of the send-back the event records.
func TestMailFactsOfATransfer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		user := func(p banking.Privileges, change string) identity.User {
			u := unitUser(t, db, org)
			unitTx(t, db, func(ctx context.Context, tx banking.Tx) error {
				return tx.SetPrivileges(ctx, u.ID, org.ID, p, unitT0)
			})
			if change != "" {
				unitExec(t, db, `UPDATE users SET `+change+` WHERE id = $1`, u.ID)
			}
			return u
		}
		all := banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000}
		requester := user(all, "")
		approver := user(banking.Privileges{Approval: true}, "")
		user(banking.Privileges{Inquiry: true, TransferRequest: true}, "") // no approval
		user(banking.Privileges{Approval: true}, "locked_at = 1")          // locked
		user(banking.Privileges{Approval: true}, "deleted_at = 1")         // deleted
		user(banking.Privileges{Approval: true}, "email = ''")             // no address
		from := unitAccount(t, db, org, 100_000)
		tr := unitTransfer(t, db, requester, from, nil, 30_000, 0)

		m := mailbox.Mail{ID: 1, UserID: requester.ID, Event: audit.Event{At: unitT0, Type: audit.TransferRequested,
			OrganizationID: org.ID, UserID: requester.ID, TransferID: tr.ID}}
		f, err := db.MailFacts(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		person := func(u identity.User) mailbox.Person {
			return mailbox.Person{ID: u.ID, Name: u.Name, LoginID: u.LoginID, Email: u.Email, Master: u.Role == identity.RoleMaster}
		}
		want := &mailbox.Payment{TransferID: tr.ID, Status: "awaiting_approval", Amount: 30_000, Count: 1, PayeeName: "ﾀﾅｶ",
			PayeeBankCode: "0005", PayeeBranchCode: "001", ExecutionDate: unitDay.String(), Requester: person(requester),
			Approvers: []mailbox.Person{person(master), person(approver)}}
		if diff := cmp.Diff(want, f.Payment); diff != "" {
			t.Errorf("payment (-want +got):\n%s", diff)
		}

		// Sent back with a comment: the comment of that step.
		back := unitT0.Add(time.Hour)
		unitTx(t, db, func(ctx context.Context, tx banking.Tx) error {
			if err := tx.AppendHistory(ctx, banking.HistoryEntry{TransferID: tr.ID, At: back, Actor: "user:a", UserID: approver.ID,
				Action: banking.HistorySentBack, Comment: "金額が違います"}); err != nil {
				return err
			}
			return tx.SetStatus(ctx, banking.Unit{TransferID: tr.ID}, banking.StatusChange{Status: banking.StatusSentBack, At: back})
		})
		m.UserID = approver.ID
		m.Event = audit.Event{At: back, Type: audit.TransferSentBack, OrganizationID: org.ID, UserID: approver.ID, TransferID: tr.ID}
		f, err = db.MailFacts(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if f.Payment == nil || f.Payment.Comment != "金額が違います" || f.Payment.Status != "sent_back" ||
			f.Payment.Requester.ID != requester.ID || f.User.ID != approver.ID || f.Payment.Approvers != nil {
			t.Errorf("facts of the send-back: %+v, payment %+v", f, f.Payment)
		}

		// A transfer that is not there: no payment.
		m.Event.TransferID = tr.ID + 1000
		if f, err = db.MailFacts(ctx, m); err != nil || f.Payment != nil {
			t.Errorf("facts of a missing transfer: %+v, %v", f.Payment, err)
		}
	})
}
