package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/notify"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// bankingMail is a banking mail as it arrived at the SMTP server.
type bankingMail struct {
	kind, to, from, envelopeFrom, messageID, subject, body string
}

// bankingMails returns the banking mails (X-Kinko-Kind transfer_*) the
// SMTP server has received, in order of arrival, decoded.
func bankingMails(t *testing.T, smtpd *testutil.SMTPServer) []bankingMail {
	t.Helper()
	var out []bankingMail
	dec := new(mime.WordDecoder)
	for _, r := range smtpd.Received() {
		msg, err := mail.ReadMessage(bytes.NewReader(r.Raw))
		if err != nil {
			t.Fatal(err)
		}
		kind := msg.Header.Get("X-Kinko-Kind")
		if !strings.HasPrefix(kind, "transfer_") {
			continue
		}
		subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		from, err := dec.DecodeHeader(msg.Header.Get("From"))
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, msg.Body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bankingMail{kind: kind, to: strings.Join(r.To, ","), from: from, envelopeFrom: r.From,
			messageID: msg.Header.Get("Message-ID"), subject: subject, body: string(b)})
	}
	return out
}

// waitBankingMails waits until n banking mails have arrived, and returns
// the ones after the first skip of them.
func waitBankingMails(t *testing.T, smtpd *testutil.SMTPServer, n, skip int) []bankingMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := bankingMails(t, smtpd)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d banking mails arrived, want %d: %+v", len(got), n, got)
			}
			return got[skip:]
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func addressOf(a actor) string { return a.creds.LoginID + "@example.org" }

// TestBankingMails: through the server and its mail job, over SMTP, on
// both engines. A transfer awaiting approval is mailed to each user who
// may approve it (the master user, the users with the approval privilege),
// a message each, never to the requester nor to users without the
// approval privilege; the send-back is mailed to the requester with its
// comment; the resubmission to the approvers again; its execution on
// approval to the requester; a transfer that fails on its date (不能) to
// the requester with the reason; a batch (総合振込) awaiting approval to
// the approvers, and its rejection to the requester. Every mail comes
// from the configured sender, with a name, carries no link, and names
// the amount.
func TestBankingMails(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		smtpd := testutil.StartSMTPServer(t, testutil.SMTPOptions{})
		b := testutil.NewBankAt(t, db, bankingNow, func(p *server.Parts) {
			p.BankName = "テスト労働金庫"
			p.SMTP = &notify.SMTP{Host: smtpd.Host, Port: smtpd.Port, From: "テスト労働金庫 <noreply@bank.example>", RootCAs: smtpd.RootCAs}
		})
		o := newBankOrg(t, b, "振込メール労組", false)
		approvers := []string{addressOf(o.master), addressOf(o.approval), addressOf(o.approver)}
		slices.Sort(approvers)
		// toApprovers checks mails tell each approver, once each, of
		// what the requester asks, naming want.
		toApprovers := func(what string, mails []bankingMail, want ...string) {
			t.Helper()
			var to, ids []string
			for _, m := range mails {
				to, ids = append(to, m.to), append(ids, m.messageID)
				if m.kind != string(notify.TransferAwaitingApproval) || !strings.Contains(m.subject, "承認待ち") {
					t.Errorf("%s: mail %s %q, want awaiting approval", what, m.kind, m.subject)
				}
				for _, w := range append([]string{"振込メール労組", "依頼者: 一般 " + o.requester.creds.LoginID, "様"}, want...) {
					if !strings.Contains(m.body, w) {
						t.Errorf("%s: the mail to %s lacks %q:\n%s", what, m.to, w, m.body)
					}
				}
			}
			slices.Sort(to)
			if !slices.Equal(to, approvers) {
				t.Errorf("%s: mailed to %v, want the master and the approvers %v (not the requester, not users without approval)", what, to, approvers)
			}
			slices.Sort(ids)
			if len(slices.Compact(ids)) != len(mails) {
				t.Errorf("%s: Message-IDs %v, want one of its own for each", what, ids)
			}
		}
		toRequester := func(what string, m bankingMail, kind notify.Kind, want ...string) {
			t.Helper()
			if m.kind != string(kind) || m.to != addressOf(o.requester) {
				t.Errorf("%s: mail %s to %s, want %s to the requester %s", what, m.kind, m.to, kind, addressOf(o.requester))
			}
			for _, w := range append([]string{"振込メール労組", "一般 " + o.requester.creds.LoginID + " 様"}, want...) {
				if !strings.Contains(m.body, w) {
					t.Errorf("%s: the mail lacks %q:\n%s", what, w, m.body)
				}
			}
		}

		// A transfer requested: to the approvers.
		id := o.requestTransfer(t, o.requester, 5000)
		mails := waitBankingMails(t, smtpd, 3, 0)
		toApprovers("requested", mails, fmt.Sprintf("振込の番号: %d", id), "金額: 5,000円", o.second.HolderName,
			"振込指定日: 2026年12月9日", "Amount: JPY 5,000")
		for _, m := range mails {
			if m.from != "テスト労働金庫 <noreply@bank.example>" || m.envelopeFrom != "noreply@bank.example" ||
				!strings.Contains(m.subject, "【テスト労働金庫】") || strings.Contains(m.body, "http") {
				t.Errorf("mail from %q (envelope %q), subject %q: want the configured sender and the bank's name, no link", m.from, m.envelopeFrom, m.subject)
			}
		}

		// Sent back with a comment: to the requester.
		path := fmt.Sprintf("/api/v1/transfers/%d", id)
		expect(t, "send back", o.approver.decide(http.MethodPost, path+"/send-back", map[string]string{"comment": "金額は4,000円です"}), http.StatusOK, "")
		mails = waitBankingMails(t, smtpd, 4, 3)
		toRequester("sent back", mails[0], notify.TransferSentBack, "差し戻されました", "コメント: 金額は4,000円です",
			"一般 "+o.approver.creds.LoginID+"さんにより")

		// Resubmitted: to the approvers again; approved and executed: to
		// the requester.
		expect(t, "resubmit", o.requester.do(http.MethodPut, path, o.transferBody(4000)), http.StatusOK, "")
		toApprovers("resubmitted", waitBankingMails(t, smtpd, 7, 4), "金額: 4,000円")
		expect(t, "approve", o.approver.decide(http.MethodPost, path+"/approval", map[string]string{"confirmation_password": o.approver.creds.Confirmation}),
			http.StatusOK, "")
		mails = waitBankingMails(t, smtpd, 8, 7)
		toRequester("executed", mails[0], notify.TransferExecuted, "実行されました", "金額: 4,000円")

		// A batch awaiting approval: to the approvers; rejected: to the
		// requester.
		r := o.requester.do(http.MethodPost, "/api/v1/transfer-batches", map[string]any{"from_account_id": o.main.ID, "execution_date": "2026-12-10",
			"file": base64.StdEncoding.EncodeToString(o.zenginFile(t, 1000, 2500)), "file_name": "sogo.txt"})
		expect(t, "upload a batch", r, http.StatusCreated, "")
		batch := idOf(t, r)
		toApprovers("batch", waitBankingMails(t, smtpd, 11, 8), fmt.Sprintf("総合振込の番号: %d", batch), "件数: 2件", "合計金額: 3,500円",
			"総合振込の承認の依頼")
		expect(t, "reject the batch", o.approval.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfer-batches/%d/rejection", batch),
			map[string]string{"comment": "今月分ではありません"}), http.StatusOK, "")
		mails = waitBankingMails(t, smtpd, 12, 11)
		toRequester("batch rejected", mails[0], notify.TransferRejected, "総合振込が、", "却下されました", "コメント: 今月分ではありません")

		// A transfer for tomorrow, approved, that finds too little money
		// on its date: failed (不能), to the requester.
		body := o.transferBody(4_000_000)
		body["execution_date"] = "2026-12-10"
		r = o.requester.do(http.MethodPost, "/api/v1/transfers", body)
		expect(t, "request for tomorrow", r, http.StatusCreated, "")
		big := idOf(t, r)
		toApprovers("requested for tomorrow", waitBankingMails(t, smtpd, 15, 12), "金額: 4,000,000円", "振込指定日: 2026年12月10日")
		expect(t, "approve for tomorrow", o.master.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", big),
			map[string]string{"confirmation_password": o.master.creds.Confirmation}), http.StatusOK, "")
		b.Clock.Set(bankingNow.Add(24 * time.Hour))
		if _, err := b.Services.Banking.ExecuteDue(context.Background(), calendar.DateOf(bankingNow.Add(24*time.Hour))); err != nil {
			t.Fatalf("execute due: %v", err)
		}
		if st := transferStatus(t, b, o, big); st != "failed" {
			t.Fatalf("transfer %d is %s, want failed", big, st)
		}
		mails = waitBankingMails(t, smtpd, 16, 15)
		toRequester("failed", mails[0], notify.TransferFailed, "不能", "残高不足", "金額: 4,000,000円")
	})
}
