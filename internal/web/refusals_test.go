package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestRefusalsTellTheTruth: 承認 is in the navigation of those who may
// approve only; a master over a limit is told to apply to the bank's
// branch, a general user to ask the master; a user logged in with ID and
// password who opens the certificate portal is told that the organization
// does not use certificates, and led back to the session.
func TestRefusalsTellTheTruth(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "正直労組", false)
		clerk := b.NewGeneralUser(t, org)
		master, _, err := b.Services.Identity.UserByLoginID(ctx, org.Master.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Services.Banking.SetPrivileges(ctx, master, clerk.LoginID, banking.Privileges{Inquiry: true, TransferRequest: true,
			TransactionLimit: 10_000, DailyLimit: 10_000}); err != nil {
			t.Fatal(err)
		}
		if err := b.Services.Banking.SetOrganizationDailyLimit(ctx, org.Code, 20_000, "test", "LIM-1"); err != nil {
			t.Fatal(err)
		}

		t.Run("approvals in the navigation", func(t *testing.T) {
			for _, c := range []struct {
				who  string
				cred testutil.Creds
				want bool
			}{{"master", org.Master, true}, {"clerk", clerk, false}} {
				cl := b.Client(nil)
				setLanguage(t, b, cl, "ja")
				home := passwordLogin(t, b, cl, c.cred.LoginID, c.cred.Password)
				if got := strings.Contains(home.Raw, `href="/approvals"`); got != c.want {
					t.Errorf("%s: the page links 承認: %v, want %v", c.who, got, c.want)
				}
			}
		})

		t.Run("whom to ask for a higher limit", func(t *testing.T) {
			for _, c := range []struct {
				who     string
				cred    testutil.Creds
				mention string
			}{
				{"clerk", clerk, "マスターユーザ"},
				{"master", org.Master, "お取引店"},
			} {
				api := b.Client(nil)
				r := api.Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": c.cred.LoginID, "password": c.cred.Password})
				if r.Status != http.StatusCreated {
					t.Fatalf("%s: API login %d", c.who, r.Status)
				}
				accts, err := b.Services.Banking.OrganizationAccounts(ctx, org.Code)
				if err != nil {
					t.Fatal(err)
				}
				if len(accts) == 0 {
					a, err := b.Services.Banking.OpenAccount(ctx, org.Code, "ordinary", "001", "2000001", "ｼｮｳｼﾞｷﾛｳｿ", "test", "ACC-1")
					if err != nil {
						t.Fatal(err)
					}
					accts = append(accts, a)
				}
				r = api.Portal(http.MethodPost, "/api/v1/transfers", map[string]any{"from_account_id": accts[0].ID, "amount": 50_000,
					"payee":          map[string]string{"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "1234567", "name": "ﾃｽﾄ"},
					"execution_date": ""})
				if r.ErrorCode() != "limit_exceeded" {
					t.Fatalf("%s: transfer over the limit: %d %s, want limit_exceeded", c.who, r.Status, r.ErrorCode())
				}
				if msg := r.String("message"); !strings.Contains(msg, c.mention) {
					t.Errorf("%s: the API's message %q does not say to ask %s", c.who, msg, c.mention)
				}
			}
		})

		t.Run("the certificate portal, to an ID+password user", func(t *testing.T) {
			cl := b.Client(nil)
			setLanguage(t, b, cl, "ja")
			passwordLogin(t, b, cl, clerk.LoginID, clerk.Password)
			p := get(t, cl, b.CertPortalURL+"/")
			wantText(t, p, msg(t, "ja", "error.organization_without_certificates"), msg(t, "ja", "error.back_to_portal"))
			// Without a session there, the page cannot know, and says both.
			anon := b.Client(nil)
			setLanguage(t, b, anon, "ja")
			p = get(t, anon, b.CertPortalURL+"/")
			wantText(t, p, msg(t, "ja", "error.certificate_required"), msg(t, "ja", "error.certificate_help.not_applied"))
		})
	})
}
