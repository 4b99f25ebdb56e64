package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestPasswordLogin: a user of a password-login organization logs in with
// the form and sees the top screen with the organization and the last
// three logins, newest first; the API shares the session.
func TestPasswordLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "みどり生活協同組合 本部", false)
		var times []time.Time
		for range 3 {
			times = append(times, b.Clock.Now())
			p := passwordLogin(t, b, b.Client(nil), org.Master.LoginID, org.Master.Password)
			wantPage(t, p, http.StatusOK, "/home")
			b.Clock.Advance(time.Hour + 7*time.Minute)
		}
		c := b.Client(nil)
		times = append(times, b.Clock.Now())
		top := passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
		wantPage(t, top, http.StatusOK, "/home")
		wantTitle(t, top, "ja", "page.home.title")
		wantText(t, top, msg(t, "ja", "page.home.organization_value", org.Name, org.Code),
			msg(t, "ja", "page.home.user_value", "マスター "+org.Master.LoginID, org.Master.LoginID),
			msg(t, "ja", "role.master"), msg(t, "ja", "page.home.method_password"), msg(t, "ja", "page.home.notices.none"))
		// The three newest logins, newest first; not the oldest.
		last := -1
		for i := 3; i >= 1; i-- {
			s := dateTime(t, "ja", times[i])
			at := strings.Index(top.Text, s)
			if at < 0 {
				t.Fatalf("the top screen does not show the login at %s", s)
			}
			if at < last {
				t.Errorf("login at %s is not in newest-first order", s)
			}
			last = at
		}
		if s := dateTime(t, "ja", times[0]); strings.Contains(top.Text, s) {
			t.Errorf("the top screen shows a fourth login (%s)", s)
		}
		if n := strings.Count(top.Raw, "<time datetime="); n != 3 {
			t.Errorf("%d login times, want 3", n)
		}
		// The API sees the same session.
		me := c.Portal(http.MethodGet, "/api/v1/me", nil)
		if me.Status != http.StatusOK || me.String("login_id") != org.Master.LoginID {
			t.Errorf("API with the page's session: %d %s", me.Status, me.Raw)
		}
		t.Run("in English", func(t *testing.T) {
			setLanguage(t, b, c, "en")
			p := get(t, c, b.PortalURL+"/home")
			wantTitle(t, p, "en", "page.home.title")
			wantText(t, p, msg(t, "en", "role.master"), dateTime(t, "en", times[3]))
		})
	})
}

// TestLoginSessionCookie: the page's login sets the API's session cookie
// with the API's attributes.
func TestLoginSessionCookie(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	org := b.NewOrg(t, "クッキー労働組合", false)
	c := noRedirects(b.Client(nil))
	form := get(t, c, b.PortalURL+"/login")
	csrf := cookieNamed(form, "__Host-kinko-csrf")
	if csrf == nil || !csrf.Secure || !csrf.HttpOnly || csrf.Path != "/" || csrf.Domain != "" {
		t.Errorf("form token cookie = %+v, want Secure, HttpOnly, Path=/, no Domain", csrf)
	}
	p := post(t, c, b.PortalURL+"/login", url.Values{"csrf_token": {csrfToken(t, form)}, "login_id": {org.Master.LoginID}, "password": {org.Master.Password}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/home" {
		t.Fatalf("login: %d to %q, want 303 to /home", p.Status, p.Header.Get("Location"))
	}
	ck := cookieNamed(p, httpedge.PortalCookie)
	if ck == nil || len(ck.Value) < 40 || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Errorf("session cookie = %+v", ck)
	}
}

func TestLoginRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ことわり労働組合", false)
		user := b.NewGeneralUser(t, org)
		locked := b.NewGeneralUser(t, org)
		b.LockUser(t, locked.LoginID)
		tests := []struct {
			name     string
			loginID  string
			password string
			status   int
			key      string
		}{
			{"wrong password", user.LoginID, "Wrong-password1", http.StatusUnauthorized, "error.invalid_credentials"},
			{"unknown login ID", "nobody001", "Wrong-password1", http.StatusUnauthorized, "error.invalid_credentials"},
			{"empty password", user.LoginID, "", http.StatusBadRequest, "error.required"},
			{"locked", locked.LoginID, locked.Password, http.StatusLocked, "error.account_locked"},
		}
		for _, tt := range tests {
			for _, lang := range []string{"ja", "en"} {
				t.Run(tt.name+"/"+lang, func(t *testing.T) {
					c := b.Client(nil)
					setLanguage(t, b, c, lang)
					p := passwordLogin(t, b, c, tt.loginID, tt.password)
					wantPage(t, p, tt.status, "/login")
					wantTitle(t, p, lang, "page.login.title")
					wantText(t, p, msg(t, lang, tt.key))
					if !strings.Contains(p.Raw, `value="`+tt.loginID+`"`) {
						t.Errorf("the form lost the login ID %q", tt.loginID)
					}
					if strings.Contains(p.Raw, `value="`+tt.password+`"`) && tt.password != "" {
						t.Error("the form kept the password")
					}
					if !strings.Contains(p.Raw, `role="alert"`) {
						t.Error("the refusal is not an alert")
					}
				})
			}
		}
	})
}

// TestR8_PasswordLoginRefusedForCertificateOrganization: the login page
// tells a user of a certificate-login organization to use the certificate
// login button, and shows it.
func TestR8_PasswordLoginRefusedForCertificateOrganization(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ひかり労働組合 東支部", true)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				p := passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
				wantPage(t, p, http.StatusForbidden, "/login")
				wantText(t, p, msg(t, lang, "error.certificate_login_required"))
				if n := strings.Count(p.Raw, `href="`+b.CertPortalURL+`/">`+msg(t, lang, "action.certificate_login")+`</a>`); n < 2 {
					t.Errorf("%d certificate login buttons, want one beside the message and one in the panel", n)
				}
				if cookieNamed(p, httpedge.PortalCookie) != nil {
					t.Error("a session cookie was set")
				}
				if me := c.Portal(http.MethodGet, "/api/v1/me", nil); me.Status != http.StatusUnauthorized {
					t.Errorf("after the refusal the API answers %d, want 401", me.Status)
				}
			})
		}
		t.Run("session of before the application", func(t *testing.T) {
			later := b.NewOrg(t, "ひかり労働組合 南支部", false)
			c := b.Client(nil)
			wantPage(t, passwordLogin(t, b, c, later.Master.LoginID, later.Master.Password), http.StatusOK, "/home")
			if _, err := b.Services.Identity.SetCertificateLogin(context.Background(), later.Code, true, "operator:test", "REQ-R8"); err != nil {
				t.Fatal(err)
			}
			// The application ended the session; logging in again says why.
			p := get(t, c, b.PortalURL+"/home")
			wantPage(t, p, http.StatusOK, "/session-ended")
			wantText(t, p, msg(t, "ja", "page.session_ended.other"))
			p = passwordLogin(t, b, c, later.Master.LoginID, later.Master.Password)
			wantPage(t, p, http.StatusForbidden, "/login")
			wantText(t, p, msg(t, "ja", "error.certificate_login_required"))
		})
	})
}

// TestCSRF: a form without the right token is refused, and a form posted
// from another site is refused before that.
func TestCSRF(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "トークン労働組合", false)
		creds := url.Values{"login_id": {org.Master.LoginID}, "password": {org.Master.Password}}
		with := func(v url.Values, k, val string) url.Values {
			out := url.Values{}
			for kk, vv := range v {
				out[kk] = vv
			}
			out.Set(k, val)
			return out
		}
		t.Run("login", func(t *testing.T) {
			other := b.Client(nil)
			othersToken := csrfToken(t, get(t, other, b.PortalURL+"/login"))
			tests := []struct {
				name  string
				form  func(t *testing.T, c *testutil.Client) url.Values
				fresh bool // a client that never loaded the form (no cookie)
			}{
				{"no token", func(t *testing.T, c *testutil.Client) url.Values { return creds }, false},
				{"wrong token", func(t *testing.T, c *testutil.Client) url.Values {
					return with(creds, "csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
				}, false},
				{"another browser's token", func(t *testing.T, c *testutil.Client) url.Values {
					return with(creds, "csrf_token", othersToken)
				}, false},
				{"token without the cookie", func(t *testing.T, c *testutil.Client) url.Values {
					return with(creds, "csrf_token", othersToken)
				}, true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := b.Client(nil)
					if !tt.fresh {
						get(t, c, b.PortalURL+"/login")
					}
					p := post(t, c, b.PortalURL+"/login", tt.form(t, c))
					wantPage(t, p, http.StatusForbidden, "/login")
					wantText(t, p, msg(t, "ja", "error.form_token"))
					if !strings.Contains(p.Raw, `value="`+org.Master.LoginID+`"`) {
						t.Error("the refused form lost the login ID")
					}
					if me := c.Portal(http.MethodGet, "/api/v1/me", nil); me.Status != http.StatusUnauthorized {
						t.Errorf("refused login made a session: API %d", me.Status)
					}
					// The refusal's page carries a token that works.
					if p2 := post(t, c, b.PortalURL+"/login", with(creds, "csrf_token", csrfToken(t, p))); p2.URL.Path != "/home" {
						t.Errorf("retry with the new page's token: %d at %s", p2.Status, p2.URL.Path)
					}
				})
			}
		})
		t.Run("cross-site", func(t *testing.T) {
			c := b.Client(nil)
			tok := csrfToken(t, get(t, c, b.PortalURL+"/login"))
			for _, h := range []struct{ name, value string }{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
				req, _ := http.NewRequest(http.MethodPost, b.PortalURL+"/login", strings.NewReader(with(creds, "csrf_token", tok).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(h.name, h.value)
				p := do(t, c, req)
				if p.Status != http.StatusForbidden {
					t.Errorf("%s: %s: %d, want 403", h.name, h.value, p.Status)
				}
				wantText(t, p, msg(t, "ja", "error.cross_origin"))
			}
		})
		t.Run("logout and password change", func(t *testing.T) {
			c := b.Client(nil)
			wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
			for _, path := range []string{"/logout", "/password"} {
				p := post(t, c, b.PortalURL+path, url.Values{"kind": {"login"}, "current": {org.Master.Password}, "new": {"Another-pass9"}, "again": {"Another-pass9"}})
				if p.Status != http.StatusForbidden {
					t.Errorf("%s without a token: %d, want 403", path, p.Status)
				}
				wantText(t, p, msg(t, "ja", "error.form_token"))
			}
			// Still logged in, with the old password.
			wantPage(t, get(t, c, b.PortalURL+"/home"), http.StatusOK, "/home")
			wantPage(t, passwordLogin(t, b, b.Client(nil), org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
		})
	})
}

// TestInitialPasswordChange: a user whose passwords were set by someone
// else must change both before any other page.
func TestInitialPasswordChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		ctx := context.Background()
		org, _, initial, err := b.Services.Identity.CreateOrganization(ctx, identity.NewOrganization{
			Name: "はじめて労働組合", MasterLoginID: "hajime01", MasterName: "初 太郎", MasterEmail: "hajime@example.org",
		}, "operator:test")
		if err != nil {
			t.Fatal(err)
		}
		c := b.Client(nil)
		p := passwordLogin(t, b, c, "hajime01", initial.Password)
		wantPage(t, p, http.StatusOK, "/password/initial")
		wantTitle(t, p, "ja", "page.initial_password.title")
		for _, path := range []string{"/home", "/certificate", "/password"} {
			wantPage(t, get(t, c, b.PortalURL+path), http.StatusOK, "/password/initial")
		}
		if strings.Contains(p.Raw, `href="/home"`) {
			t.Error("the forced change links to the top screen")
		}
		form := func(p page, v url.Values) url.Values {
			v.Set("csrf_token", csrfToken(t, p))
			return v
		}
		t.Run("refusals", func(t *testing.T) {
			tests := []struct {
				name   string
				form   url.Values
				status int
				key    string
			}{
				{"repetition differs", url.Values{"login_current": {initial.Password}, "login_new": {"Hajime-Login1"}, "login_again": {"Hajime-Login2"},
					"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Conf1"}, "confirmation_again": {"Hajime-Conf1"}},
					http.StatusBadRequest, "error.password_mismatch"},
				{"wrong current", url.Values{"login_current": {"Wrong-pass1"}, "login_new": {"Hajime-Login1"}, "login_again": {"Hajime-Login1"},
					"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Conf1"}, "confirmation_again": {"Hajime-Conf1"}},
					http.StatusUnauthorized, "error.invalid_login_password"},
				{"slip in the second part", url.Values{"login_current": {initial.Password}, "login_new": {"Hajime-Login1"}, "login_again": {"Hajime-Login1"},
					"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Conf1"}, "confirmation_again": {"Hajime-Conf2"}},
					http.StatusBadRequest, "error.password_mismatch"},
				{"too short", url.Values{"login_current": {initial.Password}, "login_new": {"short"}, "login_again": {"short"},
					"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Conf1"}, "confirmation_again": {"Hajime-Conf1"}},
					http.StatusBadRequest, "error.invalid_password"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := post(t, c, b.PortalURL+"/password/initial", form(get(t, c, b.PortalURL+"/password/initial"), tt.form))
					wantPage(t, p, tt.status, "/password/initial")
					wantText(t, p, msg(t, "ja", tt.key))
					if !strings.Contains(p.Raw, `name="login_current"`) {
						t.Error("the login password was changed although the form was refused")
					}
				})
			}
		})
		t.Run("confirmation same as the new login password", func(t *testing.T) {
			p := post(t, c, b.PortalURL+"/password/initial", form(get(t, c, b.PortalURL+"/password/initial"), url.Values{
				"login_current": {initial.Password}, "login_new": {"Hajime-Login1"}, "login_again": {"Hajime-Login1"},
				"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Login1"}, "confirmation_again": {"Hajime-Login1"}}))
			wantPage(t, p, http.StatusBadRequest, "/password/initial")
			wantText(t, p, msg(t, "ja", "error.invalid_password_same"), msg(t, "ja", "page.initial_password.login_done"))
			if strings.Contains(p.Raw, `name="login_current"`) {
				t.Error("the login password, already changed, is asked for again")
			}
			// Only the confirmation password is left.
			p = post(t, c, b.PortalURL+"/password/initial", form(p, url.Values{
				"confirmation_current": {initial.ConfirmationPassword}, "confirmation_new": {"Hajime-Conf1"}, "confirmation_again": {"Hajime-Conf1"}}))
			wantPage(t, p, http.StatusOK, "/home")
			wantText(t, p, msg(t, "ja", "page.home.organization_value", org.Name, org.Code))
		})
		wantPage(t, get(t, c, b.PortalURL+"/password/initial"), http.StatusOK, "/home")
		if me := c.Portal(http.MethodGet, "/api/v1/me", nil); me.Body["password_change_required"] != false {
			t.Errorf("API after the change: %s", me.Raw)
		}
		wantPage(t, passwordLogin(t, b, b.Client(nil), "hajime01", "Hajime-Login1"), http.StatusOK, "/home")
	})
}

func TestPasswordChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "へんこう労働組合", false)
		c := b.Client(nil)
		wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
		change := func(kind, current, next, again string) page {
			p := get(t, c, b.PortalURL+"/password")
			wantTitle(t, p, "ja", "page.password.title")
			return post(t, c, b.PortalURL+"/password", url.Values{"csrf_token": {csrfToken(t, p)}, "kind": {kind},
				"current": {current}, "new": {next}, "again": {again}})
		}
		t.Run("refusals", func(t *testing.T) {
			tests := []struct {
				name                       string
				kind, current, next, again string
				status                     int
				key                        string
			}{
				{"wrong login password", "login", "Wrong-pass1", "Henkou-Login1", "Henkou-Login1", http.StatusUnauthorized, "error.invalid_login_password"},
				{"wrong confirmation password", "confirmation", "Wrong-pass1", "Henkou-Conf1", "Henkou-Conf1", http.StatusForbidden, "error.invalid_confirmation_password"},
				{"repetition differs", "login", org.Master.Password, "Henkou-Login1", "Henkou-Login2", http.StatusBadRequest, "error.password_mismatch"},
				{"same as the other", "login", org.Master.Password, org.Master.Confirmation, org.Master.Confirmation, http.StatusBadRequest, "error.invalid_password_same"},
				{"empty", "confirmation", "", "", "", http.StatusBadRequest, "error.required"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := change(tt.kind, tt.current, tt.next, tt.again)
					wantPage(t, p, tt.status, "/password")
					wantText(t, p, msg(t, "ja", tt.key))
				})
			}
		})
		p := change("login", org.Master.Password, "Henkou-Login1", "Henkou-Login1")
		wantPage(t, p, http.StatusOK, "/password")
		wantText(t, p, msg(t, "ja", "page.password.done_login"))
		p = change("confirmation", org.Master.Confirmation, "Henkou-Conf1", "Henkou-Conf1")
		wantText(t, p, msg(t, "ja", "page.password.done_confirmation"))
		wantPage(t, passwordLogin(t, b, b.Client(nil), org.Master.LoginID, org.Master.Password), http.StatusUnauthorized, "/login")
		wantPage(t, passwordLogin(t, b, b.Client(nil), org.Master.LoginID, "Henkou-Login1"), http.StatusOK, "/home")
	})
}
