package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/notify"
	"kinko/internal/outbox"
)

// oneMailStore is an outbox of one mail with the facts it reads, for the
// rules of composing a banking mail; the store's own SQL is proved by the
// store's and the end-to-end tests.
type oneMailStore struct {
	mail    outbox.Mail
	facts   outbox.Facts
	sent    int
	events  []audit.Event
	failed  int
	dropped string
	done    bool
}

func (s *oneMailStore) ClaimMail(context.Context, time.Time, time.Duration, int) ([]outbox.Mail, error) {
	if s.done {
		return nil, nil
	}
	m := s.mail
	m.Attempts = s.failed
	return []outbox.Mail{m}, nil
}

func (s *oneMailStore) MailFacts(context.Context, outbox.Mail) (outbox.Facts, error) {
	return s.facts, nil
}

func (s *oneMailStore) MarkMailDropped(_ context.Context, _ int64, _ time.Time, why string) error {
	s.dropped, s.done = why, true
	return nil
}

func (s *oneMailStore) MarkMailSent(_ context.Context, _ int64, _ time.Time, ev audit.Event) error {
	s.sent++
	s.events = append(s.events, ev)
	s.done = true
	return nil
}

func (s *oneMailStore) MarkMailFailed(context.Context, int64, time.Time, string) error {
	s.failed++
	return nil
}

// flaky delivers raw messages, failing the delivery number failAt (from 1).
type flaky struct {
	n      int
	failAt int
	raws   [][]byte
	msgs   []notify.Message
}

func (f *flaky) Deliver(_ context.Context, m notify.Message, raw []byte) error {
	f.n++
	if f.n == f.failAt {
		return errors.New("451 try again later")
	}
	f.raws, f.msgs = append(f.raws, raw), append(f.msgs, m)
	return nil
}

func approvalMail() (outbox.Mail, outbox.Facts) {
	ev := audit.Event{At: at, Type: audit.TransferRequested, Actor: "user:clerk01", OrganizationID: 3, UserID: 10, TransferID: 123}
	m := outbox.Mail{ID: 77, Kind: string(notify.TransferAwaitingApproval), To: string(notify.ToApprovers), Event: ev,
		CreatedAt: at, OrganizationID: 3, UserID: 10}
	clerk := outbox.Person{ID: 10, Name: "佐藤 一郎", LoginID: "clerk01", Email: "clerk@hikari.example"}
	f := outbox.Facts{OrganizationName: "ひかり労働組合", User: clerk,
		Payment: &outbox.Payment{TransferID: 123, Status: "awaiting_approval", Amount: 30_000, Count: 1, PayeeName: "ｳｹﾄﾘ",
			PayeeBankCode: "0005", PayeeBranchCode: "001", ExecutionDate: "2026-11-26", Requester: clerk,
			Approvers: []outbox.Person{
				{ID: 1, Name: "山田 花子", LoginID: "master", Email: "master@hikari.example", Master: true},
				clerk, // the requester never approves
				{ID: 11, Name: "鈴木 次郎", LoginID: "appr", Email: "appr@hikari.example"},
				{ID: 12, Name: "ロック", LoginID: "locked", Email: "locked@hikari.example", Locked: true},
				{ID: 13, Name: "削除", LoginID: "deleted", Email: "deleted@hikari.example", Deleted: true},
				{ID: 14, Name: "アドレスなし", LoginID: "noaddr"},
			}}}
	return m, f
}

// TestApprovalMailGoesToEachApproverApart: a transfer awaiting approval is
// one mail of the outbox, delivered to each approver who can be reached
// (never the requester, nor a locked or deleted user, nor one without an
// address) as a message of their own, greeting them, each with a stable
// Message-ID of its own; after a failed delivery the mail is tried again
// whole, with the same Message-IDs, and marked sent once.
func TestApprovalMailGoesToEachApproverApart(t *testing.T) {
	m, f := approvalMail()
	st := &oneMailStore{mail: m, facts: f}
	tr := &flaky{failAt: 2}
	s := &notify.Sender{Store: st, Transport: tr, From: "Bank <noreply@bank.example>", BankName: "テスト労働金庫",
		Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)}
	if n, err := s.RunOnce(context.Background()); err != nil || n != 0 || st.failed != 1 || st.sent != 0 {
		t.Fatalf("first run: %d sent, %v; store %+v; want a failure recorded", n, err, st)
	}
	firstIDs := messageIDs(t, tr.raws)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 1 || st.sent != 1 {
		t.Fatalf("second run: %d sent, %v; store %+v", n, err, st)
	}
	var to []string
	for _, msg := range tr.msgs[len(firstIDs):] {
		to = append(to, msg.To)
	}
	if want := []string{"master@hikari.example", "appr@hikari.example"}; !slices.Equal(to, want) {
		t.Fatalf("delivered to %v, want %v", to, want)
	}
	ids := messageIDs(t, tr.raws[len(firstIDs):])
	if ids[0] == ids[1] || ids[0] != firstIDs[0] {
		t.Errorf("Message-IDs %v after %v: want one per approver, the same at each delivery", ids, firstIDs)
	}
	for i, greet := range []string{"山田 花子 様", "鈴木 次郎 様"} {
		if body := tr.msgs[len(firstIDs)+i].Body; !strings.Contains(body, greet) || !strings.Contains(body, "佐藤 一郎さんから") {
			t.Errorf("mail %d does not greet %q:\n%s", i, greet, body)
		}
	}
	if len(st.events) != 1 || !strings.Contains(st.events[0].Detail, "2 recipients") {
		t.Errorf("mail.sent events %+v, want one naming 2 recipients", st.events)
	}
}

func messageIDs(t *testing.T, raws [][]byte) []string {
	t.Helper()
	var ids []string
	for _, raw := range raws {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	return ids
}

// TestBankingMailDropped: a banking mail with no one to tell, or about a
// transfer that no longer awaits approval or cannot be found, is dropped.
func TestBankingMailDropped(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *outbox.Mail, f *outbox.Facts)
		why    string
	}{
		{"approved before the mail went", func(_ *outbox.Mail, f *outbox.Facts) { f.Payment.Status = "executed" }, "no longer awaits approval"},
		{"no approver with an address", func(_ *outbox.Mail, f *outbox.Facts) { f.Payment.Approvers = f.Payment.Approvers[1:2] }, "no approver"},
		{"transfer not found", func(_ *outbox.Mail, f *outbox.Facts) { f.Payment = nil }, "no such transfer"},
		{"requester without an address", func(m *outbox.Mail, f *outbox.Facts) {
			m.Kind, m.To = string(notify.TransferExecuted), string(notify.ToRequester)
			f.Payment.Requester.Email = ""
		}, "no address"},
		{"requester deleted", func(m *outbox.Mail, f *outbox.Facts) {
			m.Kind, m.To = string(notify.TransferSentBack), string(notify.ToRequester)
			f.Payment.Requester.Deleted = true
		}, "deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, f := approvalMail()
			tt.change(&m, &f)
			st := &oneMailStore{mail: m, facts: f}
			tr := &flaky{}
			s := &notify.Sender{Store: st, Transport: tr, From: "noreply@bank.example", Now: func() time.Time { return at },
				Logger: slog.New(slog.DiscardHandler)}
			if _, err := s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(st.dropped, tt.why) || len(tr.msgs) != 0 {
				t.Errorf("dropped %q with %d delivered, want dropped for %q", st.dropped, len(tr.msgs), tt.why)
			}
		})
	}
}

// TestRequesterMailNamesTheDecision: a send-back goes to the requester
// alone, naming the approver who sent it back and the comment.
func TestRequesterMailNamesTheDecision(t *testing.T) {
	m, f := approvalMail()
	m.Kind, m.To = string(notify.TransferSentBack), string(notify.ToRequester)
	m.Event.Type, m.Event.UserID = audit.TransferSentBack, 1
	f.User = f.Payment.Approvers[0]
	f.Payment.Status, f.Payment.Comment = "sent_back", "金額が違います"
	st := &oneMailStore{mail: m, facts: f}
	tr := &flaky{}
	s := &notify.Sender{Store: st, Transport: tr, From: "noreply@bank.example", Now: func() time.Time { return at },
		Logger: slog.New(slog.DiscardHandler)}
	if n, err := s.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("run: %d, %v", n, err)
	}
	if len(tr.msgs) != 1 || tr.msgs[0].To != "clerk@hikari.example" || tr.msgs[0].RecipientID != 0 {
		t.Fatalf("delivered %+v, want one mail to the requester", tr.msgs)
	}
	for _, w := range []string{"佐藤 一郎 様", "山田 花子さんにより差し戻されました", "コメント: 金額が違います", "30,000円"} {
		if !strings.Contains(tr.msgs[0].Body, w) {
			t.Errorf("body lacks %q:\n%s", w, tr.msgs[0].Body)
		}
	}
}
