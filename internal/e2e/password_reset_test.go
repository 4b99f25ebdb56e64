package e2e_test

// Tests of the master's reset of a general user's passwords through the
// JSON API: new initial passwords shown once, to be changed at the next
// login; the user's sessions end and the lock is lifted.

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/notify"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// waitMail waits for the first mail of kind (X-Kinko-Kind) and returns
// its body, decoded.
func waitMail(t *testing.T, smtpd *testutil.SMTPServer, kind string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range smtpd.Received() {
			msg, err := mail.ReadMessage(bytes.NewReader(r.Raw))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Header.Get("X-Kinko-Kind") != kind {
				continue
			}
			var body io.Reader = msg.Body
			if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64") {
				body = base64.NewDecoder(base64.StdEncoding, msg.Body)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s mail arrived", kind)
	return ""
}

func passwordResetPath(loginID string) string { return "/api/v1/users/" + loginID + "/password-reset" }

func TestMasterResetsGeneralUsersPasswords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		smtpd := testutil.StartSMTPServer(t, testutil.SMTPOptions{})
		b := testutil.NewBankAt(t, db, bankingNow, func(p *server.Parts) {
			p.SMTP = &notify.SMTP{Host: smtpd.Host, Port: smtpd.Port, From: "テスト労働金庫 <noreply@bank.example>", RootCAs: smtpd.RootCAs}
		})
		org := b.NewOrg(t, "再設定労組", false)
		g := b.NewGeneralUser(t, org)
		other := b.NewOrg(t, "隣の再設定労組", false)
		og := b.NewGeneralUser(t, other)
		master := passwordLogin(t, b, org.Master)
		old := passwordLogin(t, b, g)
		b.LockUser(t, g.LoginID)

		reset := func(cl *testutil.Client, target, confirmation string) testutil.Response {
			return cl.Portal(http.MethodPost, passwordResetPath(target), map[string]string{"confirmation_password": confirmation})
		}
		expect(t, "another organization's user", reset(master, og.LoginID, org.Master.Confirmation), http.StatusNotFound, "not_found")
		expect(t, "another organization's master", reset(master, other.Master.LoginID, org.Master.Confirmation), http.StatusNotFound, "not_found")
		expect(t, "the master's own", reset(master, org.Master.LoginID, org.Master.Confirmation), http.StatusForbidden, "master_reset_by_bank")
		expect(t, "a general user", reset(passwordLogin(t, b, og), og.LoginID, og.Confirmation), http.StatusForbidden, "forbidden")
		expect(t, "a wrong confirmation password", reset(master, g.LoginID, wrongPassword), http.StatusForbidden, "invalid_confirmation_password")

		r := reset(master, g.LoginID, org.Master.Confirmation)
		expect(t, "reset", r, http.StatusOK, "")
		pw, conf := r.String("password"), r.String("confirmation_password")
		if pw == "" || conf == "" || r.Body["password_change_required"] != true || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reset answered %s (Cache-Control %q)", r.Raw, r.Header.Get("Cache-Control"))
		}
		expect(t, "the clerk's old session", old.Portal(http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
		expect(t, "the old password", b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password}),
			http.StatusUnauthorized, "invalid_credentials")

		cl := b.Client(nil)
		r = cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": pw})
		expect(t, "login with the new password (the lock lifted)", r, http.StatusCreated, "")
		if r.Body["password_change_required"] != true {
			t.Fatalf("login after the reset: %s", r.Raw)
		}
		expect(t, "before the change", cl.Portal(http.MethodGet, "/api/v1/accounts", nil), http.StatusForbidden, "password_change_required")
		expect(t, "login password change", cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": pw, "new": "Renewed-login-1"}), http.StatusOK, "")
		r = cl.Portal(http.MethodPost, "/api/v1/me/confirmation-password", map[string]string{"current": conf, "new": "Renewed-confirm-1"})
		expect(t, "confirmation password change", r, http.StatusOK, "")
		if r.Body["password_change_required"] != false {
			t.Fatalf("after both changes: %s", r.Raw)
		}

		evs, err := b.DB.ListAudit(ctx, store.AuditFilter{OrganizationID: org.ID, Type: audit.PasswordsReset})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Actor != audit.UserActor(org.Master.LoginID) {
			t.Fatalf("audit of the reset: %+v", evs)
		}

		// The clerk is told by mail, without the passwords.
		body := waitMail(t, smtpd, "passwords_reset")
		for _, want := range []string{"マスターユーザが、あなたのログインパスワードと確認用パスワードを再設定しました", g.LoginID} {
			if !strings.Contains(body, want) {
				t.Errorf("the reset mail lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, pw) || strings.Contains(body, conf) {
			t.Errorf("the reset mail carries a password:\n%s", body)
		}
	})
}
