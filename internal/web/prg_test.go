package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// secretTyped is a password typed into a refused form: no page shows it.
const secretTyped = "Typed-secret-7"

// TestRefusedFormsRedirect: every form of the portal answered with an
// error is answered 303 (Post/Redirect/Get), so that Back never shows the
// browser's resubmission page; the GET shows the error and what was typed
// once (a second GET does not), and never a typed password nor the form
// token of the refused post.
func TestRefusedFormsRedirect(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		other := b.NewGeneralUser(t, s.org)
		gc := bankingLogin(t, b, s.general, "")
		mc := bankingLogin(t, b, s.org.Master, "")
		anon := b.Client(nil)

		// A transfer awaiting the master's approval.
		conf := transferEntry(t, s, gc, map[string]string{"bank_code": "2950", "branch_code": "002", "account_type": "ordinary",
			"account_number": "2000002", "payee_name": "ｳｹﾄﾘ", "amount": "1000"})
		v := hiddenFields(conf)
		v.Set("step", "submit")
		post(t, gc, b.PortalURL+"/transfers/new", v)
		tp, err := b.Services.Banking.Transfers(context.Background(), bankingUser(t, b, s.general.LoginID), banking.TransferQuery{})
		if err != nil || tp.Total != 1 {
			t.Fatalf("transfers %+v %v", tp, err)
		}
		id := itoa(tp.Transfers[0].ID)

		cases := []struct {
			name   string
			c      *testutil.Client
			page   string // the form's page, for its token and fields
			action string
			form   url.Values
			at     string   // where the refusal is shown
			key    string   // the refusal's message
			typed  []string // typed values the page shows again
		}{
			{"login", anon, "/login", "/login", url.Values{"login_id": {"nobody77"}, "password": {secretTyped}},
				"/login", "error.invalid_credentials", []string{`value="nobody77"`}},
			{"issuance withdrawal", anon, "/issue", "/issue/withdraw", url.Values{"login_id": {s.general.LoginID}, "password": {secretTyped}},
				"/issue", "error.invalid_credentials", []string{`value="` + s.general.LoginID + `"`}},
			{"password change", gc, "/password", "/password", url.Values{"kind": {"login"}, "current": {secretTyped}, "new": {secretTyped + "x"}, "again": {secretTyped + "y"}},
				"/password", "error.password_mismatch", nil},
			{"new user", mc, "/users/new", "/users/new", url.Values{"login_id": {"bad id!"}, "name": {"入力した 名前"}, "email": {"typed@example.org"}, "confirmation_password": {secretTyped}},
				"/users/new", "", []string{"入力した 名前", "typed@example.org"}},
			{"unlock", mc, "/users", "/users/" + other.LoginID + "/unlock", url.Values{"confirmation_password": {secretTyped}},
				"/users", "error.not_locked", nil},
			{"password reset", mc, "/users/" + other.LoginID + "/password-reset", "/users/" + other.LoginID + "/password-reset", url.Values{"confirmation_password": {secretTyped}},
				"/users/" + other.LoginID + "/password-reset", "error.invalid_confirmation_password", nil},
			{"privileges", mc, "/users/" + other.LoginID + "/privileges", "/users/" + other.LoginID + "/privileges",
				url.Values{"inquiry": {"1"}, "transaction_limit": {"12x"}, "daily_limit": {"98765"}, "confirmation_password": {secretTyped}},
				"/users/" + other.LoginID + "/privileges", "", []string{`value="12x"`, `value="98765"`}},
			{"payee", gc, "/payees", "/payees", url.Values{"nickname": {"入力した先"}, "bank_code": {"2950"}, "branch_code": {"002"}, "account_type": {"ordinary"}, "account_number": {"12"}, "payee_name": {"ｳｹﾄﾘ"}},
				"/payees", "", []string{`value="入力した先"`}},
			{"transfer", gc, "/transfers/new", "/transfers/new", url.Values{"step": {"confirm"}, "from_account": {itoa(s.account.ID)}, "bank_code": {"2950"}, "branch_code": {"002"},
				"account_type": {"ordinary"}, "account_number": {"2000002"}, "payee_name": {"ｳｹﾄﾘ"}, "amount": {"12z"}, "memo": {"入力したメモ"}},
				"/transfers/new", "", []string{`value="12z"`, "入力したメモ"}},
			{"approval", mc, "/approvals/" + id, "/approvals/" + id + "/approve", url.Values{"confirmation_password": {secretTyped}},
				"/approvals/" + id, "error.invalid_confirmation_password", nil},
			{"form token", mc, "/users/new", "/users/new", url.Values{"login_id": {"token77"}, "name": {"トークン 名前"}, "email": {"t77@example.org"}},
				"/users/new", "error.form_token", []string{"トークン 名前"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				form := get(t, tc.c, b.PortalURL+tc.page)
				token := csrfToken(t, form)
				vals := url.Values{}
				for k, x := range hiddenFields(form) {
					vals[k] = x
				}
				for k, x := range tc.form {
					vals[k] = x
				}
				if tc.key == "error.form_token" {
					vals.Set("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
				} else {
					vals.Set("csrf_token", token)
				}
				p := post(t, noRedirects(tc.c), b.PortalURL+tc.action, vals)
				if p.Status != http.StatusSeeOther || p.Header.Get("Location") != tc.at {
					t.Fatalf("refused form answered %d to %q, want 303 to %s\n%s", p.Status, p.Header.Get("Location"), tc.at, p.Text)
				}
				shown := get(t, tc.c, b.PortalURL+tc.at)
				if shown.Status < 400 || shown.URL.Path != tc.at {
					t.Fatalf("the refusal shown with %d at %s, want an error status at %s", shown.Status, shown.URL.Path, tc.at)
				}
				if tc.key != "" {
					wantText(t, shown, msg(t, "ja", tc.key))
				}
				wantText(t, shown, tc.typed...)
				if strings.Contains(shown.Raw, secretTyped) {
					t.Errorf("the refusal shows a typed password:\n%s", shown.Text)
				}
				again := get(t, tc.c, b.PortalURL+tc.at)
				if again.Status >= 400 {
					t.Errorf("the second GET answered %d, want the form's page", again.Status)
				}
				if tc.key != "" && strings.Contains(again.Text, msg(t, "ja", tc.key)) {
					t.Errorf("the second GET shows the refusal again")
				}
				for _, x := range tc.typed {
					if strings.Contains(again.Raw, x) {
						t.Errorf("the second GET shows %q again", x)
					}
				}
			})
		}
	})
}

// TestRefusedUploadRedirects: the 総合振込 upload answered with an error
// is followed by a redirect too; the GET lists the file's problems and
// the form as filled, once.
func TestRefusedUploadRedirects(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		form := get(t, gc, b.PortalURL+"/transfers/batch")
		p := upload(t, b, noRedirects(gc), csrfToken(t, form), map[string]string{"from_account": itoa(s.account.ID), "execution_date": "2026-12-02"},
			"broken.txt", []byte("not a zengin file\r\n"))
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/transfers/batch" {
			t.Fatalf("refused upload answered %d to %q, want 303 to /transfers/batch\n%s", p.Status, p.Header.Get("Location"), p.Text)
		}
		shown := get(t, gc, b.PortalURL+"/transfers/batch")
		if shown.Status != http.StatusBadRequest {
			t.Fatalf("the refusal shown with %d, want 400", shown.Status)
		}
		wantText(t, shown, msg(t, "ja", "banking.error.zengin_file"), `value="2026-12-02"`)
		again := get(t, gc, b.PortalURL+"/transfers/batch")
		if again.Status != http.StatusOK || strings.Contains(again.Text, msg(t, "ja", "banking.error.zengin_file")) {
			t.Errorf("the second GET: %d, the refusal shown again: %v", again.Status, strings.Contains(again.Text, msg(t, "ja", "banking.error.zengin_file")))
		}
	})
}

// TestLanguageSwitchKeepsTypedForm: on a page with a form, the language
// switch is a button of the form; the page comes back in the other
// language with what was typed, never a password, and only once.
func TestLanguageSwitchKeepsTypedForm(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		mc := bankingLogin(t, b, s.org.Master, "")
		cases := []struct {
			name  string
			c     *testutil.Client
			path  string
			form  string
			typed url.Values
			shown []string
		}{
			{"transfer", gc, "/transfers/new", "transfer-form", url.Values{"from_account": {itoa(s.account.ID)}, "bank_code": {"2950"}, "branch_code": {"002"},
				"account_type": {"ordinary"}, "account_number": {"2000002"}, "payee_name": {"ｳｹﾄﾘ ﾀﾛｳ"}, "amount": {"12345"}, "memo": {"入力したメモ"}},
				[]string{`value="2000002"`, `value="12345"`, "入力したメモ", "ｳｹﾄﾘ ﾀﾛｳ"}},
			{"new user", mc, "/users/new", "add-user-form", url.Values{"login_id": {"typed01"}, "name": {"入力 名前"}, "email": {"typed01@example.org"},
				"confirmation_password": {secretTyped}}, []string{`value="typed01"`, "入力 名前", "typed01@example.org"}},
			{"login", b.Client(nil), "/login", "login-form", url.Values{"login_id": {"typed02"}, "password": {secretTyped}}, []string{`value="typed02"`}},
			{"payee", gc, "/payees", "payee-form", url.Values{"nickname": {"入力した先"}, "bank_code": {"2950"}, "branch_code": {"002"},
				"account_type": {"ordinary"}, "account_number": {"2000002"}, "payee_name": {"ｳｹﾄﾘ"}}, []string{`value="入力した先"`, `value="2000002"`}},
			{"privileges", mc, "/users/" + s.general.LoginID + "/privileges", "privileges-form", url.Values{"inquiry": {"on"},
				"transaction_limit": {"765,432"}, "daily_limit": {"1,234,567"}, "confirmation_password": {secretTyped}},
				[]string{`value="765,432"`, `value="1,234,567"`}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				setLanguage(t, b, tc.c, "ja")
				form := get(t, tc.c, b.PortalURL+tc.path)
				button := `form="` + tc.form + `" formaction="/lang/en" formmethod="post"`
				if !strings.Contains(form.Raw, button) || !strings.Contains(form.Raw, `id="`+tc.form+`"`) {
					t.Fatalf("the language switch is not a button of the form %s:\n%s", tc.form, form.Raw)
				}
				if strings.Contains(form.Raw, `class="lang-switch" href=`) {
					t.Error("the page also has the switch that loses the form")
				}
				v := hiddenFields(form)
				for k, x := range tc.typed {
					v[k] = x
				}
				v.Set("lang_next", tc.path)
				p := post(t, tc.c, b.PortalURL+"/lang/en", v)
				wantPage(t, p, http.StatusOK, tc.path)
				if pageLang(p) != "en" {
					t.Fatalf("the page came back in %q, want en", pageLang(p))
				}
				wantText(t, p, tc.shown...)
				if strings.Contains(p.Raw, secretTyped) {
					t.Errorf("the switch kept a password:\n%s", p.Text)
				}
				again := get(t, tc.c, b.PortalURL+tc.path)
				for _, x := range tc.shown {
					if strings.Contains(again.Raw, x) {
						t.Errorf("the next GET shows %q again", x)
					}
				}
			})
		}
	})
}

// TestRefusedFormShownOnlyToItsUser: the page of a refused form is shown
// only in the session of the user whose page it was, never to another user
// who logs in on the same browser.
func TestRefusedFormShownOnlyToItsUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ひとりずつ労働組合", false)
		other := b.NewGeneralUser(t, org)
		c := b.Client(nil)
		wantPage(t, passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
		form := get(t, c, b.PortalURL+"/users/new")
		p := post(t, noRedirects(c), b.PortalURL+"/users/new", url.Values{"csrf_token": {csrfToken(t, form)}, "login_id": {"bad id!"},
			"name": {"マスターが入力"}, "email": {"typed@example.org"}, "confirmation_password": {secretTyped}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("refused form answered %d, want 303", p.Status)
		}
		// Another user logs in on the same browser before the page is shown.
		home := get(t, c, b.PortalURL+"/home")
		post(t, c, b.PortalURL+"/logout", url.Values{"csrf_token": {csrfToken(t, home)}})
		wantPage(t, passwordLogin(t, b, c, other.LoginID, other.Password), http.StatusOK, "/home")
		shown := get(t, c, b.PortalURL+"/users/new")
		if strings.Contains(shown.Text, "マスターが入力") {
			t.Fatalf("another user sees the master's refused form:\n%s", shown.Text)
		}
	})
}
