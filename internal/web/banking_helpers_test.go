package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/testutil"
)

// bankingDay is a Tuesday, a business day, at 10:00 in Japan: before the
// 15:00 cut-off.
var bankingDay = time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST)

// bankingSetup is an organization with an account holding money, a general
// user with privileges, and a payee's account at this bank in another
// organization.
type bankingSetup struct {
	b       *testutil.Bank
	org     testutil.Org
	general testutil.Creds
	account banking.Account // the organization's, 1,000,000 yen
	other   testutil.Org
	payee   banking.Account // the other organization's, empty
}

// newBankingSetup builds a bankingSetup; the general user gets p.
func newBankingSetup(t *testing.T, b *testutil.Bank, p banking.Privileges) bankingSetup {
	t.Helper()
	ctx := context.Background()
	s := bankingSetup{b: b}
	s.org = b.NewOrg(t, "ふりこみ労働組合", false)
	s.other = b.NewOrg(t, "うけとり商店会", false)
	s.general = b.NewGeneralUser(t, s.org)
	var err error
	if s.account, err = b.Services.Banking.OpenAccount(ctx, s.org.Code, banking.Ordinary, "001", "1000001", "ﾌﾘｺﾐﾛｳﾄﾞｳｸﾐｱｲ", "test", "REQ-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Services.Banking.Deposit(ctx, s.account.ID, 1_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		t.Fatal(err)
	}
	if s.payee, err = b.Services.Banking.OpenAccount(ctx, s.other.Code, banking.Ordinary, "002", "2000002", "ｳｹﾄﾘｼﾖｳﾃﾝｶｲ", "test", "REQ-3"); err != nil {
		t.Fatal(err)
	}
	master := bankingUser(t, b, s.org.Master.LoginID)
	if err := b.Services.Banking.SetPrivileges(ctx, master, s.general.LoginID, p); err != nil {
		t.Fatal(err)
	}
	return s
}

// bankingUser returns a user by login ID.
func bankingUser(t testing.TB, b *testutil.Bank, loginID string) identity.User {
	t.Helper()
	u, _, err := b.Services.Identity.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// bankingLogin logs a user in on the portal and returns the browser.
func bankingLogin(t testing.TB, b *testutil.Bank, c testutil.Creds, lang string) *testutil.Client {
	t.Helper()
	cl := b.Client(nil)
	if lang != "" {
		setLanguage(t, b, cl, lang)
	}
	wantPage(t, passwordLogin(t, b, cl, c.LoginID, c.Password), http.StatusOK, "/home")
	return cl
}

// balance returns an account's balance now.
func balance(t testing.TB, b *testutil.Bank, orgCode string, id int64) int64 {
	t.Helper()
	as, err := b.Services.Banking.OrganizationAccounts(context.Background(), orgCode)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a.Balance
		}
	}
	t.Fatalf("no account %d", id)
	return 0
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden fields of a page (the last value of each
// name wins).
func hiddenFields(p page) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.Raw, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// transferEntry fills the entry form of a new transfer with the fields
// given and sends it to the confirmation step.
func transferEntry(t testing.TB, s bankingSetup, c *testutil.Client, fields map[string]string) page {
	t.Helper()
	form := get(t, c, s.b.PortalURL+"/transfers/new")
	wantPage(t, form, http.StatusOK, "/transfers/new")
	v := hiddenFields(form)
	v.Set("from_account", itoa(s.account.ID))
	v.Set("execution_date", "")
	for k, x := range fields {
		v.Set(k, x)
	}
	return post(t, c, s.b.PortalURL+"/transfers/new", v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
