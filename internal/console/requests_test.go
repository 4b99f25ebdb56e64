package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestRequestWaitsForADifferentApprover(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "承認テスト株式会社", false)
		p := f.clerk.post("/file/certificate_login", url.Values{"ref": {"CL-1"}, "organization_code": {org.Code}, "enable": {"on"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("filing: %d\n%s", p.status, excerpt(p.body))
		}
		q := f.lastRequest()
		path := "/requests/" + strconv.FormatInt(q.ID, 10)
		// Filed, not done.
		if o, _ := f.bank.Services.Identity.OrganizationByCode(ctx, org.Code); o.CertificateLogin {
			t.Fatal("certificate login on before any approval")
		}
		f.clerk.get(path+"?filed=1").mustContain(t, "CL-1", `id="waiting"`, "承認待ち")
		// The clerk cannot approve.
		if p := f.clerk.post(path+"/approve", url.Values{}); p.status != http.StatusForbidden {
			t.Errorf("the clerk's approval: %d, want 403", p.status)
		}
		// An approver does not approve their own request.
		p = f.approver.post("/file/limit_set", url.Values{"ref": {"LIM-OWN"}, "organization_code": {org.Code}, "daily": {"5,000,000"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("the approver's filing: %d\n%s", p.status, excerpt(p.body))
		}
		own := f.lastRequest()
		ownPath := "/requests/" + strconv.FormatInt(own.ID, 10)
		if pg := f.approver.get(ownPath); strings.Contains(pg.body, `id="approve"`) {
			t.Error("the maker is shown the approval")
		}
		p = f.approver.post(ownPath+"/approve", url.Values{})
		if p.status != http.StatusConflict {
			t.Errorf("approving one's own request: %d, want 409", p.status)
		}
		p.mustContain(t, "自分が入力した依頼は承認・却下できません")
		// A different approver approves: it is done.
		f.approver.get(path).mustContain(t, `id="approve"`)
		p = f.approver.post(path+"/approve", url.Values{})
		if p.status != http.StatusSeeOther {
			t.Fatalf("approval: %d\n%s", p.status, excerpt(p.body))
		}
		if o, _ := f.bank.Services.Identity.OrganizationByCode(ctx, org.Code); !o.CertificateLogin {
			t.Error("certificate login still off after the approval")
		}
		f.clerk.get(path).mustContain(t, "承認済み", `id="request-checker">sato`)
		// Decided once.
		if p := f.second.post(path+"/approve", url.Values{}); p.status != http.StatusConflict {
			t.Errorf("a second approval: %d, want 409", p.status)
		}
		// A reference once per kind.
		p = f.clerk.post("/file/certificate_login", url.Values{"ref": {"CL-1"}, "organization_code": {org.Code}, "enable": {"off"}})
		if p.status != http.StatusConflict {
			t.Errorf("the same reference again: %d, want 409", p.status)
		}
		p.mustContain(t, "この依頼番号は同じ種類の依頼ですでに使われています", `value="CL-1"`)
		// The other approver rejects the approver's own, with a reason.
		if p := f.second.post(ownPath+"/reject", url.Values{"reason": {""}}); p.status != http.StatusBadRequest {
			t.Errorf("a rejection without a reason: %d, want 400", p.status)
		}
		if p := f.second.post(ownPath+"/reject", url.Values{"reason": {"書面と金額が違う"}}); p.status != http.StatusSeeOther {
			t.Fatalf("rejection: %d", p.status)
		}
		f.clerk.get(ownPath).mustContain(t, "却下", "書面と金額が違う", `id="request-checker">suzuki`)
		list := f.clerk.get("/requests")
		if !strings.Contains(list.body, "CL-1") || !strings.Contains(list.body, "LIM-OWN") {
			t.Errorf("the list lacks the requests")
		}
	})
}

func TestRequestsListPendingFirst(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "一覧株式会社", false)
		for _, ref := range []string{"L-1", "L-2"} {
			f.clerk.post("/file/limit_set", url.Values{"ref": {ref}, "organization_code": {org.Code}, "daily": {"1000"}})
		}
		first := f.lastRequest().ID - 1
		f.approver.post("/requests/"+strconv.FormatInt(first, 10)+"/approve", url.Values{})
		body := f.clerk.get("/requests").body
		pending, decided := strings.Index(body, "L-2"), strings.Index(body, "L-1")
		if pending < 0 || decided < 0 || pending > decided {
			t.Errorf("the pending L-2 (at %d) is not before the decided L-1 (at %d)", pending, decided)
		}
	})
}

func TestOrganizationCreationShowsThePasswordNoticeOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		p := f.clerk.post("/file/organization_create", url.Values{"ref": {"APP-2026-001"}, "name": {"新規登録株式会社"},
			"master_login_id": {"newmaster1"}, "master_name": {"新規 太郎"}, "master_email": {"new@example.org"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("filing: %d\n%s", p.status, excerpt(p.body))
		}
		q := f.lastRequest()
		path := "/requests/" + strconv.FormatInt(q.ID, 10)
		p = f.approver.post(path+"/approve", url.Values{})
		if p.status != http.StatusOK {
			t.Fatalf("approval: %d\n%s", p.status, excerpt(p.body))
		}
		u, org, err := f.bank.Services.Identity.UserByLoginID(ctx, "newmaster1")
		if err != nil {
			t.Fatal(err)
		}
		p.mustContain(t, "暗証番号通知書", `id="notice-org">`+org.Code, `id="notice-login">newmaster1`, "新規登録株式会社")
		if css := f.approver.get("/static/console.css"); !strings.Contains(css.body, "@media print") || !strings.Contains(css.body, ".notice-sheet") {
			t.Error("no print stylesheet for the notice")
		}
		pw := between(p.body, `id="notice-password">`, "<")
		conf := between(p.body, `id="notice-confirmation">`, "<")
		if pw == "" || conf == "" {
			t.Fatalf("no passwords on the notice:\n%s", excerpt(p.body))
		}
		if !u.PasswordChangeRequired {
			t.Error("the master need not change the initial password")
		}
		if err := f.bank.Services.Identity.CheckPassword(ctx, u, identity.LoginPassword, pw, "test"); err != nil {
			t.Errorf("the notice's login password does not log in: %v", err)
		}
		// Never again: not on the request's page, nor on a second approval.
		again := f.approver.get(path)
		if strings.Contains(again.body, pw) || strings.Contains(again.body, conf) {
			t.Error("the request's page shows the passwords")
		}
		if p := f.second.post(path+"/approve", url.Values{}); strings.Contains(p.body, pw) {
			t.Error("a second approval shows the passwords")
		}
		f.clerk.get("/organizations/"+org.Code).mustContain(t, "新規登録株式会社", "newmaster1")
	})
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestBadInputKeepsWhatWasTyped(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.clerk.post("/file/deposit", url.Values{"ref": {"DEP-9"}, "branch_code": {"001"}, "account_type": {"current"},
			"account_number": {"7777777"}, "amount": {"十万円"}, "description": {"売上入金"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", p.status)
		}
		p.mustContain(t, "金額は数字で入力してください", `value="DEP-9"`, `value="7777777"`, `value="十万円"`, `value="売上入金"`,
			`<option value="current" selected>`)
		p = f.clerk.post("/file/deposit", url.Values{"ref": {"DEP-9"}, "branch_code": {"001"}, "account_type": {"ordinary"},
			"account_number": {"7777777"}, "amount": {"100000"}, "description": {"売上入金"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("an account that does not exist: %d, want 400", p.status)
		}
		p.mustContain(t, "入力内容に誤りがあります", `value="DEP-9"`)
		p = f.clerk.post("/file/user_unlock", url.Values{"ref": {""}, "login_id": {"someone"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("no reference: %d, want 400", p.status)
		}
		p.mustContain(t, "入力されていない項目があります", `value="someone"`)
		// In English too.
		f.clerk.get("/lang/en?next=/")
		p = f.clerk.post("/file/deposit", url.Values{"ref": {"DEP-9"}, "amount": {"x"}})
		p.mustContain(t, "A field is empty", `value="DEP-9"`)
	})
}

func TestLanguageSwitchKeepsTheForm(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.clerk.post("/file/limit_set", url.Values{"ref": {"LIM-LANG"}, "organization_code": {"12345"}, "daily": {"300000"},
			"switch_lang": {"en"}})
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		p.mustContain(t, `<html lang="en">`, "Set the daily limit", `value="LIM-LANG"`, `value="12345"`, `value="300000"`)
		if strings.Contains(p.body, "alert-error") {
			t.Error("the switch showed an error")
		}
		if list, _ := f.ops.List(context.Background(), operators.Filter{}); len(list) != 0 {
			t.Error("the language switch filed the request")
		}
		// The language stays.
		f.clerk.get("/").mustContain(t, `<html lang="en">`, "Search")
		// The link keeps a GET page's query.
		p = f.clerk.get("/audit?organization=X1")
		p.mustContain(t, `href="/lang/ja?next=%2Faudit%3Forganization%3DX1"`)
	})
}

func TestEveryPageInBothLanguages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		org := f.bank.NewOrg(t, "全画面株式会社", true)
		f.bank.IssueCertificate(t, org.Master)
		f.clerk.post("/file/limit_set", url.Values{"ref": {"L-ALL"}, "organization_code": {org.Code}, "daily": {"1000"}})
		req := "/requests/" + strconv.FormatInt(f.lastRequest().ID, 10)
		paths := []string{"/", "/?q=" + org.Code, "/organizations/" + org.Code, "/requests", req, "/accounts/new", "/interbank",
			"/outbox", "/audit", "/staff", "/nowhere"}
		for _, k := range []operators.Kind{operators.KindOrganizationCreate, operators.KindCertificateLogin, operators.KindCertificateRevoke,
			operators.KindUserUnlock, operators.KindPasswordReset, operators.KindDeposit, operators.KindLimitSet} {
			paths = append(paths, "/file/"+string(k))
		}
		for _, l := range []string{"ja", "en"} {
			for _, c := range []*operatorClient{f.approver, f.auditor} {
				c.get("/lang/" + l + "?next=/")
				for _, path := range paths {
					p := c.get(path) // read() fails on a message missing from the catalogue
					if p.status >= 500 {
						t.Errorf("%s %s as %s: %d", l, path, c.staff.Name, p.status)
					}
				}
			}
		}
	})
}

func TestOpenAccountNeedsNoSecondPerson(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "口座株式会社", false)
		form := url.Values{"ref": {"ACC-9"}, "organization_code": {org.Code}, "branch_code": {"001"}, "account_type": {"ordinary"},
			"account_number": {"1112223"}, "holder_name": {"ｺｳｻﾞ"}}
		p := f.clerk.post("/accounts/new", form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", p.status, excerpt(p.body))
		}
		accts, err := f.bank.Services.Banking.OrganizationAccounts(ctx, org.Code)
		if err != nil || len(accts) != 1 || accts[0].Number != "1112223" {
			t.Fatalf("accounts %+v %v", accts, err)
		}
		// The same number again: refused, what was typed kept.
		p = f.clerk.post("/accounts/new", form)
		if p.status < 400 {
			t.Fatalf("the same account again: %d", p.status)
		}
		p.mustContain(t, `value="ACC-9"`, `value="1112223"`)
		f.clerk.get("/organizations/"+org.Code+"?opened=1").mustContain(t, "1112223", "口座を開設しました")
		// A deposit to it is a request, done on approval.
		f.clerk.post("/file/deposit", url.Values{"ref": {"DEP-1"}, "branch_code": {"001"}, "account_type": {"ordinary"},
			"account_number": {"1112223"}, "amount": {"50,000"}, "description": {"入金"}})
		f.approver.post("/requests/"+strconv.FormatInt(f.lastRequest().ID, 10)+"/approve", url.Values{})
		a, _ := f.bank.Services.Banking.LookupAccount(ctx, "001", banking.Ordinary, "1112223")
		if a.Balance != 50000 {
			t.Errorf("balance %d, want 50000", a.Balance)
		}
		// A second deposit under DEP-1 is refused.
		p = f.clerk.post("/file/deposit", url.Values{"ref": {"DEP-1"}, "branch_code": {"001"}, "account_type": {"ordinary"},
			"account_number": {"1112223"}, "amount": {"50000"}})
		if p.status != http.StatusConflict {
			t.Errorf("DEP-1 again: %d, want 409", p.status)
		}
	})
}

func TestMasterRequestsFromTheOrganizationPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "マスター操作株式会社", true)
		cert := f.bank.IssueCertificate(t, org.Master)
		serial := cert.Leaf.SerialNumber.Text(16)
		page := f.clerk.get("/organizations/" + org.Code)
		page.mustContain(t, `/file/certificate_revoke?serial=`+serial, `/file/password_reset?login_id=`+org.Master.LoginID)
		// The link fills the form.
		f.clerk.get("/file/certificate_revoke?serial="+serial).mustContain(t, `value="`+serial+`"`)
		// As a certificate viewer shows it: colons, upper case, and a
		// leading zero when the hex has an odd length.
		shown := colons(serial)
		if len(serial)%2 == 0 {
			shown = "00:" + shown
		}
		p := f.clerk.post("/file/certificate_revoke", url.Values{"ref": {"REV-1"}, "serial": {shown}, "reason": {"keyCompromise"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("filing: %d\n%s", p.status, excerpt(p.body))
		}
		q := f.lastRequest()
		if c, _ := f.bank.Services.Certs.ByFingerprint(ctx, fingerprintDER(cert.Leaf.Raw)); c.Status != "issued" {
			t.Fatalf("revoked before the approval: %s", c.Status)
		}
		if p := f.approver.post("/requests/"+strconv.FormatInt(q.ID, 10)+"/approve", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("approval: %d\n%s", p.status, excerpt(p.body))
		}
		c, err := f.bank.Services.Certs.ByFingerprint(ctx, fingerprintDER(cert.Leaf.Raw))
		if err != nil || c.Status != "revoked" || c.RevocationReason != "keyCompromise" {
			t.Errorf("after the approval: %+v %v", c, err)
		}
		f.clerk.get("/organizations/"+org.Code).mustContain(t, "失効")
		// Unlock a locked master.
		f.bank.LockUser(t, org.Master.LoginID)
		f.clerk.get("/organizations/"+org.Code).mustContain(t, `/file/user_unlock?login_id=`+org.Master.LoginID)
		f.clerk.post("/file/user_unlock", url.Values{"ref": {"UNL-1"}, "login_id": {org.Master.LoginID}})
		f.second.post("/requests/"+strconv.FormatInt(f.lastRequest().ID, 10)+"/approve", url.Values{})
		if u, _, _ := f.bank.Services.Identity.UserByLoginID(ctx, org.Master.LoginID); u.Locked() {
			t.Error("the master is still locked after the approval")
		}
		trail := f.auditor.get("/audit?organization=" + org.Code)
		trail.mustContain(t, "certificate.revoked", "REV-1", "user.unlocked", "UNL-1")
	})
}
