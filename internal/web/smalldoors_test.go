package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// logBuffer is a log's text, written by the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestHardening_OversizedUploadAndFormGetTheirPage: a 総合振込 file over
// the limit gets the page that says so with 413, and a form body over its
// limit gets 413 too; neither is an internal error in the log.
func TestHardening_OversizedUploadAndFormGetTheirPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		logs := &logBuffer{}
		b := testutil.NewBankAt(t, db, bankingDay, func(p *server.Parts) {
			p.Logger = slog.New(slog.NewTextHandler(logs, nil))
		})
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 100_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		form := get(t, gc, b.PortalURL+"/transfers/batch")
		tok := csrfToken(t, form)
		fields := map[string]string{"from_account": itoa(s.account.ID), "execution_date": "2026-12-01",
			"idempotency_key": hiddenFields(form).Get("idempotency_key")}
		for _, size := range []int{1<<20 + 1, 1<<20 + 8<<10, 3 << 20, 12 << 20} {
			p := upload(t, b, gc, tok, fields, "big.txt", bytes.Repeat([]byte("1"), size))
			if p.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("a file of %d bytes: %d, want 413", size, p.Status)
			}
			wantText(t, p, msg(t, "ja", "banking.error.file_too_large"))
		}

		big := url.Values{"csrf_token": {tok}, "payee_name": {strings.Repeat("あ", 20<<10)}}
		p := post(t, gc, b.PortalURL+"/payees", big)
		if p.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("a 60 KiB form: %d, want 413\n%s", p.Status, p.Text)
		}
		wantText(t, p, msg(t, "ja", "error.request_too_large"))
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("an oversized request is logged as an error:\n%s", logs.String())
		}
	})
}
