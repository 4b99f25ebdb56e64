package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/width"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/operators"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestConsoleRefusesACertificateOfNoOperator(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		stranger := f.client("stranger") // signed by the operator CA, recorded for no one
		p := stranger.get("/")
		if p.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", p.status)
		}
		p.mustContain(t, "有効なオペレーターのものではありません")
		if strings.Contains(p.body, `id="operator"`) {
			t.Error("the refused page names an operator")
		}
	})
}

func TestConsoleShowsTheOperatorAndTheStrictHeaders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.clerk.get("/")
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		p.mustContain(t, "田中 一郎", "担当者")
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			if p.header.Get(h) == "" {
				t.Errorf("no %s", h)
			}
		}
		if !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("CSP %q", p.header.Get("Content-Security-Policy"))
		}
	})
}

func TestAuditorCannotFile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "監査テスト株式会社", false)
		list := f.auditor.get("/requests")
		if list.status != http.StatusOK {
			t.Fatalf("requests page: %d", list.status)
		}
		if strings.Contains(list.body, `id="new-requests"`) || strings.Contains(list.body, `csrf_token`) {
			t.Error("the auditor's requests page shows forms")
		}
		if p := f.auditor.get("/organizations/" + org.Code); strings.Contains(p.body, "/file/") || strings.Contains(p.body, "/accounts/new") {
			t.Error("the auditor's organization page links to the forms")
		}
		if p := f.auditor.get("/file/limit_set"); p.status != http.StatusForbidden {
			t.Errorf("the auditor's form: %d, want 403", p.status)
		}
		// Even with a form token of a session of their own.
		tok := f.auditor.token()
		p := f.auditor.post("/file/limit_set", url.Values{"csrf_token": {tok}, "ref": {"LIM-A"},
			"organization_code": {org.Code}, "daily": {"1000"}})
		if p.status != http.StatusForbidden {
			t.Errorf("the auditor's filing: %d, want 403", p.status)
		}
		p.mustContain(t, "あなたの役割ではこの操作はできません")
		for _, path := range []string{"/accounts/new", "/outbox/1/resend", "/interbank", "/staff"} {
			if p := f.auditor.post(path, url.Values{"csrf_token": {tok}}); p.status != http.StatusForbidden {
				t.Errorf("the auditor's POST %s: %d, want 403", path, p.status)
			}
		}
		if list, _ := f.ops.List(context.Background(), operators.Filter{}); len(list) != 0 {
			t.Errorf("requests filed: %+v", list)
		}
	})
}

func TestPostWithoutTheFormTokenIsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "トークン株式会社", false)
		f.clerk.get("/") // a session
		form := url.Values{"ref": {"LIM-1"}, "organization_code": {org.Code}, "daily": {"1000"}}
		for name, tok := range map[string]string{"none": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			form.Set("csrf_token", tok)
			p := f.clerk.postRaw("/file/limit_set", form)
			if p.status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, p.status)
			}
			p.mustContain(t, "画面を開き直して")
		}
		// Another operator's token is not this session's.
		form.Set("csrf_token", f.approver.token())
		if p := f.clerk.postRaw("/file/limit_set", form); p.status != http.StatusForbidden {
			t.Errorf("another session's token: %d, want 403", p.status)
		}
		if list, _ := f.ops.List(context.Background(), operators.Filter{}); len(list) != 0 {
			t.Fatalf("requests filed: %+v", list)
		}
		form.Set("csrf_token", f.clerk.token())
		if p := f.clerk.postRaw("/file/limit_set", form); p.status != http.StatusSeeOther {
			t.Fatalf("with the token: %d\n%s", p.status, excerpt(p.body))
		}
	})
}

func TestSessionUsedWithAnotherCertificateIsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.clerk.get("/")
		u, _ := url.Parse(f.srv.URL)
		cookies := f.clerk.http.Jar.Cookies(u)
		if len(cookies) == 0 {
			t.Fatal("no session cookie")
		}
		// The clerk's cookie, carried to the approver's connection.
		f.approver.http.Jar.SetCookies(u, cookies)
		p := f.approver.get("/requests")
		if p.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", p.status)
		}
		p.mustContain(t, "別の証明書")
		// The session ended: the clerk gets a new one, without the old
		// token.
		old := cookies[0].Value
		f.clerk.get("/")
		if now := f.clerk.http.Jar.Cookies(u); len(now) == 0 || now[0].Value == old {
			t.Error("the clerk's session was not renewed after it was refused")
		}
		// The same operator with a second certificate of their own is
		// refused too: the session is bound to the certificate.
		again := f.client("tanaka-2")
		f.ops.addCertificate(f.clerk.staff.ID, fingerprintOf(again))
		f.clerk.get("/")
		again.http.Jar.SetCookies(u, f.clerk.http.Jar.Cookies(u))
		if p := again.get("/"); p.status != http.StatusForbidden {
			t.Errorf("the same operator's other certificate: %d, want 403", p.status)
		}
	})
}

func TestSessionEndsAfterTheIdleTimeout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "アイドル株式会社", false)
		tok := f.clerk.token()
		f.bank.Clock.Advance(16 * time.Minute)
		p := f.clerk.post("/file/limit_set", url.Values{"csrf_token": {tok}, "ref": {"LIM-IDLE"},
			"organization_code": {org.Code}, "daily": {"1000"}})
		if p.status != http.StatusForbidden {
			t.Fatalf("after 16 idle minutes: %d, want 403", p.status)
		}
		// Nothing done, nothing lost: the form again, with what was
		// typed and the new session's token.
		p.mustContain(t, "画面の有効期限が切れたか", `value="LIM-IDLE"`, `value="`+org.Code+`"`, `value="1000"`)
		if list, _ := f.ops.List(context.Background(), operators.Filter{}); len(list) != 0 {
			t.Fatal("a form of an ended session filed its request")
		}
		m := tokenField.FindStringSubmatch(p.body)
		if m == nil || m[1] == tok {
			t.Fatal("the form shown again has no new token")
		}
		if p := f.clerk.post("/file/limit_set", url.Values{"csrf_token": {m[1]}, "ref": {"LIM-IDLE"},
			"organization_code": {org.Code}, "daily": {"1000"}}); p.status != http.StatusSeeOther {
			t.Fatalf("sent again: %d", p.status)
		}
		tok = f.clerk.token()
		f.bank.Clock.Advance(14 * time.Minute)
		p = f.clerk.post("/file/limit_set", url.Values{"csrf_token": {tok}, "ref": {"LIM-IDLE-2"},
			"organization_code": {org.Code}, "daily": {"1000"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("after 14 idle minutes: %d, want 303", p.status)
		}
	})
}

func TestSearchFindsByEachKey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "株式会社カナ商事みどり", true)
		other := f.bank.NewOrg(t, "別の団体", false)
		cert := f.bank.IssueCertificate(t, org.Master)
		if _, err := f.bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "7654321", "ｶﾅｼﾖｳｼﾞ", "test", "ACC-1"); err != nil {
			t.Fatal(err)
		}
		serial := cert.Leaf.SerialNumber.Text(16)
		for name, q := range map[string]string{
			"code":              org.Code,
			"name in kanji":     "株式会社",
			"name in kana":      "カナ商事",
			"name, a part":      "みどり",
			"name, half-width":  "ｶﾅ商事",
			"code, full-width":  width.Widen.String(org.Code),
			"login ID":          org.Master.LoginID,
			"login ID, upper":   strings.ToUpper(org.Master.LoginID),
			"serial":            serial,
			"serial with colon": colons(serial),
			"account number":    "7654321",
		} {
			p := f.clerk.get("/?q=" + url.QueryEscape(q))
			if p.status != http.StatusOK {
				t.Errorf("%s: status %d", name, p.status)
				continue
			}
			if !strings.Contains(p.body, `href="/organizations/`+org.Code+`"`) {
				t.Errorf("%s (%q): not found\n%s", name, q, excerpt(p.body))
			}
			if name != "name in kanji" && strings.Contains(p.body, `href="/organizations/`+other.Code+`"`) {
				t.Errorf("%s (%q): found the other organization too", name, q)
			}
		}
		p := f.clerk.get("/?q=" + url.QueryEscape("存在しない名前%_"))
		p.mustContain(t, `id="no-results"`)
	})
}

func colons(hex string) string {
	if len(hex)%2 == 1 {
		hex = "0" + hex
	}
	var parts []string
	for i := 0; i < len(hex); i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	return strings.ToUpper(strings.Join(parts, ":"))
}

func TestOrganizationPageShowsCodesNeverInternalIDs(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		// Organizations and users before, so that IDs and codes differ.
		for i := range 3 {
			f.bank.NewOrg(t, "前の団体"+strconv.Itoa(i), false)
		}
		org := f.bank.NewOrg(t, "表示テスト株式会社", true)
		general := f.bank.NewGeneralUser(t, org)
		f.bank.IssueCertificate(t, org.Master)
		acct, err := f.bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1234567", "ﾋﾖｳｼﾞ", "test", "ACC-2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.bank.Services.Banking.Deposit(ctx, acct.ID, 1234567, "入金", "test", "DEP-0"); err != nil {
			t.Fatal(err)
		}
		f.bank.LockUser(t, general.LoginID)
		p := f.clerk.get("/organizations/" + org.Code)
		if p.status != http.StatusOK {
			t.Fatalf("status %d\n%s", p.status, excerpt(p.body))
		}
		p.mustContain(t, `<dd id="org-code">`+org.Code+`</dd>`, "表示テスト株式会社", org.Master.LoginID, general.LoginID,
			"ロック中", "1,234,567", "1234567", "有効", "最終ログイン")
		master, _, _ := f.bank.Services.Identity.UserByLoginID(ctx, org.Master.LoginID)
		gu, _, _ := f.bank.Services.Identity.UserByLoginID(ctx, general.LoginID)
		ids := map[string]bool{strconv.FormatInt(org.ID, 10): true, strconv.FormatInt(master.ID, 10): true,
			strconv.FormatInt(gu.ID, 10): true, strconv.FormatInt(acct.ID, 10): true}
		// No cell, fact or link holds an internal ID.
		cell := regexp.MustCompile(`<(?:td|dd)[^>]*>\s*([^<]*?)\s*</(?:td|dd)>`)
		for _, m := range cell.FindAllStringSubmatch(p.body, -1) {
			if ids[m[1]] {
				t.Errorf("a cell shows an internal ID: %q", m[0])
			}
		}
		href := regexp.MustCompile(`href="([^"]*)"`)
		for _, m := range href.FindAllStringSubmatch(p.body, -1) {
			for _, seg := range regexp.MustCompile(`[/=&?]`).Split(m[1], -1) {
				if ids[seg] && !strings.HasPrefix(m[1], "/requests/") {
					t.Errorf("a link holds an internal ID: %q", m[1])
				}
			}
		}
		for _, word := range []string{"organization_id", "OrganizationID", "user_id"} {
			if strings.Contains(p.body, word) {
				t.Errorf("the page shows %q", word)
			}
		}
		if p := f.clerk.get("/organizations/" + strconv.FormatInt(org.ID, 10)); p.status != http.StatusNotFound {
			t.Errorf("an organization by its internal ID: %d, want 404", p.status)
		}
	})
}

func TestTimesAreInJapanTime(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// 23:30 UTC is 08:30 the next day in Japan.
		f.bank.Clock.Set(time.Date(2026, 4, 1, 23, 30, 0, 0, time.UTC))
		org := f.bank.NewOrg(t, "時刻株式会社", false)
		p := f.clerk.get("/organizations/" + org.Code)
		p.mustContain(t, "2026-04-02 08:30:00 JST")
		if strings.Contains(p.body, "2026-04-01 23:30") {
			t.Error("a time in UTC")
		}
		// The filters are in Japan's time too.
		in := f.clerk.get("/audit?organization=" + org.Code + "&since=" + url.QueryEscape("2026-04-02 08:29") + "&until=2026-04-02")
		in.mustContain(t, "organization.created", "2026-04-02 08:30:00 JST")
		out := f.clerk.get("/audit?organization=" + org.Code + "&since=" + url.QueryEscape("2026-04-02 08:31"))
		if strings.Contains(out.body, "organization.created") {
			t.Error("since 08:31 JST shows the event of 08:30 JST")
		}
		before := f.clerk.get("/audit?organization=" + org.Code + "&until=2026-04-01")
		if strings.Contains(before.body, "organization.created") {
			t.Error("until 2026-04-01 (JST) shows the event of 2026-04-02 08:30 JST")
		}
		bad := f.clerk.get("/audit?since=yesterday")
		if bad.status != http.StatusBadRequest {
			t.Errorf("a bad since: %d, want 400", bad.status)
		}
		bad.mustContain(t, "2026-04-01 09:30 の形", `value="yesterday"`)
	})
}

func TestAuditCSVHasTheFilteredRows(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "CSV株式会社", false)
		other := f.bank.NewOrg(t, "他の株式会社", false)
		for _, o := range []testutil.Org{org, other} {
			for _, on := range []bool{true, false, true} {
				if _, err := f.bank.Services.Identity.SetCertificateLogin(ctx, o.Code, on, "sato", "REQ-"+o.Code+strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
		}
		want, err := db.AuditEntries(ctx, audit.Query{OrganizationCode: org.Code, Type: audit.CertificateLoginEnabled})
		if err != nil || len(want) == 0 {
			t.Fatalf("events: %v %d", err, len(want))
		}
		p := f.auditor.get("/audit.csv?organization=" + org.Code + "&type=" + string(audit.CertificateLoginEnabled))
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("status %d, type %q", p.status, p.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want)+1 {
			t.Fatalf("%d rows, want %d and the header:\n%s", len(rows)-1, len(want), p.body)
		}
		if rows[0][0] != "time_jst" || rows[0][3] != "organization" {
			t.Errorf("header %v", rows[0])
		}
		for i, r := range rows[1:] {
			e := want[len(want)-1-i] // oldest first
			if r[1] != string(audit.CertificateLoginEnabled) || r[3] != org.Code || r[6] != e.RequestRef {
				t.Errorf("row %d: %v, want the event %+v", i, r, e)
			}
			if r[0] != e.At.In(calendar.JST).Format("2006-01-02 15:04:05 JST") {
				t.Errorf("row %d: time %q, want Japan time of %v", i, r[0], e.At)
			}
		}
		// The operator filter.
		p = f.auditor.get("/audit.csv?operator=nobody")
		if rows, _ := csv.NewReader(strings.NewReader(p.body)).ReadAll(); len(rows) != 1 {
			t.Errorf("operator nobody: %d rows", len(rows)-1)
		}
	})
}

func TestOperatorIsFoundOnEveryRequest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if p := f.clerk.get("/"); p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		// Disabled while the connection and the session stay open.
		f.ops.mu.Lock()
		f.ops.staff[f.clerk.staff.ID-1].DisabledAt = f.bank.Clock.Now()
		f.ops.mu.Unlock()
		p := f.clerk.get("/")
		if p.status != http.StatusForbidden {
			t.Fatalf("a disabled operator's next request: %d, want 403", p.status)
		}
		if strings.Contains(p.body, "田中 一郎") {
			t.Error("the refused page names the operator")
		}
	})
}

func TestCrossSiteFormIsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "クロスサイト株式会社", false)
		form := url.Values{"csrf_token": {f.clerk.token()}, "ref": {"LIM-X"}, "organization_code": {org.Code}, "daily": {"1000"}}
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/file/limit_set", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := f.clerk.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		p := read(t, resp)
		if p.status != http.StatusForbidden {
			t.Errorf("a cross-site form: %d, want 403", p.status)
		}
		if list, _ := f.ops.List(context.Background(), operators.Filter{}); len(list) != 0 {
			t.Error("a cross-site form filed a request")
		}
	})
}
