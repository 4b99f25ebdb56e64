package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// usersDate formats the day of tm as the pages do in lang.
func usersDate(t testing.TB, lang string, tm time.Time) string {
	return tm.In(calendar.JST).Format(msg(t, lang, "format.date"))
}

// usersDaysLeft is the days left until notAfter as the pages count them.
func usersDaysLeft(now, notAfter time.Time) int {
	return int((notAfter.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
}

var (
	usersRowRE = regexp.MustCompile(`(?s)<tr data-login-id="([^"]+)">(.*?)</tr>`)
	usersTagRE = regexp.MustCompile(`<[^>]+>`)
	usersWSRE  = regexp.MustCompile(`\s+`)
)

// usersRow is one row of the users table: its markup and its text.
type usersRow struct{ Raw, Text string }

// usersRows returns the rows of the users table by login ID, in order.
func usersRows(t testing.TB, p page) ([]string, map[string]usersRow) {
	t.Helper()
	if !strings.Contains(p.Raw, `<table id="users"`) {
		t.Fatalf("%s: no table#users\n%s", p.URL, p.Text)
	}
	var order []string
	rows := map[string]usersRow{}
	for _, m := range usersRowRE.FindAllStringSubmatch(p.Raw, -1) {
		text := html.UnescapeString(usersTagRE.ReplaceAllString(m[2], " "))
		order = append(order, m[1])
		rows[m[1]] = usersRow{Raw: m[2], Text: usersWSRE.ReplaceAllString(text, " ")}
	}
	return order, rows
}

// usersRowOf returns a user's row, failing the test without it.
func usersRowOf(t testing.TB, p page, loginID string) usersRow {
	t.Helper()
	_, rows := usersRows(t, p)
	r, ok := rows[loginID]
	if !ok {
		t.Fatalf("%s: no row for %s", p.URL, loginID)
	}
	return r
}

var usersNoticeRE = regexp.MustCompile(`(?s)<div id="notice"[^>]*>(.*?)</div>`)

// usersNotice returns the text of div#notice, "" without one.
func usersNotice(p page) string {
	m := usersNoticeRE.FindStringSubmatch(p.Raw)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(usersTagRE.ReplaceAllString(m[1], "")))
}

// usersCertLogin logs a user in on the certificate portal with a new
// certificate and returns the browser.
func usersCertLogin(t testing.TB, b *testutil.Bank, c testutil.Creds, lang string) *testutil.Client {
	t.Helper()
	cl := b.Client(b.IssueCertificate(t, c))
	if lang != "" {
		setLanguage(t, b, cl, lang)
	}
	wantPage(t, certificateLogin(t, b, cl, c.Password), http.StatusOK, "/home")
	return cl
}

// usersCurrent returns a user's current certificate (certs.ErrNotFound
// when none holds the place).
func usersCurrent(t testing.TB, b *testutil.Bank, loginID string) (certs.Certificate, error) {
	t.Helper()
	u, _, err := b.Services.Identity.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	return b.Services.Certs.CurrentCertificate(context.Background(), u.ID)
}

// usersLatest returns a user's newest certificate record.
func usersLatest(t testing.TB, b *testutil.Bank, org testutil.Org, loginID string) certs.Certificate {
	t.Helper()
	u, _, err := b.Services.Identity.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := b.Services.Certs.List(context.Background(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.UserID == u.ID {
			return c
		}
	}
	t.Fatalf("no certificate of %s", loginID)
	return certs.Certificate{}
}

// usersWantActive fails unless the user still holds an active certificate.
func usersWantActive(t testing.TB, b *testutil.Bank, loginID string) {
	t.Helper()
	c, err := usersCurrent(t, b, loginID)
	if err != nil || c.Status != certs.StatusIssued {
		t.Errorf("%s: certificate %+v, %v; want it still active", loginID, c.Status, err)
	}
}

// TestR12_MasterRevokesGeneralInTheBrowser: the master sees a general
// user's active certificate on the users page, revokes it with a reason
// and the confirmation password; the store has it revoked, the users page
// names the user once, the user's next page is refused, and a new
// certificate can be issued (R12).
func TestR12_MasterRevokesGeneralInTheBrowser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "しっこう労働組合 本部", true)
		mc := usersCertLogin(t, b, org.Master, "")
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				user := b.NewGeneralUser(t, org)
				uc := usersCertLogin(t, b, user, lang)
				userCert, err := usersCurrent(t, b, user.LoginID)
				if err != nil {
					t.Fatal(err)
				}
				setLanguage(t, b, mc, lang)

				list := get(t, mc, b.CertPortalURL+"/users")
				wantPage(t, list, http.StatusOK, "/users")
				wantTitle(t, list, lang, "page.users.title")
				row := usersRowOf(t, list, user.LoginID)
				active := msg(t, lang, "page.users.cert.active", usersDate(t, lang, userCert.NotAfter), usersDaysLeft(b.Clock.Now(), userCert.NotAfter))
				if !strings.Contains(row.Text, active) {
					t.Errorf("row %q does not show %q", row.Text, active)
				}
				link := `<a class="revoke-link button button-quiet" href="/users/` + user.LoginID + `/revoke">`
				if !strings.Contains(row.Raw, link) {
					t.Fatalf("no revoke link in the row: %s", row.Raw)
				}

				form := get(t, mc, b.CertPortalURL+"/users/"+user.LoginID+"/revoke")
				wantPage(t, form, http.StatusOK, "/users/"+user.LoginID+"/revoke")
				wantTitle(t, form, lang, "page.users_revoke.title")
				wantText(t, form, userCert.Serial, msg(t, lang, "page.users_revoke.user_value", "一般 "+user.LoginID, user.LoginID),
					msg(t, lang, "users.reason.keyCompromise"), msg(t, lang, "users.reason.superseded"))
				for _, s := range []string{`<form id="revoke-form" method="post" action="/users/` + user.LoginID + `/revoke"`, `<select id="reason" name="reason"`,
					`<input id="confirmation_password" name="confirmation_password" type="password"`, `<button id="revoke-submit" type="submit"`,
					`<label for="reason">`, `<label for="confirmation_password">`} {
					if !strings.Contains(form.Raw, s) {
						t.Errorf("the revocation form lacks %s", s)
					}
				}
				if strings.Contains(form.Raw, `id="own-warning"`) {
					t.Error("a general user's revocation shows the warning of one's own")
				}

				done := post(t, mc, b.CertPortalURL+"/users/"+user.LoginID+"/revoke", url.Values{"csrf_token": {csrfToken(t, form)},
					"reason": {"keyCompromise"}, "confirmation_password": {org.Master.Confirmation}})
				wantPage(t, done, http.StatusOK, "/users")
				if got, want := usersNotice(done), msg(t, lang, "page.users.notice.revoked", "一般 "+user.LoginID, user.LoginID); got != want {
					t.Errorf("notice = %q, want %q", got, want)
				}
				// In the store: revoked, by the master, with the reason.
				if _, err := usersCurrent(t, b, user.LoginID); !errors.Is(err, certs.ErrNotFound) {
					t.Errorf("after the revocation the user still holds a certificate: %v", err)
				}
				rec := usersLatest(t, b, org, user.LoginID)
				if rec.Serial != userCert.Serial || rec.Status != certs.StatusRevoked || rec.RevocationReason != "keyCompromise" || rec.RevokedBy != "user:"+org.Master.LoginID {
					t.Errorf("record after the revocation: serial %s status %s reason %q by %q", rec.Serial, rec.Status, rec.RevocationReason, rec.RevokedBy)
				}
				row = usersRowOf(t, done, user.LoginID)
				revoked := msg(t, lang, "page.users.cert.revoked", usersDate(t, lang, rec.RevokedAt), msg(t, lang, "users.reason.keyCompromise"))
				if !strings.Contains(row.Text, revoked) {
					t.Errorf("row %q does not show %q", row.Text, revoked)
				}
				if strings.Contains(row.Raw, "revoke-link") {
					t.Error("a revoked certificate still has a revoke link")
				}
				// The notice is shown once.
				again := get(t, mc, b.CertPortalURL+"/users")
				if n := usersNotice(again); n != "" {
					t.Errorf("the reload shows the notice again: %q", n)
				}

				// The user's next page is refused with the explanation.
				refused := get(t, uc, b.CertPortalURL+"/home")
				if refused.Status != http.StatusForbidden {
					t.Fatalf("the user's next page after the revocation: %d at %s, want 403", refused.Status, refused.URL.Path)
				}
				wantText(t, refused, msg(t, lang, "error.certificate_revoked"), msg(t, lang, "error.certificate_help.heading"))
				// A new certificate can be issued from the login screen.
				newCert := b.IssueCertificate(t, user)
				if newCert.Leaf.SerialNumber.Text(16) == userCert.Serial {
					t.Error("the new certificate has the old serial")
				}
			})
		}
	})
}

// TestR12_RevocationRefusals: a wrong confirmation password, a missing one,
// or a forged reason revokes nothing and keeps the chosen reason; six wrong
// ones lock the master out with a page that says so.
func TestR12_RevocationRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "まちがい労働組合", true)
		user := b.NewGeneralUser(t, org)
		b.IssueCertificate(t, user)
		tests := []struct {
			name, reason, confirmation string
			status                     int
			key                        string
		}{
			{"wrong confirmation password", "superseded", "Wrong-pass1", http.StatusForbidden, "error.invalid_confirmation_password"},
			{"the login password instead", "cessationOfOperation", org.Master.Password, http.StatusForbidden, "error.invalid_confirmation_password"},
			{"no confirmation password", "affiliationChanged", "", http.StatusBadRequest, "error.required"},
			{"unknown reason", "lostMyMind", org.Master.Confirmation, http.StatusBadRequest, "error.invalid_reason"},
		}
		mc := usersCertLogin(t, b, org.Master, "")
		for _, lang := range []string{"ja", "en"} {
			setLanguage(t, b, mc, lang)
			for _, tt := range tests {
				t.Run(lang+"/"+tt.name, func(t *testing.T) {
					path := "/users/" + user.LoginID + "/revoke"
					form := get(t, mc, b.CertPortalURL+path)
					p := post(t, mc, b.CertPortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)},
						"reason": {tt.reason}, "confirmation_password": {tt.confirmation}})
					wantPage(t, p, tt.status, path)
					wantTitle(t, p, lang, "page.users_revoke.title")
					wantText(t, p, msg(t, lang, tt.key))
					if !strings.Contains(p.Raw, `role="alert"`) {
						t.Error("the refusal is not an alert")
					}
					if tt.confirmation != "" && strings.Contains(p.Raw, tt.confirmation) {
						t.Error("the form kept the password")
					}
					if tt.key != "error.invalid_reason" && !strings.Contains(p.Raw, `value="`+tt.reason+`" selected`) {
						t.Errorf("the form lost the reason %s", tt.reason)
					}
					usersWantActive(t, b, user.LoginID)
				})
			}
			// Four wrong passwords in all: the master is not locked yet.
			wantPage(t, get(t, mc, b.CertPortalURL+"/users"), http.StatusOK, "/users")
		}
		t.Run("lockout", func(t *testing.T) {
			lorg := b.NewOrg(t, "ロック労働組合", true)
			luser := b.NewGeneralUser(t, lorg)
			b.IssueCertificate(t, luser)
			mc := usersCertLogin(t, b, lorg.Master, "")
			path := "/users/" + luser.LoginID + "/revoke"
			var p page
			for i := range identity.LockAfter {
				form := get(t, mc, b.CertPortalURL+path)
				c := mc
				if i == identity.LockAfter-1 {
					c = noRedirects(mc)
				}
				p = post(t, c, b.CertPortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)},
					"reason": {"superseded"}, "confirmation_password": {"Wrong-pass1"}})
			}
			// The refusal is followed by a redirect to the page that shows
			// it, without the session.
			if p.Status != http.StatusSeeOther {
				t.Fatalf("after %d wrong confirmation passwords: %d, want 303", identity.LockAfter, p.Status)
			}
			if ck := cookieNamed(p, httpedge.CertPortalCookie); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("the session cookie was not cleared: %+v", ck)
			}
			p = get(t, mc, b.CertPortalURL+p.Header.Get("Location"))
			if p.Status != http.StatusLocked {
				t.Fatalf("after %d wrong confirmation passwords: %d, want 423", identity.LockAfter, p.Status)
			}
			wantText(t, p, msg(t, "ja", "error.account_locked"))
			usersWantActive(t, b, luser.LoginID)
			// The locked master's certificate no longer reaches the pages.
			if p := get(t, mc, b.CertPortalURL+"/users"); p.Status != http.StatusForbidden {
				t.Errorf("a locked master's next page: %d at %s, want 403", p.Status, p.URL.Path)
			}
		})
	})
}

// TestR13_MasterRevokesOwnCertificate: the master sees a warning, revokes
// their own certificate before moving to a new PC, is logged out with a
// page that says what to do next, and issues a new certificate.
func TestR13_MasterRevokesOwnCertificate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				org := b.NewOrg(t, "ひっこし労働組合 "+lang, true)
				mc := usersCertLogin(t, b, org.Master, lang)
				own, err := usersCurrent(t, b, org.Master.LoginID)
				if err != nil {
					t.Fatal(err)
				}
				list := get(t, mc, b.CertPortalURL+"/users")
				order, _ := usersRows(t, list)
				if len(order) != 1 || order[0] != org.Master.LoginID {
					t.Fatalf("rows %v, want the master only", order)
				}
				row := usersRowOf(t, list, org.Master.LoginID)
				for _, s := range []string{msg(t, lang, "page.users.action.revoke_own"), msg(t, lang, "page.users.own_warning"), msg(t, lang, "page.users.you")} {
					if !strings.Contains(row.Text, s) {
						t.Errorf("the master's row %q does not show %q", row.Text, s)
					}
				}
				path := "/users/" + org.Master.LoginID + "/revoke"
				form := get(t, mc, b.CertPortalURL+path)
				wantPage(t, form, http.StatusOK, path)
				wantText(t, form, own.Serial, msg(t, lang, "page.users_revoke.own.heading"), msg(t, lang, "page.users_revoke.own.logout"),
					msg(t, lang, "page.users_revoke.own.newpc"), msg(t, lang, "page.users_revoke.own.submit"))

				p := post(t, noRedirects(mc), b.CertPortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)},
					"reason": {"superseded"}, "confirmation_password": {org.Master.Confirmation}})
				if p.Status != http.StatusOK {
					t.Fatalf("own revocation: %d, want 200 with the next steps\n%s", p.Status, p.Text)
				}
				wantTitle(t, p, lang, "page.users_revoked_self.title")
				rec := usersLatest(t, b, org, org.Master.LoginID)
				if rec.Status != certs.StatusRevoked || rec.Serial != own.Serial || rec.RevocationReason != "superseded" {
					t.Fatalf("record: %s %s %q", rec.Serial, rec.Status, rec.RevocationReason)
				}
				wantText(t, p, msg(t, lang, "page.users_revoked_self.lead", own.Serial, dateTime(t, lang, rec.RevokedAt)),
					msg(t, lang, "page.users_revoked_self.step_delete"), msg(t, lang, "page.users_revoked_self.step_issue"))
				if !strings.Contains(p.Raw, `href="`+b.PortalURL+`/issue"`) {
					t.Error("no link to the issuance page on the portal")
				}
				if ck := cookieNamed(p, httpedge.CertPortalCookie); ck == nil || ck.MaxAge >= 0 {
					t.Errorf("the session cookie was not cleared: %+v", ck)
				}
				// The old certificate is refused; a new one can be issued.
				refused := get(t, mc, b.CertPortalURL+"/home")
				if refused.Status != http.StatusForbidden {
					t.Fatalf("the revoked certificate's next page: %d", refused.Status)
				}
				wantText(t, refused, msg(t, lang, "error.certificate_revoked"))
				usersCertLogin(t, b, org.Master, "")
			})
		}
		t.Run("in an ID and password session", func(t *testing.T) {
			// The bank turned certificate login off after the master's
			// certificate was issued: the session is not bound to it, so
			// it goes on, and the users page says what was done.
			org := b.NewOrg(t, "ひっこし労働組合 パスワード", true)
			b.IssueCertificate(t, org.Master)
			if _, err := b.Services.Identity.SetCertificateLogin(context.Background(), org.Code, false, "operator:test", "REQ-OFF"); err != nil {
				t.Fatal(err)
			}
			c := b.Client(nil)
			wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
			path := "/users/" + org.Master.LoginID + "/revoke"
			form := get(t, c, b.PortalURL+path)
			wantPage(t, form, http.StatusOK, path)
			p := post(t, c, b.PortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)},
				"reason": {"cessationOfOperation"}, "confirmation_password": {org.Master.Confirmation}})
			wantPage(t, p, http.StatusOK, "/users")
			if got, want := usersNotice(p), msg(t, "ja", "page.users.notice.revoked_own"); got != want {
				t.Errorf("notice = %q, want %q", got, want)
			}
			if rec := usersLatest(t, b, org, org.Master.LoginID); rec.Status != certs.StatusRevoked || rec.RevocationReason != "cessationOfOperation" {
				t.Errorf("record: %s %q", rec.Status, rec.RevocationReason)
			}
		})
	})
}

// TestUsersPageShowsEveryState: the users page lists the master first and
// each user's lock and certificate in plain words, on both listeners.
func TestUsersPageShowsEveryState(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		ctx := context.Background()
		org := b.NewOrg(t, "じょうたい労働組合", true)
		none := b.NewGeneralUser(t, org)
		revoked := map[string]testutil.Creds{}
		for _, reason := range []string{"superseded", "cessationOfOperation", "keyCompromise", "affiliationChanged", "unspecified"} {
			u := b.NewGeneralUser(t, org)
			cert := b.IssueCertificate(t, u)
			if _, err := b.Services.Certs.RevokeByBank(ctx, cert.Leaf.SerialNumber.Text(16), reason, "test", "REQ-"+reason); err != nil {
				t.Fatal(err)
			}
			revoked[reason] = u
		}
		expired := b.NewGeneralUser(t, org)
		expiredCert := b.IssueCertificate(t, expired)
		locked := b.NewGeneralUser(t, org)
		lu, _, err := b.Services.Identity.UserByLoginID(ctx, locked.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		for range identity.LockAfter {
			_ = b.Services.Identity.CheckPassword(ctx, lu, identity.LoginPassword, "Wrong-pass1", "test")
		}
		b.Clock.Set(expiredCert.Leaf.NotAfter.Add(time.Hour))
		active := b.NewGeneralUser(t, org)
		b.IssueCertificate(t, active)
		activeCert, err := usersCurrent(t, b, active.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		mc := usersCertLogin(t, b, org.Master, "")
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				setLanguage(t, b, mc, lang)
				p := get(t, mc, b.CertPortalURL+"/users")
				wantPage(t, p, http.StatusOK, "/users")
				order, rows := usersRows(t, p)
				if len(order) != 10 || order[0] != org.Master.LoginID {
					t.Fatalf("rows %v: want 10, the master first", order)
				}
				wantText(t, p, msg(t, lang, "page.users.count", 9, 19))
				if !strings.Contains(p.Raw, `<a id="add-user" class="button button-primary" href="/users/new">`) {
					t.Error("no a#add-user")
				}
				now := b.Clock.Now()
				tests := []struct {
					name, loginID, want string
					revokeLink, unlock  bool
				}{
					{"none", none.LoginID, msg(t, lang, "page.users.cert.none"), false, false},
					{"active", active.LoginID, msg(t, lang, "page.users.cert.active", usersDate(t, lang, activeCert.NotAfter), usersDaysLeft(now, activeCert.NotAfter)), true, false},
					{"expired", expired.LoginID, msg(t, lang, "page.users.cert.expired", usersDate(t, lang, expiredCert.Leaf.NotAfter)), false, false},
					{"locked", locked.LoginID, msg(t, lang, "page.users.cert.none"), false, true},
				}
				for reason, u := range revoked {
					rec := usersLatest(t, b, org, u.LoginID)
					tests = append(tests, struct {
						name, loginID, want string
						revokeLink, unlock  bool
					}{"revoked " + reason, u.LoginID, msg(t, lang, "page.users.cert.revoked", usersDate(t, lang, rec.RevokedAt), msg(t, lang, "users.reason."+reason)), false, false})
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						row := rows[tt.loginID]
						if !strings.Contains(row.Text, tt.want) {
							t.Errorf("row %q does not show %q", row.Text, tt.want)
						}
						if got := strings.Contains(row.Raw, `class="revoke-link`); got != tt.revokeLink {
							t.Errorf("revoke link: %v, want %v", got, tt.revokeLink)
						}
						hasUnlock := strings.Contains(row.Raw, `<form class="unlock-form" method="post" action="/users/`+tt.loginID+`/unlock">`) &&
							strings.Contains(row.Raw, `class="unlock-button`)
						if hasUnlock != tt.unlock {
							t.Errorf("unlock form: %v, want %v", hasUnlock, tt.unlock)
						}
						if tt.unlock && !strings.Contains(row.Text, strings.SplitN(msg(t, lang, "page.users.locked", "|"), "|", 2)[0]) {
							t.Errorf("the locked user's row does not say so: %q", row.Text)
						}
					})
				}
				wantText(t, p, msg(t, lang, "page.users.bank.master_revoke"), msg(t, lang, "page.users.bank.master_unlock"))
			})
		}
		t.Run("portal, password login", func(t *testing.T) {
			porg := b.NewOrg(t, "パスワード労働組合 本部", false)
			g := b.NewGeneralUser(t, porg)
			c := b.Client(nil)
			top := passwordLogin(t, b, c, porg.Master.LoginID, porg.Master.Password)
			wantPage(t, top, http.StatusOK, "/home")
			if !strings.Contains(top.Raw, `<a href="/users">`+msg(t, "ja", "nav.users")+`</a>`) {
				t.Error("the master's top screen has no link to the users page")
			}
			p := get(t, c, b.PortalURL+"/users")
			wantPage(t, p, http.StatusOK, "/users")
			wantText(t, p, msg(t, "ja", "page.users.cert_login_off"), msg(t, "ja", "page.users.count", 1, 19))
			if !strings.Contains(usersRowOf(t, p, g.LoginID).Text, msg(t, "ja", "page.users.cert.none")) {
				t.Error("the general user's row does not say: no certificate")
			}
			if !strings.Contains(p.Raw, `<a href="/users" aria-current="page">`) {
				t.Error("the menu does not mark the users page")
			}
		})
	})
}

// TestUsersPagesAreForTheMasterOnly: a general user gets a page that says
// only the master can do this, on every page and form of the users, and
// nothing changes; a user of another organization is not found.
func TestUsersPagesAreForTheMasterOnly(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "けんげん労働組合", true)
		general := b.NewGeneralUser(t, org)
		other := b.NewGeneralUser(t, org)
		b.IssueCertificate(t, other)
		gc := usersCertLogin(t, b, general, "")
		top := get(t, gc, b.CertPortalURL+"/home")
		if strings.Contains(top.Raw, `href="/users"`) {
			t.Error("a general user's menu links to the users page")
		}
		token := csrfToken(t, top)
		for _, lang := range []string{"ja", "en"} {
			setLanguage(t, b, gc, lang)
			tests := []struct {
				name, method, path string
				form               url.Values
			}{
				{"users", http.MethodGet, "/users", nil},
				{"add form", http.MethodGet, "/users/new", nil},
				{"revoke form", http.MethodGet, "/users/" + other.LoginID + "/revoke", nil},
				{"add", http.MethodPost, "/users/new", url.Values{"csrf_token": {token}, "login_id": {"sneaky01"}, "name": {"x"}, "email": {"x@example.org"}, "confirmation_password": {general.Confirmation}}},
				{"revoke", http.MethodPost, "/users/" + other.LoginID + "/revoke", url.Values{"csrf_token": {token}, "reason": {"superseded"}, "confirmation_password": {general.Confirmation}}},
				{"unlock", http.MethodPost, "/users/" + other.LoginID + "/unlock", url.Values{"csrf_token": {token}}},
				{"revoke without a token", http.MethodPost, "/users/" + other.LoginID + "/revoke", url.Values{"reason": {"superseded"}, "confirmation_password": {general.Confirmation}}},
			}
			for _, tt := range tests {
				t.Run(lang+"/"+tt.name, func(t *testing.T) {
					var p page
					if tt.method == http.MethodGet {
						p = get(t, gc, b.CertPortalURL+tt.path)
					} else {
						p = post(t, gc, b.CertPortalURL+tt.path, tt.form)
					}
					if tt.method == http.MethodGet {
						wantPage(t, p, http.StatusForbidden, tt.path)
					} else {
						wantPage(t, p, http.StatusForbidden, refusedAt(tt.path))
					}
					wantText(t, p, msg(t, lang, "error.forbidden"), msg(t, lang, "page.users_refused.general"))
					if strings.Contains(p.Raw, `id="users"`) || strings.Contains(p.Raw, "<form id=") {
						t.Error("the refusal shows the master's page")
					}
				})
			}
		}
		usersWantActive(t, b, other.LoginID)
		if _, _, err := b.Services.Identity.UserByLoginID(context.Background(), "sneaky01"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("a general user added a user: %v", err)
		}

		t.Run("another organization's user", func(t *testing.T) {
			theirs := b.NewOrg(t, "よその労働組合", true)
			stranger := b.NewGeneralUser(t, theirs)
			b.IssueCertificate(t, stranger)
			mc := usersCertLogin(t, b, org.Master, "")
			token := csrfToken(t, get(t, mc, b.CertPortalURL+"/users"))
			for _, target := range []string{stranger.LoginID, theirs.Master.LoginID, "nobody123"} {
				for _, tt := range []struct {
					method, path string
					form         url.Values
				}{
					{http.MethodGet, "/users/" + target + "/revoke", nil},
					{http.MethodPost, "/users/" + target + "/revoke", url.Values{"csrf_token": {token}, "reason": {"superseded"}, "confirmation_password": {org.Master.Confirmation}}},
					{http.MethodPost, "/users/" + target + "/unlock", url.Values{"csrf_token": {token}}},
				} {
					var p page
					if tt.method == http.MethodGet {
						p = get(t, mc, b.CertPortalURL+tt.path)
					} else {
						p = post(t, mc, b.CertPortalURL+tt.path, tt.form)
					}
					wantPage(t, p, http.StatusNotFound, refusedAt(tt.path))
					wantText(t, p, msg(t, "ja", "error.not_found"), msg(t, "ja", "users.back"))
					if strings.Contains(p.Raw, "一般 "+target) {
						t.Errorf("%s %s shows the other organization's user", tt.method, tt.path)
					}
				}
			}
			usersWantActive(t, b, stranger.LoginID)
			// A user of one's own organization without an active
			// certificate has nothing to revoke.
			without := b.NewGeneralUser(t, org)
			p := get(t, mc, b.CertPortalURL+"/users/"+without.LoginID+"/revoke")
			wantPage(t, p, http.StatusNotFound, "/users/"+without.LoginID+"/revoke")
			wantText(t, p, msg(t, "ja", "error.no_active_certificate"))
		})
	})
}

// TestR6_MasterAddsGeneralUsers: the master adds a general user with the
// confirmation password; the initial passwords are shown once, on a page
// that is not stored, and work; refusals keep what was typed; the 20th
// general user is refused with the limit explained.
func TestR6_MasterAddsGeneralUsers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ついか労働組合", false)
		for i, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
				form := get(t, c, b.PortalURL+"/users/new")
				wantPage(t, form, http.StatusOK, "/users/new")
				wantTitle(t, form, lang, "page.users_new.title")
				wantText(t, form, msg(t, lang, "page.users_new.login_id_hint"), msg(t, lang, "page.users_new.limit", i, 19))
				for _, s := range []string{`<form id="add-user-form" method="post" action="/users/new"`, `<label for="new_login_id">`, `<label for="new_name">`,
					`<label for="new_email">`, `<label for="confirmation_password">`, `<button id="add-user-submit" type="submit"`} {
					if !strings.Contains(form.Raw, s) {
						t.Errorf("the form lacks %s", s)
					}
				}
				loginID, name, email := "tsuika0"+lang, "追加 花子", "hanako-"+lang+"@example.org"
				p := post(t, c, b.PortalURL+"/users/new", url.Values{"csrf_token": {csrfToken(t, form)},
					"login_id": {loginID}, "name": {name}, "email": {email}, "confirmation_password": {org.Master.Confirmation}})
				wantPage(t, p, http.StatusOK, "/users/new")
				wantTitle(t, p, lang, "page.users_created.title")
				if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", cc)
				}
				pw := regexp.MustCompile(`id="initial-password">([^<]+)<`).FindStringSubmatch(p.Raw)
				cpw := regexp.MustCompile(`id="initial-confirmation-password">([^<]+)<`).FindStringSubmatch(p.Raw)
				if pw == nil || cpw == nil {
					t.Fatalf("no initial passwords on the page:\n%s", p.Text)
				}
				password, confirmation := html.UnescapeString(pw[1]), html.UnescapeString(cpw[1])
				if len(password) < 8 || len(confirmation) < 8 || password == confirmation {
					t.Errorf("initial passwords %q and %q", password, confirmation)
				}
				wantText(t, p, msg(t, lang, "page.users_created.lead", name, loginID), msg(t, lang, "page.users_created.once"),
					msg(t, lang, "page.users_created.handover"), msg(t, lang, "page.users_created.change", name),
					msg(t, lang, "page.users_created.next_password", name))
				// The users page lists the user and never shows the passwords.
				list := get(t, c, b.PortalURL+"/users")
				usersRowOf(t, list, loginID)
				if strings.Contains(list.Raw, password) || strings.Contains(list.Raw, confirmation) {
					t.Error("the users page shows an initial password")
				}
				// The passwords work and must be changed at the first login.
				u, _, err := b.Services.Identity.UserByLoginID(context.Background(), loginID)
				if err != nil || u.Role != identity.RoleGeneral || u.Name != name || u.Email != email || u.OrganizationID != org.ID {
					t.Fatalf("the new user: %+v, %v", u, err)
				}
				nc := b.Client(nil)
				wantPage(t, passwordLogin(t, b, nc, loginID, password), http.StatusOK, "/password/initial")
				if err := b.Services.Identity.CheckPassword(context.Background(), u, identity.ConfirmationPassword, confirmation, "test"); err != nil {
					t.Errorf("the initial confirmation password: %v", err)
				}
			})
		}
		t.Run("refusals", func(t *testing.T) {
			c := b.Client(nil)
			wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
			taken := b.NewGeneralUser(t, org)
			tests := []struct {
				name                               string
				loginID, userName, email, password string
				status                             int
				key                                string
			}{
				{"wrong confirmation password", "kotowari1", "断 一郎", "ichiro@example.org", "Wrong-pass1", http.StatusForbidden, "error.invalid_confirmation_password"},
				{"empty name", "kotowari2", "", "jiro@example.org", org.Master.Confirmation, http.StatusBadRequest, "error.required"},
				{"login ID without a digit", "kotowari", "断 三郎", "saburo@example.org", org.Master.Confirmation, http.StatusBadRequest, "error.invalid_login_id"},
				{"login ID too short", "ab1", "断 四郎", "shiro@example.org", org.Master.Confirmation, http.StatusBadRequest, "error.invalid_login_id"},
				{"login ID taken", taken.LoginID, "断 五郎", "goro@example.org", org.Master.Confirmation, http.StatusConflict, "error.login_id_taken"},
				{"another organization's login ID", b.NewOrg(t, "よそ労働組合", false).Master.LoginID, "断 六郎", "rokuro@example.org", org.Master.Confirmation, http.StatusConflict, "error.login_id_taken"},
				{"bad e-mail", "kotowari7", "断 七郎", "not an address", org.Master.Confirmation, http.StatusBadRequest, "error.invalid_email"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					form := get(t, c, b.PortalURL+"/users/new")
					p := post(t, c, b.PortalURL+"/users/new", url.Values{"csrf_token": {csrfToken(t, form)},
						"login_id": {tt.loginID}, "name": {tt.userName}, "email": {tt.email}, "confirmation_password": {tt.password}})
					wantPage(t, p, tt.status, "/users/new")
					wantTitle(t, p, "ja", "page.users_new.title")
					wantText(t, p, msg(t, "ja", tt.key))
					for _, v := range []string{tt.loginID, tt.userName, tt.email} {
						if v != "" && !strings.Contains(p.Raw, `value="`+html.EscapeString(v)+`"`) {
							t.Errorf("the form lost %q", v)
						}
					}
					if strings.Contains(p.Raw, tt.password) {
						t.Error("the form kept the confirmation password")
					}
					if strings.Contains(p.Raw, `id="initial-password"`) {
						t.Error("a refused form shows initial passwords")
					}
					if tt.key != "error.login_id_taken" {
						if _, _, err := b.Services.Identity.UserByLoginID(context.Background(), tt.loginID); !errors.Is(err, identity.ErrNotFound) {
							t.Errorf("the user was created: %v", err)
						}
					}
				})
			}
		})
		t.Run("the 20th general user", func(t *testing.T) {
			full := b.NewOrg(t, "まんいん労働組合", false)
			for range identity.MaxGeneralUsers - 1 {
				b.NewGeneralUser(t, full)
			}
			c := b.Client(nil)
			wantPage(t, passwordLogin(t, b, c, full.Master.LoginID, full.Master.Password), http.StatusOK, "/home")
			add := func(loginID string) page {
				form := get(t, c, b.PortalURL+"/users/new")
				return post(t, c, b.PortalURL+"/users/new", url.Values{"csrf_token": {csrfToken(t, form)},
					"login_id": {loginID}, "name": {"満員 " + loginID}, "email": {loginID + "@example.org"}, "confirmation_password": {full.Master.Confirmation}})
			}
			wantTitle(t, add("manin019"), "ja", "page.users_created.title")
			p := add("manin020")
			wantPage(t, p, http.StatusConflict, "/users/new")
			wantText(t, p, msg(t, "ja", "error.organization_user_limit"), msg(t, "ja", "page.users.full", 19))
			if strings.Contains(p.Raw, `id="add-user-form"`) {
				t.Error("the full organization's page still offers the form")
			}
			if _, _, err := b.Services.Identity.UserByLoginID(context.Background(), "manin020"); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("the 20th general user was created: %v", err)
			}
			list := get(t, c, b.PortalURL+"/users")
			wantText(t, list, msg(t, "ja", "page.users.count", 19, 19), msg(t, "ja", "page.users.full", 19))
			if strings.Contains(list.Raw, `id="add-user"`) {
				t.Error("the full organization's users page still offers to add a user")
			}
		})
	})
}

// TestUnlockByMaster: the master unlocks a locked general user from the
// users page; a master user is unlocked by the bank, which the page says.
func TestUnlockByMaster(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "かいじょ労働組合", false)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				user := b.NewGeneralUser(t, org)
				b.LockUser(t, user.LoginID)
				wantPage(t, passwordLogin(t, b, b.Client(nil), user.LoginID, user.Password), http.StatusLocked, "/login")
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
				list := get(t, c, b.PortalURL+"/users")
				row := usersRowOf(t, list, user.LoginID)
				if !strings.Contains(row.Raw, `<form class="unlock-form" method="post" action="/users/`+user.LoginID+`/unlock">`) {
					t.Fatalf("no unlock form in the row: %s", row.Raw)
				}
				if !strings.Contains(row.Raw, `name="confirmation_password"`) {
					t.Fatalf("the unlock form asks for no confirmation password: %s", row.Raw)
				}
				p := post(t, c, b.PortalURL+"/users/"+user.LoginID+"/unlock", url.Values{"csrf_token": {csrfToken(t, list)}, "confirmation_password": {"Wrong-pass1"}})
				wantPage(t, p, http.StatusForbidden, "/users")
				wantText(t, p, msg(t, lang, "error.invalid_confirmation_password"))
				if !strings.Contains(usersRowOf(t, p, user.LoginID).Raw, "unlock-form") {
					t.Fatal("a wrong confirmation password unlocked the user")
				}
				p = post(t, c, b.PortalURL+"/users/"+user.LoginID+"/unlock", url.Values{"csrf_token": {csrfToken(t, list)}, "confirmation_password": {org.Master.Confirmation}})
				wantPage(t, p, http.StatusOK, "/users")
				if got, want := usersNotice(p), msg(t, lang, "page.users.notice.unlocked", "一般 "+user.LoginID, user.LoginID); got != want {
					t.Errorf("notice = %q, want %q", got, want)
				}
				if strings.Contains(usersRowOf(t, p, user.LoginID).Raw, "unlock-form") {
					t.Error("the unlocked user still has an unlock form")
				}
				wantPage(t, passwordLogin(t, b, b.Client(nil), user.LoginID, user.Password), http.StatusOK, "/home")

				tests := []struct {
					name, loginID string
					status        int
					key           string
				}{
					{"master", org.Master.LoginID, http.StatusForbidden, "error.master_unlock_by_bank"},
					{"not locked", user.LoginID, http.StatusConflict, "error.not_locked"},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						p := post(t, c, b.PortalURL+"/users/"+tt.loginID+"/unlock", url.Values{"csrf_token": {csrfToken(t, list)}, "confirmation_password": {org.Master.Confirmation}})
						wantPage(t, p, tt.status, "/users")
						wantTitle(t, p, lang, "page.users.title")
						wantText(t, p, msg(t, lang, tt.key), msg(t, lang, "page.users.bank.master_unlock"))
						if usersNotice(p) != "" {
							t.Error("a refused unlock shows a notice")
						}
					})
				}
			})
		}
	})
}

// TestUsersFormsNeedTheToken: every form of the users pages is refused
// without the right token, and nothing changes.
func TestUsersFormsNeedTheToken(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "トークン労働組合 本部", true)
		user := b.NewGeneralUser(t, org)
		b.IssueCertificate(t, user)
		locked := b.NewGeneralUser(t, org)
		lu, _, err := b.Services.Identity.UserByLoginID(context.Background(), locked.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		for range identity.LockAfter {
			_ = b.Services.Identity.CheckPassword(context.Background(), lu, identity.LoginPassword, "Wrong-pass1", "test")
		}
		mc := usersCertLogin(t, b, org.Master, "")
		tokens := map[string]string{
			"no token":    "",
			"wrong token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		}
		for tname, token := range tokens {
			tests := []struct {
				name, path string
				form       url.Values
				title      string
			}{
				{"add", "/users/new", url.Values{"login_id": {"token01"}, "name": {"トークン"}, "email": {"token01@example.org"}, "confirmation_password": {org.Master.Confirmation}}, "page.users_new.title"},
				{"revoke", "/users/" + user.LoginID + "/revoke", url.Values{"reason": {"keyCompromise"}, "confirmation_password": {org.Master.Confirmation}}, "page.users_revoke.title"},
				{"unlock", "/users/" + locked.LoginID + "/unlock", url.Values{}, "page.users.title"},
			}
			for _, tt := range tests {
				t.Run(tname+"/"+tt.name, func(t *testing.T) {
					get(t, mc, b.CertPortalURL+"/users")
					if token != "" {
						tt.form.Set("csrf_token", token)
					}
					p := post(t, mc, b.CertPortalURL+tt.path, tt.form)
					wantPage(t, p, http.StatusForbidden, refusedAt(tt.path))
					wantTitle(t, p, "ja", tt.title)
					wantText(t, p, msg(t, "ja", "error.form_token"))
				})
			}
		}
		usersWantActive(t, b, user.LoginID)
		if _, _, err := b.Services.Identity.UserByLoginID(context.Background(), "token01"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("a user was added without the token: %v", err)
		}
		if u, _, err := b.Services.Identity.UserByLoginID(context.Background(), locked.LoginID); err != nil || !u.Locked() {
			t.Errorf("the user was unlocked without the token: %v", err)
		}
		// The refused revocation form keeps the reason and works with its
		// own token.
		path := "/users/" + user.LoginID + "/revoke"
		p := post(t, mc, b.CertPortalURL+path, url.Values{"reason": {"keyCompromise"}, "confirmation_password": {org.Master.Confirmation}})
		if !strings.Contains(p.Raw, `value="keyCompromise" selected`) {
			t.Error("the refused form lost the reason")
		}
		p = post(t, mc, b.CertPortalURL+path, url.Values{"csrf_token": {csrfToken(t, p)}, "reason": {"keyCompromise"}, "confirmation_password": {org.Master.Confirmation}})
		wantPage(t, p, http.StatusOK, "/users")
		t.Run("cross-site", func(t *testing.T) {
			other := b.NewGeneralUser(t, org)
			b.IssueCertificate(t, other)
			tok := csrfToken(t, get(t, mc, b.CertPortalURL+"/users"))
			form := url.Values{"csrf_token": {tok}, "reason": {"superseded"}, "confirmation_password": {org.Master.Confirmation}}
			req, _ := http.NewRequest(http.MethodPost, b.CertPortalURL+"/users/"+other.LoginID+"/revoke", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			if p := do(t, mc, req); p.Status != http.StatusForbidden {
				t.Errorf("cross-site revocation: %d, want 403", p.Status)
			}
			usersWantActive(t, b, other.LoginID)
		})
	})
}
