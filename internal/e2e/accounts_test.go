package e2e_test

// Tests of accounts and sessions through the real TLS listeners: lockout,
// initial passwords, session cookies and timeouts, and the CA chain.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

const wrongPassword = "Wrong-password-1"

func TestLockoutAfterSixWrongPasswords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		cases := []struct {
			name             string
			certificateLogin bool
		}{
			{"portal", false},
			{"certificate portal", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				org := b.NewOrg(t, "ロック労組 "+c.name, c.certificateLogin)
				g := b.NewGeneralUser(t, org)
				var master, kept *testutil.Client
				var gc *tls.Certificate
				// On the portal, a wrong login password counts towards the
				// lock inside a session only (a password change); the
				// portal's login is throttled and never locks.
				login := func(password string) testutil.Response {
					if password == g.Password {
						return b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": password})
					}
					return kept.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": password, "new": "Brand-new-password-1"})
				}
				if c.certificateLogin {
					master = certLogin(t, b, b.IssueCertificate(t, org.Master), org.Master)
					gc = b.IssueCertificate(t, g)
					kept = b.Client(gc)
					login = func(password string) testutil.Response {
						return kept.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": password})
					}
				} else {
					master = passwordLogin(t, b, org.Master)
					kept = passwordLogin(t, b, g)
				}
				keepAlive(kept)
				onListener := func(cl *testutil.Client, method, path string, body any) testutil.Response {
					if c.certificateLogin {
						return cl.CertPortal(method, path, body)
					}
					return cl.Portal(method, path, body)
				}

				// Six in a row: a right password in between starts again.
				for i := range 5 {
					expect(t, fmt.Sprintf("wrong password %d", i+1), login(wrongPassword), http.StatusUnauthorized, "invalid_credentials")
				}
				expect(t, "right password after 5 wrong ones", login(g.Password), http.StatusCreated, "")
				for i := range 5 {
					expect(t, fmt.Sprintf("wrong password %d", i+1), login(wrongPassword), http.StatusUnauthorized, "invalid_credentials")
				}
				expect(t, "6th wrong password in a row", login(wrongPassword), http.StatusLocked, "account_locked")
				if c.certificateLogin {
					// The certificate's user is locked: the certificate is
					// refused before any password.
					expect(t, "right password", login(g.Password), http.StatusForbidden, "user_unavailable")
					expect(t, "new connection of a locked user", b.Client(gc).CertPortal(http.MethodGet, pathMe, nil),
						http.StatusForbidden, "user_unavailable")
				} else {
					expect(t, "right password", login(g.Password), http.StatusLocked, "account_locked")
				}
				r, _ := issue(t, b, g)
				expect(t, "issuance with the right password", r, http.StatusLocked, "account_locked")

				r = onListener(master, http.MethodGet, pathUsers, nil)
				expect(t, "GET /api/v1/users", r, http.StatusOK, "")
				for _, x := range r.Body["users"].([]any) {
					if u := x.(map[string]any); u["login_id"] == g.LoginID && u["locked"] != true {
						t.Fatalf("locked user listed as %v", u)
					}
				}

				// The master unlocks the general user, with the confirmation password.
				expect(t, "unlock without the confirmation password", onListener(master, http.MethodPost, unlockPath(g.LoginID), map[string]string{}),
					http.StatusForbidden, "invalid_confirmation_password")
				expect(t, "unlock with a wrong confirmation password", onListener(master, http.MethodPost, unlockPath(g.LoginID), map[string]string{"confirmation_password": wrongPassword}),
					http.StatusForbidden, "invalid_confirmation_password")
				expect(t, "unlock", onListener(master, http.MethodPost, unlockPath(g.LoginID), map[string]string{"confirmation_password": org.Master.Confirmation}), http.StatusOK, "")
				expect(t, "second unlock", onListener(master, http.MethodPost, unlockPath(g.LoginID), map[string]string{"confirmation_password": org.Master.Confirmation}), http.StatusConflict, "not_locked")
				if c.certificateLogin {
					certLogin(t, b, gc, g)
				} else {
					passwordLogin(t, b, g)
				}
			})
		}
	})
}

func TestLockoutOfMasterIsLiftedByBank(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		locked := b.NewOrg(t, "マスターロック労組", false)
		other := b.NewOrg(t, "隣の労組", false)
		og := b.NewGeneralUser(t, other)
		om := passwordLogin(t, b, other.Master)
		general := passwordLogin(t, b, og)

		cl := b.Client(nil)
		b.LockUser(t, locked.Master.LoginID)
		expect(t, "wrong password", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": locked.Master.LoginID, "password": wrongPassword}),
			http.StatusUnauthorized, "invalid_credentials")
		expect(t, "right password", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": locked.Master.LoginID, "password": locked.Master.Password}),
			http.StatusLocked, "account_locked")

		for _, c := range []struct {
			name   string
			cl     *testutil.Client
			target string
			status int
			code   string
		}{
			{"another organization's master", om, locked.Master.LoginID, http.StatusNotFound, "not_found"},
			{"a master unlocking a master", om, other.Master.LoginID, http.StatusForbidden, "master_unlock_by_bank"},
			{"a general user", general, locked.Master.LoginID, http.StatusForbidden, "forbidden"},
		} {
			t.Run(c.name, func(t *testing.T) {
				expect(t, "unlock", c.cl.Portal(http.MethodPost, unlockPath(c.target), map[string]string{"confirmation_password": other.Master.Confirmation}), c.status, c.code)
			})
		}
		expect(t, "still locked", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": locked.Master.LoginID, "password": locked.Master.Password}),
			http.StatusLocked, "account_locked")

		// The bank unlocks on the written request.
		if err := b.Services.Identity.UnlockByBank(ctx, locked.Master.LoginID, "sato", "REQ-2026-0100"); err != nil {
			t.Fatalf("unlock by bank: %v", err)
		}
		evs, err := b.DB.ListAudit(ctx, store.AuditFilter{OrganizationID: locked.ID, Type: audit.UserUnlocked})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Actor != "operator:sato" || evs[0].RequestRef != "REQ-2026-0100" {
			t.Fatalf("audit of the unlock: %+v", evs)
		}
		passwordLogin(t, b, locked.Master)
	})
}

func TestInitialPasswordsMustBeChanged(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "初回変更労組", false)
		cases := []struct {
			name   string
			create func(t *testing.T) testutil.Creds
			// GET /api/v1/users once the passwords are changed
			usersStatus int
			usersCode   string
		}{
			{"general user created by the master", func(t *testing.T) testutil.Creds {
				r := passwordLogin(t, b, org.Master).Portal(http.MethodPost, pathUsers, map[string]string{"login_id": "newbie01", "name": "新人", "email": "newbie01@example.org"})
				expect(t, "create user", r, http.StatusCreated, "")
				return testutil.Creds{LoginID: "newbie01", Password: r.String("password"), Confirmation: r.String("confirmation_password"), Role: identity.RoleGeneral}
			}, http.StatusForbidden, "forbidden"},
			{"master of an organization created by the bank", func(t *testing.T) testutil.Creds {
				_, _, pw, err := b.Services.Identity.CreateOrganization(ctx, identity.NewOrganization{
					Name: "新規労組", MasterLoginID: "newmas01", MasterName: "新任マスター", MasterEmail: "newmas01@example.org"}, "operator:test")
				if err != nil {
					t.Fatal(err)
				}
				return testutil.Creds{LoginID: "newmas01", Password: pw.Password, Confirmation: pw.ConfirmationPassword, Role: identity.RoleMaster}
			}, http.StatusOK, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u := c.create(t)
				if u.Password == "" || u.Confirmation == "" {
					t.Fatalf("no initial passwords: %+v", u)
				}
				cl := b.Client(nil)
				r := cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": u.LoginID, "password": u.Password})
				expect(t, "first login", r, http.StatusCreated, "")
				if r.Body["password_change_required"] != true {
					t.Fatalf("first login: %s", r.Raw)
				}
				gated := func(what string) {
					t.Helper()
					expect(t, what+": GET /api/v1/users", cl.Portal(http.MethodGet, pathUsers, nil), http.StatusForbidden, "password_change_required")
					expect(t, what+": POST /api/v1/users", cl.Portal(http.MethodPost, pathUsers, map[string]string{"login_id": "sneaky01", "name": "x", "email": "sneaky01@example.org"}),
						http.StatusForbidden, "password_change_required")
					expect(t, what+": unlock", cl.Portal(http.MethodPost, unlockPath(org.Master.LoginID), map[string]string{"confirmation_password": "x"}), http.StatusForbidden, "password_change_required")
				}
				gated("before any change")
				r = cl.Portal(http.MethodGet, pathMe, nil)
				expect(t, "GET /api/v1/me", r, http.StatusOK, "")
				if r.Body["password_change_required"] != true {
					t.Fatalf("GET /api/v1/me: %s", r.Raw)
				}

				newPassword, newConfirmation := "Renewed-login-1", "Renewed-confirm-1"
				expect(t, "login password unchanged", cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": u.Password, "new": u.Password}),
					http.StatusBadRequest, "invalid_password")
				expect(t, "login password equal to the confirmation password", cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": u.Password, "new": u.Confirmation}),
					http.StatusBadRequest, "invalid_password")
				expect(t, "login password change with a wrong current one", cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": wrongPassword, "new": newPassword}),
					http.StatusUnauthorized, "invalid_credentials")
				r = cl.Portal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": u.Password, "new": newPassword})
				expect(t, "login password change", r, http.StatusOK, "")
				if r.Body["password_change_required"] != true {
					t.Fatalf("after the login password only: %s", r.Raw)
				}
				gated("after the login password only")

				r = cl.Portal(http.MethodPost, "/api/v1/me/confirmation-password", map[string]string{"current": u.Confirmation, "new": newConfirmation})
				expect(t, "confirmation password change", r, http.StatusOK, "")
				if r.Body["password_change_required"] != false {
					t.Fatalf("after both: %s", r.Raw)
				}
				expect(t, "GET /api/v1/users after both", cl.Portal(http.MethodGet, pathUsers, nil), c.usersStatus, c.usersCode)

				expect(t, "login with the initial password", b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": u.LoginID, "password": u.Password}),
					http.StatusUnauthorized, "invalid_credentials")
				r = b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": u.LoginID, "password": newPassword})
				expect(t, "login with the new password", r, http.StatusCreated, "")
				if r.Body["password_change_required"] != false {
					t.Fatalf("login with the new password: %s", r.Raw)
				}
			})
		}
	})
}

// sessionKinds are the two ways to hold a session: ID + password on the
// portal, certificate + password on the certificate portal.
var sessionKinds = []struct {
	name   string
	cookie string
	// login returns a logged-in client and a function that sends a request
	// on the session's listener.
	login func(t *testing.T, b *testutil.Bank) (*testutil.Client, testutil.Response, func(cl *testutil.Client, method, path string) testutil.Response)
}{
	{"portal", httpedge.PortalCookie, func(t *testing.T, b *testutil.Bank) (*testutil.Client, testutil.Response, func(*testutil.Client, string, string) testutil.Response) {
		org := b.NewOrg(t, "ID方式労組", false)
		cl := b.Client(nil)
		r := cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password})
		expect(t, "login", r, http.StatusCreated, "")
		return cl, r, func(cl *testutil.Client, method, path string) testutil.Response { return cl.Portal(method, path, nil) }
	}},
	{"certificate portal", httpedge.CertPortalCookie, func(t *testing.T, b *testutil.Bank) (*testutil.Client, testutil.Response, func(*testutil.Client, string, string) testutil.Response) {
		org := b.NewOrg(t, "証明書方式労組", true)
		cl := b.Client(b.IssueCertificate(t, org.Master))
		r := cl.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password})
		expect(t, "login", r, http.StatusCreated, "")
		return cl, r, func(cl *testutil.Client, method, path string) testutil.Response {
			return cl.CertPortal(method, path, nil)
		}
	}},
}

func TestSessionCookie(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for _, k := range sessionKinds {
			t.Run(k.name, func(t *testing.T) {
				_, r, _ := k.login(t, b)
				set := r.Header.Values("Set-Cookie")
				if len(set) != 1 {
					t.Fatalf("Set-Cookie headers: %q, want one", set)
				}
				c, err := http.ParseSetCookie(set[0])
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", set[0], err)
				}
				type attrs struct {
					Name, Path, Domain string
					Secure, HTTPOnly   bool
					SameSite           http.SameSite
					LongToken          bool // at least 128 bits in base64
				}
				got := attrs{c.Name, c.Path, c.Domain, c.Secure, c.HttpOnly, c.SameSite, len(c.Value) >= 22}
				want := attrs{Name: k.cookie, Path: "/", Secure: true, HTTPOnly: true, SameSite: http.SameSiteStrictMode, LongToken: true}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("session cookie %q (-want +got):\n%s", set[0], d)
				}
				if !strings.HasPrefix(c.Name, "__Host-") {
					t.Fatalf("cookie name %q lacks the __Host- prefix", c.Name)
				}
			})
		}
		if httpedge.PortalCookie == httpedge.CertPortalCookie {
			t.Fatal("both listeners use the same cookie name; cookies do not separate ports")
		}
	})
}

func TestSessionIdleTimeout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for _, k := range sessionKinds {
			t.Run(k.name, func(t *testing.T) {
				cl, _, get := k.login(t, b)
				for _, step := range []struct {
					idle   time.Duration
					status int
					code   string
				}{
					{14*time.Minute + 59*time.Second, http.StatusOK, ""},
					{14 * time.Minute, http.StatusOK, ""},
					{16 * time.Minute, http.StatusUnauthorized, "unauthenticated"},
				} {
					b.Clock.Advance(step.idle)
					expect(t, "GET /api/v1/me after "+step.idle.String(), get(cl, http.MethodGet, pathMe), step.status, step.code)
				}
			})
		}
	})
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for _, k := range sessionKinds {
			t.Run(k.name, func(t *testing.T) {
				cl, _, get := k.login(t, b)
				start := b.Clock.Now()
				for b.Clock.Now().Sub(start) < 12*time.Hour-10*time.Minute {
					b.Clock.Advance(10 * time.Minute)
					expect(t, "GET /api/v1/me after "+b.Clock.Now().Sub(start).String(), get(cl, http.MethodGet, pathMe), http.StatusOK, "")
				}
				b.Clock.Advance(10 * time.Minute)
				expect(t, "GET /api/v1/me after 12h", get(cl, http.MethodGet, pathMe), http.StatusUnauthorized, "unauthenticated")
			})
		}
	})
}

func TestSessionLogout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for _, k := range sessionKinds {
			t.Run(k.name, func(t *testing.T) {
				cl, _, get := k.login(t, b)
				base := b.PortalURL
				if k.cookie == httpedge.CertPortalCookie {
					base = b.CertPortalURL
				}
				token := cookie(t, cl, base, k.cookie)
				expect(t, "GET /api/v1/me", get(cl, http.MethodGet, pathMe), http.StatusOK, "")
				expect(t, "logout", get(cl, http.MethodDelete, pathSession), http.StatusNoContent, "")
				expect(t, "GET /api/v1/me after logout", get(cl, http.MethodGet, pathMe), http.StatusUnauthorized, "unauthenticated")
				// The old token is dead on the server, not only forgotten by
				// the client.
				r := send(cl, http.MethodGet, base+pathMe, nil, map[string]string{"Cookie": k.cookie + "=" + token})
				expect(t, "old token after logout", r, http.StatusUnauthorized, "unauthenticated")
			})
		}
	})
}

func TestCAChainServed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		r := b.Client(nil).Portal(http.MethodGet, "/pki/ca.pem", nil)
		expect(t, "GET /pki/ca.pem", r, http.StatusOK, "")
		if ct := r.Header.Get("Content-Type"); ct != "application/x-pem-file" {
			t.Errorf("Content-Type %q", ct)
		}
		var got [][]byte
		rest := r.Raw
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				t.Fatalf("PEM block %q", block.Type)
			}
			got = append(got, block.Bytes)
		}
		if d := cmp.Diff([][]byte{b.Authority.Issuing.Raw, b.Authority.Root.Raw}, got); d != "" {
			t.Fatalf("CA chain: issuing CA then root (-want +got):\n%s", d)
		}

		// An issued certificate chains through it to the root.
		org := b.NewOrg(t, "チェーン労組", true)
		cert := b.IssueCertificate(t, org.Master)
		issuing, err := x509.ParseCertificate(got[0])
		if err != nil {
			t.Fatal(err)
		}
		root, err := x509.ParseCertificate(got[1])
		if err != nil {
			t.Fatal(err)
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(root)
		inter.AddCert(issuing)
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: b.Clock.Now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("issued certificate does not chain to the served root: %v", err)
		}
	})
}
