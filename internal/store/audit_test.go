package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestListAuditFilters(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Events of organizations and users that exist nowhere: the log
		// keeps what happened even for rows deleted since.
		evs := []audit.Event{
			{At: unitT0, Type: audit.LoginFailed, Actor: "system", Detail: "unknown login ID"},
			{At: unitT0.Add(time.Second), Type: audit.LoginSucceeded, Actor: "user:a", OrganizationID: 701, UserID: 801, Detail: "password login"},
			{At: unitT0.Add(2 * time.Second), Type: audit.CertificateIssued, Actor: "user:a", OrganizationID: 701, UserID: 801, Serial: "0abc", Detail: "x"},
			{At: unitT0.Add(3 * time.Second), Type: audit.CertificateRevoked, Actor: "operator:s", OrganizationID: 701, UserID: 802, Serial: "0abd", RequestRef: "REQ-9", Detail: "reason superseded"},
			{At: unitT0.Add(4 * time.Second), Type: audit.LoginSucceeded, Actor: "user:b", OrganizationID: 702, UserID: 803, Detail: "certificate login"},
		}
		for _, ev := range evs {
			if err := db.AppendAudit(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		pick := func(idx ...int) []audit.Event {
			var out []audit.Event
			for _, i := range idx {
				out = append(out, evs[i])
			}
			return out
		}
		cases := []struct {
			name string
			f    store.AuditFilter
			want []audit.Event
		}{
			{"all, in order", store.AuditFilter{}, evs},
			{"organization", store.AuditFilter{OrganizationID: 701}, pick(1, 2, 3)},
			{"user", store.AuditFilter{UserID: 801}, pick(1, 2)},
			{"type", store.AuditFilter{Type: audit.LoginSucceeded}, pick(1, 4)},
			{"since is inclusive", store.AuditFilter{Since: unitT0.Add(3 * time.Second)}, pick(3, 4)},
			{"until is exclusive", store.AuditFilter{Until: unitT0.Add(2 * time.Second)}, pick(0, 1)},
			{"combined", store.AuditFilter{OrganizationID: 701, Type: audit.LoginSucceeded, Since: unitT0, Until: unitT0.Add(time.Hour)}, pick(1)},
			{"limit", store.AuditFilter{Limit: 2}, pick(0, 1)},
			{"nothing", store.AuditFilter{OrganizationID: 703}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if diff := cmp.Diff(tc.want, unitAudit(t, db, tc.f)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestAuditInTheSameTransaction checks, for every method that changes state
// and every kind of change in a domain package's transaction, that its
// audit event is written with the change, and that when the event cannot be
// written the change does not happen either.
func TestAuditInTheSameTransaction(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ev := func(typ audit.Type) audit.Event {
			return audit.Event{At: unitT0, Type: typ, Actor: "user:test", Detail: "t"}
		}
		end := unitT0.Add(12 * time.Hour)
		identityTx := func(fn func(tx identity.Tx) error) error { return db.InIdentityTx(ctx, fn) }
		cases := []struct {
			name    string
			typ     audit.Type
			prepare func(t *testing.T) func() error
		}{
			{"insert organization and master", audit.OrganizationCreated, func(t *testing.T) func() error {
				return func() error {
					org := identity.Organization{Code: unitName("9"), Name: "n", CreatedAt: unitT0}
					m := identity.User{LoginID: unitName("m"), Name: "n", Email: "n@example.org", Role: identity.RoleMaster,
						PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
					return unitCreateOrg(ctx, db, &org, &m, ev(audit.OrganizationCreated))
				}
			}},
			{"insert general user", audit.UserCreated, func(t *testing.T) func() error {
				org, _ := unitOrg(t, db)
				return func() error {
					u := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "n", Email: "n@example.org",
						Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
					return identityTx(func(tx identity.Tx) error {
						if _, err := tx.LockOrganization(ctx, org.ID); err != nil {
							return err
						}
						if _, err := tx.CountGeneralUsers(ctx, org.ID); err != nil {
							return err
						}
						if err := tx.InsertUser(ctx, &u); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, ev(audit.UserCreated))
					})
				}
			}},
			{"set certificate login", audit.CertificateLoginEnabled, func(t *testing.T) func() error {
				org, master := unitOrg(t, db)
				unitSession(t, db, master, nil, unitT0, end)
				return func() error {
					return identityTx(func(tx identity.Tx) error {
						o, err := tx.LockOrganizationByCode(ctx, org.Code)
						if err != nil {
							return err
						}
						if err := tx.SetCertificateLogin(ctx, o.ID, true); err != nil {
							return err
						}
						if err := tx.DeletePasswordSessions(ctx, o.ID); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, ev(audit.CertificateLoginEnabled))
					})
				}
			}},
			{"certificate transaction: replace a pending record", audit.CertificateRequested, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				old := unitPending(t, db, master, unitT0)
				return func() error {
					now := unitT0.Add(time.Hour)
					c := unitPendingRecord(master, now)
					return db.Certs().InTx(ctx, func(tx certs.Tx) error {
						if err := tx.SetRevoked(ctx, old.ID, certs.Revocation{Reason: "unspecified", At: now, By: audit.System}); err != nil {
							return err
						}
						if err := tx.InsertPending(ctx, &c); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, ev(audit.CertificateRequested))
					})
				}
			}},
			{"certificate transaction: store a signature", audit.CertificateIssued, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				c := unitPending(t, db, master, unitT0)
				return func() error {
					return unitMarkIssued(ctx, db, c.ID, []byte("der"), unitRandomHex(32), unitT0, ev(audit.CertificateIssued))
				}
			}},
			{"certificate transaction: revoke", audit.CertificateRevoked, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				c := unitIssued(t, db, master, unitT0, end)
				unitSession(t, db, master, &c, unitT0, end)
				return func() error {
					return unitRevoke(ctx, db, c.ID, certs.Revocation{Reason: "superseded", At: unitT0, By: "user:x"}, ev(audit.CertificateRevoked))
				}
			}},
			{"set login failures", audit.UserLocked, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				return func() error {
					return identityTx(func(tx identity.Tx) error {
						u, err := tx.LockUser(ctx, master.ID)
						if err != nil {
							return err
						}
						if err := tx.SetLoginFailures(ctx, u.ID, u.FailedLogins+1, unitT0); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, ev(audit.UserLocked))
					})
				}
			}},
			{"set password", audit.PasswordChanged, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				return func() error {
					return identityTx(func(tx identity.Tx) error {
						if err := tx.SetPassword(ctx, master.ID, identity.LoginPassword, "new hash", false); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, ev(audit.PasswordChanged))
					})
				}
			}},
			{"CreateSession", audit.LoginSucceeded, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				return func() error {
					return db.CreateSession(ctx, auth.Session{IDHash: unitRandomHex(32), UserID: master.ID, CreatedAt: unitT0,
						LastSeenAt: unitT0, ExpiresAt: end}, ev(audit.LoginSucceeded))
				}
			}},
			{"DeleteSession", audit.SessionEnded, func(t *testing.T) func() error {
				_, master := unitOrg(t, db)
				h := unitSession(t, db, master, nil, unitT0, end)
				return func() error { return db.DeleteSession(ctx, h, ev(audit.SessionEnded)) }
			}},
		}
		count := func(t *testing.T, typ audit.Type) int {
			return len(unitAudit(t, db, store.AuditFilter{Type: typ}))
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Run("written with the change", func(t *testing.T) {
					do := tc.prepare(t)
					before, state := count(t, tc.typ), unitState(t, db)
					if err := do(); err != nil {
						t.Fatalf("change: %v", err)
					}
					if got := count(t, tc.typ); got != before+1 {
						t.Errorf("%s events %d -> %d, want one more", tc.typ, before, got)
					}
					if unitState(t, db) == state {
						t.Error("the change changed nothing")
					}
				})
				t.Run("no change without it", func(t *testing.T) {
					do := tc.prepare(t)
					before, state := len(unitAudit(t, db, store.AuditFilter{})), unitState(t, db)
					if _, err := db.SQL().Exec(`ALTER TABLE audit_events RENAME TO audit_events_off`); err != nil {
						t.Fatal(err)
					}
					err := do()
					if _, rerr := db.SQL().Exec(`ALTER TABLE audit_events_off RENAME TO audit_events`); rerr != nil {
						t.Fatalf("restore audit table: %v", rerr)
					}
					if err == nil {
						t.Fatal("change succeeded although its audit event could not be written")
					}
					if diff := cmp.Diff(state, unitState(t, db)); diff != "" {
						t.Errorf("state changed without its audit event (-before +after):\n%s", diff)
					}
					if after := len(unitAudit(t, db, store.AuditFilter{})); after != before {
						t.Errorf("audit events %d -> %d", before, after)
					}
				})
			})
		}
	})
}

// TestAuditEventsTakeTheRequestIDFromTheContext: an event written while
// serving a request names the request (its ID in the context), unless it
// names one itself; an event of a job names none. The ID is in the chain:
// changing it breaks the chain.
func TestAuditEventsTakeTheRequestIDFromTheContext(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rctx := audit.WithRequestID(ctx, "r-ctx")
		for _, c := range []struct {
			ctx context.Context
			id  string
		}{{rctx, ""}, {rctx, "r-own"}, {ctx, ""}} {
			if err := db.AppendAudit(c.ctx, audit.Event{At: unitT0, Type: audit.LoginFailed, Actor: audit.System, RequestID: c.id}); err != nil {
				t.Fatal(err)
			}
		}
		link(t, db)
		evs, err := db.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.RequestID)
		}
		if diff := cmp.Diff([]string{"r-ctx", "r-own", ""}, got); diff != "" {
			t.Errorf("request IDs (-want +got):\n%s", diff)
		}
		if v := mustVerify(t, db); v.Break != nil || v.Count != 3 {
			t.Fatalf("verify: %+v", v)
		}
		exec(t, db, `UPDATE audit_events SET request_id = 'r-other' WHERE id = 1`)
		if v := mustVerify(t, db); v.Break == nil || v.Break.ID != 1 {
			t.Errorf("request ID changed: break %+v, want at row 1", v.Break)
		}
	})
}
