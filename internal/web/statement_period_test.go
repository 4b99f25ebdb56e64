package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/testutil"
)

// TestStatementOpensOnARangeWithEntries: the statement opens on this month
// when it has entries, else on the month of the latest entry (and says
// so); 今月, 先月 and 過去3か月 choose those periods; the CSV links carry
// the same file names as the API's downloads, and the one for Excel is
// UTF-8 after a byte order mark.
func TestStatementOpensOnARangeWithEntries(t *testing.T) {
	ctx := context.Background()
	b := testutil.NewBankAt(t, testutil.OpenSQLite(t), time.Date(2026, 10, 15, 10, 0, 0, 0, calendar.JST), nil)
	org := b.NewOrg(t, "明細労組", false)
	a, err := b.Services.Banking.OpenAccount(ctx, org.Code, "ordinary", "001", "1000001", "ﾒｲｻｲﾛｳｿ", "test", "ACC-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Services.Banking.Deposit(ctx, a.ID, 50_000, "ｸﾐｱｲﾋ", "test", "DEP-1"); err != nil {
		t.Fatal(err)
	}
	c := b.Client(nil)
	setLanguage(t, b, c, "ja")
	passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
	base := b.PortalURL + "/accounts/" + strconv.FormatInt(a.ID, 10) + "/statement"

	p := get(t, c, base)
	wantPage(t, p, http.StatusOK, "/accounts/"+strconv.FormatInt(a.ID, 10)+"/statement")
	wantText(t, p, `value="2026-10-01"`, `value="2026-10-15"`, "50,000円")
	if strings.Contains(p.Raw, `id="statement-moved"`) {
		t.Errorf("this month has entries, yet the page says it moved")
	}

	b.Clock.Set(time.Date(2026, 12, 4, 10, 0, 0, 0, calendar.JST))
	passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
	p = get(t, c, base)
	wantText(t, p, `value="2026-10-01"`, `value="2026-10-31"`, "50,000円", msg(t, "ja", "page.statement.moved"))
	wantText(t, p, `href="/accounts/`+strconv.FormatInt(a.ID, 10)+`/statement?from=2026-12-01&to=2026-12-04"`,
		`from=2026-11-01&to=2026-11-30`, `from=2026-10-01&to=2026-12-04`,
		msg(t, "ja", "page.statement.this_month"), msg(t, "ja", "page.statement.last_month"), msg(t, "ja", "page.statement.three_months"))
	wantText(t, p, `download="statement-001-1000001-20261001-20261031.csv"`,
		`download="statement-001-1000001-20261001-20261031-excel.csv"`, `download="statement-001-1000001-20261001-20261031-sjis.csv"`)

	csv := get(t, c, base+".csv?from=2026-10-01&to=2026-10-31&encoding=utf-8-bom")
	if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Raw, "\ufeff日付,摘要") {
		t.Fatalf("CSV for Excel: %d %q", csv.Status, csv.Raw[:min(len(csv.Raw), 20)])
	}
	if got, want := csv.Header.Get("Content-Disposition"), `attachment; filename=statement-001-1000001-20261001-20261031-excel.csv`; got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	api := b.Client(nil)
	api.Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password})
	resp, err := api.HTTP.Get(b.PortalURL + "/api/v1/accounts/" + strconv.FormatInt(a.ID, 10) + "/transactions?format=csv&encoding=utf-8-bom&from=2026-10-01&to=2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Disposition"); got != csv.Header.Get("Content-Disposition") {
		t.Errorf("the API names the file %q, the page %q", got, csv.Header.Get("Content-Disposition"))
	}
}
