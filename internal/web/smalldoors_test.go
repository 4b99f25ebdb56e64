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

// TestHardening_PasswordChangeRefusesGuessablePasswords: the password page
// refuses a common password, and one made of the user's login ID, with the
// message that says what to do; a long one is taken.
func TestHardening_PasswordChangeRefusesGuessablePasswords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "推測対策労働組合", false)
		c := b.Client(nil)
		wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
		change := func(kind, current, next string) page {
			p := get(t, c, b.PortalURL+"/password")
			return post(t, c, b.PortalURL+"/password", url.Values{"csrf_token": {csrfToken(t, p)}, "kind": {kind},
				"current": {current}, "new": {next}, "again": {next}})
		}
		for _, weak := range []string{"Password1!", "qwertyuiop", org.Master.LoginID + "!1"} {
			p := change("login", org.Master.Password, weak)
			wantPage(t, p, http.StatusBadRequest, "/password")
			wantText(t, p, msg(t, "ja", "error.password_too_guessable"))
		}
		setLanguage(t, b, c, "en")
		p := change("confirmation", org.Master.Confirmation, "Sakura2026")
		wantPage(t, p, http.StatusBadRequest, "/password")
		wantText(t, p, msg(t, "en", "error.password_too_guessable"))
		p = change("login", org.Master.Password, "kumiai-tsukue-hikari")
		wantText(t, p, msg(t, "en", "page.password.done_login"))
	})
}
