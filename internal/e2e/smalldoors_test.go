package e2e_test

// The small doors of the hardening: what a stranger can send before
// logging in, through the real listeners, on both engines.

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/notify"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// dialTLS12 makes a TLS 1.2 handshake with the listener at base offering
// only suites, and returns its error.
func dialTLS12(t testing.TB, b *testutil.Bank, base string, suites []uint16) error {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{RootCAs: b.Roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites,
		Time: b.Clock.Now,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{}, nil
		}}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", u.Host, conf)
	if err != nil {
		return err
	}
	return conn.Close()
}

// TestHardening_OversizedBodyIs413: a JSON body over the limit is 413
// request_too_large on both portals, as docs/api.md says, not 400.
func TestHardening_OversizedBodyIs413(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		cl := b.Client(nil)
		big := map[string]string{"login_id": "m00001", "password": strings.Repeat("x", 100<<10)}
		expect(t, "a 100 KiB login on the portal", cl.Portal("POST", "/api/v1/sessions", big), http.StatusRequestEntityTooLarge, "request_too_large")
		expect(t, "a 100 KiB issuance request", cl.Portal("POST", "/api/v1/certificates", big), http.StatusRequestEntityTooLarge, "request_too_large")
	})
}

func TestHardening_TLS12OffersAEADSuitesOnly(t *testing.T) {
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	aead := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for name, base := range map[string]string{"portal": b.PortalURL, "certificate portal": b.CertPortalURL} {
			if err := dialTLS12(t, b, base, cbc); err == nil {
				t.Errorf("%s: a TLS 1.2 client offering only CBC and non-ECDHE suites completed the handshake", name)
			}
			if err := dialTLS12(t, b, base, aead); err != nil {
				t.Errorf("%s: a TLS 1.2 client offering ECDHE AES-GCM: %v", name, err)
			}
		}
	})
}

// TestHardening_NamesRefuseHiddenCharacters: a user's name, a payee's
// nickname and a transfer's memo refuse bidirectional overrides,
// zero-width and C1 control characters.
func TestHardening_NamesRefuseHiddenCharacters(t *testing.T) {
	hidden := map[string]string{
		"right-to-left override": "経理\u202e部",
		"zero-width space":       "経理\u200b部",
		"C1 control":             "経理\u0085部",
		"first strong isolate":   "経理\u2068部",
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "見えない文字対策労組", false)
		n := 0
		for what, s := range hidden {
			n++
			r := o.master.do(http.MethodPost, pathUsers, map[string]string{"login_id": "hide" + string(rune('0'+n)) + "abc", "name": s, "email": "hide@example.org"})
			expect(t, "a user named with a "+what, r, http.StatusBadRequest, "invalid_name")
			payee := payeeTo(o.second)
			payee["nickname"] = s
			expect(t, "a payee nicknamed with a "+what, o.master.do(http.MethodPost, "/api/v1/payees", payee), http.StatusBadRequest, "invalid_payee")
			body := o.transferBody(1000)
			body["memo"] = s
			expect(t, "a memo with a "+what, o.requester.do(http.MethodPost, "/api/v1/transfers", body), http.StatusBadRequest, "invalid_memo")
		}
		r := o.master.do(http.MethodPost, pathUsers, map[string]string{"login_id": "plain1abc", "name": "経理 部", "email": "plain@example.org"})
		if r.Status != http.StatusCreated {
			t.Errorf("a plain name: %d %s", r.Status, r.Raw)
		}
	})
}

// TestHardening_LoginIDsWithoutRegardToCase: a login ID that differs from
// another only in case is refused with login_id_taken, and a user logs in
// whatever case the login ID is typed in, on the portal's pages' API.
func TestHardening_LoginIDsWithoutRegardToCase(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "大小文字労組", false)
		g := b.NewGeneralUser(t, org)
		master := passwordLogin(t, b, org.Master)
		r := master.Portal(http.MethodPost, pathUsers, map[string]string{"login_id": strings.ToUpper(g.LoginID), "name": "別人", "email": "other@example.org"})
		expect(t, "a user "+strings.ToUpper(g.LoginID)+" beside "+g.LoginID, r, http.StatusConflict, "login_id_taken")
		for _, typed := range []string{strings.ToUpper(g.LoginID), strings.ToUpper(g.LoginID[:1]) + g.LoginID[1:]} {
			cl := b.Client(nil)
			r := cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": typed, "password": g.Password})
			expect(t, "password login typed as "+typed, r, http.StatusCreated, "")
			me := cl.Portal(http.MethodGet, "/api/v1/me", nil)
			if me.String("login_id") != g.LoginID {
				t.Errorf("logged in as %s: /api/v1/me says %q, want the login ID as recorded %q", typed, me.String("login_id"), g.LoginID)
			}
		}
	})
}

// TestHardening_PasswordChangeRefusesGuessablePasswords: the API refuses a
// new login or confirmation password that is easy to guess with
// password_too_guessable, and takes a strong one.
func TestHardening_PasswordChangeRefusesGuessablePasswords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "推測対策労組", false)
		cl := passwordLogin(t, b, org.Master)
		for _, weak := range []string{"password123", "P@ssw0rd2024", "1qaz2wsx3edc", org.Master.LoginID + "2026"} {
			expect(t, "login password "+weak, cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": org.Master.Password, "new": weak}),
				http.StatusBadRequest, "password_too_guessable")
			expect(t, "confirmation password "+weak, cl.Portal(http.MethodPost, "/api/v1/me/confirmation-password", map[string]string{"current": org.Master.Confirmation, "new": weak}),
				http.StatusBadRequest, "password_too_guessable")
		}
		expect(t, "a strong login password", cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": org.Master.Password, "new": "hikari-tsukue-kumiai"}),
			http.StatusOK, "")
	})
}

// forgedHost sends every request with the Host header (HTTP/2 :authority)
// of an attacker's site; TLS still goes to the bank's listener.
type forgedHost struct{ next http.RoundTripper }

const attackerHost = "evil.example"

func (f forgedHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = attackerHost
	return f.next.RoundTrip(r)
}

// TestHardening_PagesNeverUseTheHostHeader: with a forged Host header, no
// page, redirect or mail of either portal names the forged host.
func TestHardening_PagesNeverUseTheHostHeader(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		smtpd := testutil.StartSMTPServer(t, testutil.SMTPOptions{})
		b := testutil.NewBankWith(t, db, func(p *server.Parts) {
			p.SMTP = &notify.SMTP{Host: smtpd.Host, Port: smtpd.Port, From: "noreply@bank.example", RootCAs: smtpd.RootCAs}
		})
		org := b.NewOrg(t, "偽ホスト労組", false)
		certOrg := b.NewOrg(t, "偽ホスト証明書労組", true)
		forge := func(cl *testutil.Client) *testutil.Client {
			cl.HTTP.Transport = forgedHost{cl.HTTP.Transport}
			cl.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			return cl
		}
		check := func(what string, r testutil.Response) {
			t.Helper()
			if r.Err != nil {
				t.Fatalf("%s: %v", what, r.Err)
			}
			if strings.Contains(string(r.Raw), attackerHost) || strings.Contains(r.Header.Get("Location"), attackerHost) {
				t.Errorf("%s (%d) names the forged host: Location %q\n%s", what, r.Status, r.Header.Get("Location"), r.Raw)
			}
		}
		anon := forge(b.Client(nil))
		for _, p := range []string{"/", "/login", "/issue", "/apply", "/security", "/hours", "/home", "/certificate", "/no-such-page"} {
			check("portal "+p, anon.Portal(http.MethodGet, p, nil))
			check("certificate portal without a certificate "+p, anon.CertPortal(http.MethodGet, p, nil))
		}
		user := forge(b.Client(nil))
		check("password login", user.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}))
		for _, p := range []string{"/", "/home", "/certificate", "/users", "/password", "/login"} {
			check("portal, logged in, "+p, user.Portal(http.MethodGet, p, nil))
		}
		key := newKey(t)
		r := forge(b.Client(nil)).Portal(http.MethodPost, pathCertificates, map[string]string{
			"login_id": certOrg.Master.LoginID, "password": certOrg.Master.Password, "csr": testutil.NewCSR(t, key)})
		expect(t, "issuance with a forged Host", r, http.StatusCreated, "")
		check("issuance", r)
		cert := testutil.CertificateFromResponse(t, r, key)
		cc := forge(b.Client(cert))
		check("certificate login", cc.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": certOrg.Master.Password}))
		for _, p := range []string{"/", "/home", "/certificate", "/users", "/no-such-page"} {
			check("certificate portal, logged in, "+p, cc.CertPortal(http.MethodGet, p, nil))
		}
		mails := smtpd.WaitReceived(1, 30*time.Second)
		if len(mails) == 0 {
			t.Fatal("no mail of the issuance arrived")
		}
		for _, m := range mails {
			body := string(m.Raw)
			if msg, err := mail.ReadMessage(bytes.NewReader(m.Raw)); err == nil {
				if raw, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body)); err == nil {
					body += string(raw)
				}
			}
			if strings.Contains(body, attackerHost) {
				t.Errorf("the mail to %v names the forged host:\n%s", m.To, body)
			}
		}
	})
}
