package web_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestIdleTimeout: after 15 minutes without a request the session ends, and
// the next page says so and leads back to the login.
func TestIdleTimeout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "じかんぎれ労働組合", false)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
				b.Clock.Advance(14 * time.Minute)
				wantPage(t, get(t, c, b.PortalURL+"/certificate"), http.StatusOK, "/certificate")
				b.Clock.Advance(16 * time.Minute)
				p := get(t, noRedirects(c), b.PortalURL+"/home")
				if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/session-ended" {
					t.Fatalf("after 16 idle minutes: %d to %q, want 303 to /session-ended", p.Status, p.Header.Get("Location"))
				}
				if ck := cookieNamed(p, httpedge.PortalCookie); ck == nil || ck.MaxAge >= 0 {
					t.Errorf("the session cookie was not cleared: %+v", ck)
				}
				p = get(t, c, b.PortalURL+"/session-ended")
				wantPage(t, p, http.StatusOK, "/session-ended")
				wantTitle(t, p, lang, "page.session_ended.title")
				wantText(t, p, msg(t, lang, "page.session_ended.text", 15), msg(t, lang, "action.login_again"))
				if !strings.Contains(p.Raw, `href="/login"`) {
					t.Error("no link to log in again")
				}
				// Without a session cookie the pages go to the login.
				wantPage(t, get(t, c, b.PortalURL+"/home"), http.StatusOK, "/login")
			})
		}
		t.Run("certificate portal", func(t *testing.T) {
			corg := b.NewOrg(t, "じかんぎれ労働組合 証明書", true)
			c := b.Client(b.IssueCertificate(t, corg.Master))
			wantPage(t, certificateLogin(t, b, c, corg.Master.Password), http.StatusOK, "/home")
			b.Clock.Advance(16 * time.Minute)
			p := get(t, c, b.CertPortalURL+"/certificate")
			wantPage(t, p, http.StatusOK, "/session-ended")
			wantText(t, p, msg(t, "ja", "page.session_ended.text", 15))
			if !strings.Contains(p.Raw, `class="button button-primary" href="/"`) {
				t.Error("no link to the certificate login")
			}
			wantPage(t, certificateLogin(t, b, c, corg.Master.Password), http.StatusOK, "/home")
		})
	})
}

func TestLogout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "さようなら労働組合", false)
		c := b.Client(nil)
		top := passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
		wantPage(t, top, http.StatusOK, "/home")
		u, _ := url.Parse(b.PortalURL)
		var token string
		for _, ck := range c.HTTP.Jar.Cookies(u) {
			if ck.Name == httpedge.PortalCookie {
				token = ck.Value
			}
		}
		if !strings.Contains(top.Raw, `<form class="logout-form" method="post" action="/logout">`) {
			t.Fatal("no logout form on the top screen")
		}
		p := post(t, c, b.PortalURL+"/logout", url.Values{"csrf_token": {csrfToken(t, top)}})
		wantPage(t, p, http.StatusOK, "/logged-out")
		wantTitle(t, p, "ja", "page.logged_out.title")
		wantPage(t, get(t, c, b.PortalURL+"/home"), http.StatusOK, "/login")
		// The session has ended on the server, not only in the browser.
		replay := b.Client(nil)
		replay.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: httpedge.PortalCookie, Value: token}})
		if me := replay.Portal(http.MethodGet, "/api/v1/me", nil); me.Status != http.StatusUnauthorized {
			t.Errorf("the old session after logout: %d, want 401", me.Status)
		}
	})
}

// TestR10_CertificatePortalLogin: the certificate portal shows whose
// certificate was presented, logs in with the login password, and the
// certificate page shows its validity in plain words.
func TestR10_CertificatePortalLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ひかり労働組合 西支部", true)
		user := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, user)
		notAfter, serial := cert.Leaf.NotAfter, strings.ToLower(cert.Leaf.SerialNumber.Text(16))
		days := int((notAfter.Sub(b.Clock.Now()) + 24*time.Hour - 1) / (24 * time.Hour))
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := b.Client(cert)
				setLanguage(t, b, c, lang)
				form := get(t, c, b.CertPortalURL+"/")
				wantPage(t, form, http.StatusOK, "/")
				wantTitle(t, form, lang, "page.certlogin.title")
				wantText(t, form, org.Name, user.LoginID, msg(t, lang, "cert.expires_in", dateTime(t, lang, notAfter), days))
				if !strings.Contains(form.Raw, `<label for="password">`) {
					t.Error("the password input has no label")
				}
				// The header leads to the portal's public pages.
				if !strings.Contains(form.Raw, `href="`+b.PortalURL+`/faq"`) {
					t.Error("no link to the portal's Q&A")
				}
				wrong := post(t, c, b.CertPortalURL+"/", url.Values{"csrf_token": {csrfToken(t, form)}, "password": {"Wrong-pass1"}})
				wantPage(t, wrong, http.StatusUnauthorized, "/")
				wantText(t, wrong, msg(t, lang, "error.invalid_login_password"), user.LoginID)

				top := certificateLogin(t, b, c, user.Password)
				wantPage(t, top, http.StatusOK, "/home")
				wantText(t, top, msg(t, lang, "page.home.organization_value", org.Name, org.Code),
					msg(t, lang, "role.general"), msg(t, lang, "page.home.method_certificate"))
				// Logged in: the certificate portal's top goes to the top screen.
				wantPage(t, get(t, c, b.CertPortalURL+"/"), http.StatusOK, "/home")

				info := get(t, c, b.CertPortalURL+"/certificate")
				wantPage(t, info, http.StatusOK, "/certificate")
				wantTitle(t, info, lang, "page.certificate.title")
				wantText(t, info, serial, dateTime(t, lang, cert.Leaf.NotBefore), dateTime(t, lang, notAfter),
					msg(t, lang, "page.certificate.plain", dateTime(t, lang, notAfter), days),
					msg(t, lang, "page.certificate.days_left_value", days))

				out := post(t, c, b.CertPortalURL+"/logout", url.Values{"csrf_token": {csrfToken(t, info)}})
				wantPage(t, out, http.StatusOK, "/logged-out")
				wantPage(t, get(t, c, b.CertPortalURL+"/home"), http.StatusOK, "/")
			})
		}
	})
}

// TestR12_RevokedCertificatePage: a certificate revoked while its
// keep-alive connection is open is refused on the next page, with a page
// that says what to do.
func TestR12_RevokedCertificatePage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "しっこう労働組合", true)
		user := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, user)
		c := b.Client(cert)
		wantPage(t, certificateLogin(t, b, c, user.Password), http.StatusOK, "/home")
		master := b.Client(b.IssueCertificate(t, org.Master))
		if r := master.CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": org.Master.Password}); r.Status != http.StatusCreated {
			t.Fatalf("master login: %d %s", r.Status, r.Raw)
		}
		if r := master.CertPortal(http.MethodPost, "/api/v1/users/"+user.LoginID+"/certificate/revocation",
			map[string]string{"reason": "keyCompromise", "confirmation_password": org.Master.Confirmation}); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		// The same keep-alive connection: the handshake is not repeated.
		p := get(t, c, b.CertPortalURL+"/certificate")
		if p.Status != http.StatusForbidden {
			t.Fatalf("after revocation: %d at %s, want 403", p.Status, p.URL.Path)
		}
		wantText(t, p, msg(t, "ja", "error.certificate_revoked"), msg(t, "ja", "error.certificate_help.heading"))
		if !strings.Contains(p.Raw, `href="`+b.PortalURL+`/issue"`) {
			t.Error("no link to the issuance page")
		}
	})
}

// TestCertificatePageWithoutCertificate: a password-login user has no
// certificate, and the page says why.
func TestCertificatePageWithoutCertificate(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	org := b.NewOrg(t, "パスワード労働組合", false)
	c := b.Client(nil)
	wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
	p := get(t, c, b.PortalURL+"/certificate")
	wantPage(t, p, http.StatusOK, "/certificate")
	wantText(t, p, msg(t, "ja", "page.certificate.none"), msg(t, "ja", "page.certificate.none_password"))
}

// TestR11_R12_CertificatePortalExplainsRefusals: a browser without a
// certificate, or with one that is revoked or expired, gets a page on the
// certificate portal that says why and what to do, not a browser error;
// the API on the same listener answers in JSON, and the stylesheet is
// served to all so that the page has its styles.
func TestR11_R12_CertificatePortalExplainsRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "せつめい労働組合", true)
		revoked := b.NewGeneralUser(t, org)
		revokedCert := b.IssueCertificate(t, revoked)
		if _, err := b.Services.Certs.RevokeByBank(context.Background(), revokedCert.Leaf.SerialNumber.Text(16), "keyCompromise", "test", "REQ-1"); err != nil {
			t.Fatal(err)
		}
		expired := b.NewGeneralUser(t, org)
		expiredCert := b.IssueCertificate(t, expired)
		b.Clock.Set(expiredCert.Leaf.NotAfter.Add(time.Second))
		activeCert := b.IssueCertificate(t, b.NewGeneralUser(t, org))
		cases := []struct {
			name string
			cert *tls.Certificate
			key  string
			help bool
		}{
			{"no certificate", nil, "error.certificate_required", true},
			{"revoked", revokedCert, "error.certificate_revoked", true},
			{"expired", expiredCert, "error.certificate_expired", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cl := b.Client(c.cert)
				for _, path := range []string{"/", "/home", "/certificate"} {
					p := get(t, cl, b.CertPortalURL+path)
					if p.Status != http.StatusForbidden {
						t.Fatalf("%s: %d, want 403 with an explanation", path, p.Status)
					}
					wantText(t, p, msg(t, "ja", c.key), msg(t, "ja", "error.certificate_help.heading"))
					if !strings.Contains(p.Raw, `href="`+b.PortalURL+`/issue"`) {
						t.Errorf("%s: no link to the issuance page", path)
					}
				}
				r := cl.CertPortal(http.MethodGet, "/api/v1/me", nil)
				if r.Status != http.StatusForbidden || r.ErrorCode() != strings.TrimPrefix(c.key, "error.") {
					t.Errorf("API: %d %s, want 403 %s", r.Status, r.Raw, c.key)
				}
				if css := get(t, cl, b.CertPortalURL+"/static/kinko.css"); css.Status != http.StatusOK {
					t.Errorf("stylesheet: %d", css.Status)
				}
			})
		}
		// An active certificate still reaches the login page.
		if p := get(t, b.Client(activeCert), b.CertPortalURL+"/"); p.Status != http.StatusOK {
			t.Errorf("active certificate: %d", p.Status)
		}
	})
}
