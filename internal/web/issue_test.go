package web_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"kinko/internal/testutil"
)

// issueScript is the issuance page's module, as the repository holds it.
const issueScript = jsDir + "/issue.js"

// startTag returns the start tag of the element with the id on the page,
// failing the test when there is not exactly one.
func startTag(t *testing.T, p page, id string) string {
	t.Helper()
	tags := regexp.MustCompile(`<[a-z]+\b[^>]*\bid="`+regexp.QuoteMeta(id)+`"[^>]*>`).FindAllString(p.Raw, -1)
	if len(tags) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(tags), id)
	}
	return tags[0]
}

// inside reports whether the element with id inner comes after the start
// of the element with id outer and before the end tag that closes it (the
// first </tag> after it: the pages do not nest forms or sections).
func inside(p page, outer, tag, inner string) bool {
	start := strings.Index(p.Raw, `id="`+outer+`"`)
	if start < 0 {
		return false
	}
	end := strings.Index(p.Raw[start:], "</"+tag+">")
	at := strings.Index(p.Raw[start:], `id="`+inner+`"`)
	return end >= 0 && at >= 0 && at < end
}

// TestR4_IssuePage: 電子証明書発行 in both languages has the elements the
// browser tests rely on, loads its script as a module and has no inline
// code, says what to do before starting and how to import the file, and
// links to the certificate portal.
func TestR4_IssuePage(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := b.Client(nil)
			setLanguage(t, b, c, lang)
			p := get(t, c, b.PortalURL+"/issue")
			wantPage(t, p, http.StatusOK, "/issue")
			wantTitle(t, p, lang, "page.issue.title")

			elements := []struct {
				id, tag string
				attrs   []string // in the start tag
			}{
				{"issue-form", "form", []string{`method="post"`}},
				{"login_id", "input", []string{`type="text"`, `autocomplete="username"`}},
				{"password", "input", []string{`type="password"`, `autocomplete="current-password"`}},
				// Enabled by the script once it can make keys: without
				// it, nothing can be sent.
				{"issue-submit", "button", []string{`type="submit"`, ` disabled`}},
				{"issue-error", "div", []string{`role="alert"`, ` hidden`}},
				{"issue-progress", "p", []string{`role="status"`}},
				{"p12-step", "section", []string{` hidden`}},
				{"p12-password", "input", []string{`type="password"`, `minlength="8"`}},
				{"p12-password-confirm", "input", []string{`type="password"`, `minlength="8"`}},
				{"p12-download", "button", []string{`type="submit"`}},
				{"issue-done", "section", []string{` hidden`}},
				{"issue-cert-login", "a", []string{`href="` + b.CertPortalURL + `/"`}},
				{"issue-messages", "template", nil},
			}
			for _, e := range elements {
				tag := startTag(t, p, e.id)
				if !strings.HasPrefix(tag, "<"+e.tag+" ") {
					t.Errorf("#%s is %s, want a %s", e.id, tag, e.tag)
				}
				for _, a := range e.attrs {
					if !strings.Contains(tag, a) {
						t.Errorf("#%s: %s has no %s", e.id, tag, a)
					}
				}
			}
			for _, in := range []struct{ outer, tag, inner string }{
				{"issue-form", "form", "login_id"}, {"issue-form", "form", "password"}, {"issue-form", "form", "issue-submit"},
				{"p12-step", "section", "p12-password"}, {"p12-step", "section", "p12-password-confirm"},
				{"p12-step", "section", "p12-download"}, {"issue-done", "section", "issue-cert-login"},
			} {
				if !inside(p, in.outer, in.tag, in.inner) {
					t.Errorf("#%s is not inside #%s", in.inner, in.outer)
				}
			}
			for _, id := range []string{"login_id", "password", "p12-password", "p12-password-confirm"} {
				if !strings.Contains(p.Raw, `<label for="`+id+`">`) {
					t.Errorf("input #%s has no label", id)
				}
			}

			scripts := regexp.MustCompile(`<script\b[^>]*>`).FindAllString(p.Raw, -1)
			if want := []string{`<script type="module" src="/static/js/issue.js">`}; !slices.Equal(scripts, want) {
				t.Errorf("scripts %q, want %q", scripts, want)
			}
			if !strings.Contains(p.Raw, `<script type="module" src="/static/js/issue.js"></script>`) {
				t.Error("the module's script element is not empty")
			}
			if m := regexp.MustCompile(`<style|\sstyle=|\son[a-z]+=|javascript:`).FindString(p.Raw); m != "" {
				t.Errorf("inline code or style: %q", m)
			}

			wantText(t, p,
				// Before you start: the PC, the browser, what will happen.
				msg(t, lang, "page.issue.before.pc"), msg(t, lang, "page.issue.start.browser"),
				msg(t, lang, "page.issue.start.applied"), msg(t, lang, "page.issue.start.flow.key"),
				msg(t, lang, "page.issue.start.flow.import"),
				// The file's password and the import.
				msg(t, lang, "page.issue.file.password_hint"), msg(t, lang, "page.issue.file.keep_open"),
				msg(t, lang, "page.issue.done.windows.exportable"), msg(t, lang, "page.issue.done.mac.keychain"),
				msg(t, lang, "page.issue.done.linux.open"), msg(t, lang, "page.issue.done.delete.text"),
				msg(t, lang, "action.certificate_login"), msg(t, lang, "page.issue.error.no_script"))
			if strings.Index(p.Raw, msg(t, lang, "page.issue.before.heading")) > strings.Index(p.Raw, `id="issue-form"`) {
				t.Error("the form comes before what to know before starting")
			}
		})
	}
	t.Run("windows wording", func(t *testing.T) {
		for lang, want := range map[string]string{"ja": "このキーをエクスポート可能にする", "en": "Mark this key as exportable"} {
			if s := msg(t, lang, "page.issue.done.windows.exportable"); !strings.Contains(s, want) {
				t.Errorf("%s: %q does not name %q", lang, s, want)
			}
		}
	})
}

var (
	dataKey = regexp.MustCompile(`<p data-key="([^"]+)">([^<]*)</p>`)
	// jsKey matches a catalogue key in a string literal of the script.
	jsKey = regexp.MustCompile(`'((?:page|format|error|field|action)\.[a-z0-9_.]+)'`)
)

// pageMessages returns the messages the page hands to its script: key to
// text, unescaped.
func pageMessages(t *testing.T, p page) map[string]string {
	t.Helper()
	start, end := strings.Index(p.Raw, `<template id="issue-messages">`), strings.Index(p.Raw, `</template>`)
	if start < 0 || end < start {
		t.Fatal("no template#issue-messages on the page")
	}
	out := map[string]string{}
	for _, m := range dataKey.FindAllStringSubmatch(p.Raw[start:end], -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("message %q twice in the page's messages", m[1])
		}
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// scriptKeys returns the catalogue keys that issue.js names.
func scriptKeys(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(issueScript)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range jsKey.FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	sort.Strings(keys)
	return keys
}

// TestIssuePageGivesTheScriptItsMessages: every message the script shows
// is on the page, in the page's language, as the catalogue has it.
func TestIssuePageGivesTheScriptItsMessages(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	keys := scriptKeys(t)
	if len(keys) < 20 {
		t.Fatalf("found only %d message keys in %s: is the scan broken? %v", len(keys), issueScript, keys)
	}
	for _, must := range []string{"page.issue.error.active_certificate_exists", "page.issue.progress.key", "format.datetime"} {
		if !slices.Contains(keys, must) {
			t.Errorf("the scan of %s missed %q", issueScript, must)
		}
	}
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := b.Client(nil)
			setLanguage(t, b, c, lang)
			got := pageMessages(t, get(t, c, b.PortalURL+"/issue"))
			for key, text := range got {
				if want, ok := catalogue()[lang][key]; !ok || text != want {
					t.Errorf("page message %q = %q, want the catalogue's %q", key, text, want)
				}
			}
			for _, key := range keys {
				if _, ok := got[key]; !ok {
					t.Errorf("%s uses %q, which the page does not give it", issueScript, key)
				}
			}
		})
	}
}

// getFile loads a static file (not a page: no check for missing messages).
func getFile(t *testing.T, c *testutil.Client, u string) page {
	t.Helper()
	resp, err := c.HTTP.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Raw: string(b), Text: string(b)}
}

// TestIssueScript: issue.js is served as JavaScript and imports only the
// key, CSR and DER modules next to it.
func TestIssueScript(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	c := b.Client(nil)
	js := getFile(t, c, b.PortalURL+"/static/js/issue.js")
	if js.Status != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("issue.js: %d %s", js.Status, js.Header.Get("Content-Type"))
	}
	src, err := os.ReadFile(issueScript)
	if err != nil {
		t.Fatal(err)
	}
	if js.Raw != string(src) {
		t.Error("the served issue.js differs from the file")
	}
	imports := regexp.MustCompile(`(?m)^import\s[^;]*?\sfrom\s+'([^']+)';`).FindAllStringSubmatch(js.Raw, -1)
	var got []string
	for _, m := range imports {
		got = append(got, m[1])
	}
	sort.Strings(got)
	if want := []string{"./csr.js", "./der.js", "./pkcs12.js"}; !slices.Equal(got, want) {
		t.Errorf("imports %q, want %q", got, want)
	}
	if n := len(regexp.MustCompile(`(?m)^\s*import\b`).FindAllString(js.Raw, -1)); n != len(imports) {
		t.Errorf("%d import statements, %d of them static imports of a module: no other imports allowed", n, len(imports))
	}
	if regexp.MustCompile(`\bimport\s*\(|https?://|innerHTML|eval\(`).MatchString(js.Raw) {
		t.Error("issue.js loads code dynamically, names another site or writes HTML")
	}
	for _, m := range got {
		dep := getFile(t, c, b.PortalURL+"/static/js/"+strings.TrimPrefix(m, "./"))
		if dep.Status != http.StatusOK || !strings.HasPrefix(dep.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %s", m, dep.Status, dep.Header.Get("Content-Type"))
		}
	}
}

// scriptErrorKeys returns the script's table of the API's error codes and
// the messages it shows for them.
func scriptErrorKeys(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(issueScript)
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`(?s)export const API_ERRORS = Object\.freeze\(\{(.*?)\}\);`).FindSubmatch(src)
	if table == nil {
		t.Fatalf("no API_ERRORS table in %s", issueScript)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z_]+): '([a-z_.]+)',`).FindAllSubmatch(table[1], -1) {
		out[string(m[1])] = string(m[2])
	}
	if len(out) < 5 {
		t.Fatalf("read only %d entries of API_ERRORS: is the scan broken? %v", len(out), out)
	}
	return out
}

// fetchCertificate sends an issuance request as the page's script sends it
// from the portal: same-origin fetch, JSON.
func fetchCertificate(t *testing.T, b *testutil.Bank, contentType, fetchSite string, body any) (int, map[string]string) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, b.PortalURL+"/api/v1/certificates", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Site", fetchSite)
	if fetchSite == "same-origin" {
		req.Header.Set("Origin", b.PortalURL)
	} else {
		req.Header.Set("Origin", "https://elsewhere.example")
	}
	resp, err := b.Client(nil).HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal(out, &fields); err != nil {
		t.Fatalf("answer is not a JSON object of strings: %v\n%s", err, out)
	}
	return resp.StatusCode, fields
}

// TestR4_IssuanceAsThePageDoesIt: the API answers the page's request, and
// every refusal a clerk can meet there has a message of its own on the
// page, in both languages, that says what to do (R4, R6, R11, R12).
func TestR4_IssuanceAsThePageDoesIt(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	certOrg := b.NewOrg(t, "発行ページ労働組合", true)
	passwordOrg := b.NewOrg(t, "発行ページ生活協同組合", false)
	user := b.NewGeneralUser(t, certOrg)
	locked := b.NewGeneralUser(t, certOrg)
	codes := scriptErrorKeys(t)
	page := get(t, b.Client(nil), b.PortalURL+"/issue")
	messages := pageMessages(t, page)

	csr := func() string {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return testutil.NewCSR(t, key)
	}
	request := func(c testutil.Creds, password string) map[string]string {
		return map[string]string{"login_id": c.LoginID, "password": password, "csr": csr()}
	}

	t.Run("issued, with the issuing CA first and the root last", func(t *testing.T) {
		status, got := fetchCertificate(t, b, "application/json", "same-origin", request(user, user.Password))
		if status != http.StatusCreated {
			t.Fatalf("status %d: %v", status, got)
		}
		var chain []*x509.Certificate
		rest := []byte(got["chain"])
		for {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, cert)
		}
		// The page puts the certificates that are not self-signed into
		// the file: exactly the issuing CA.
		var notRoots []*x509.Certificate
		for _, c := range chain {
			if !bytes.Equal(c.RawIssuer, c.RawSubject) {
				notRoots = append(notRoots, c)
			}
		}
		if len(chain) != 2 || len(notRoots) != 1 || !notRoots[0].Equal(b.Authority.Issuing) {
			t.Errorf("chain of %d certificates, %d not self-signed; want the issuing CA and the root", len(chain), len(notRoots))
		}
		if got["certificate"] == "" || got["not_after"] == "" {
			t.Errorf("no certificate or expiry in %v", got)
		}
	})

	// A locked user: a wrong password is answered as any other; only the
	// right one learns of the lock.
	b.LockUser(t, locked.LoginID)
	if status, got := fetchCertificate(t, b, "application/json", "same-origin", request(locked, "Wrong-password1")); got["error"] != "invalid_credentials" {
		t.Fatalf("locked user, wrong password: %d %v, want invalid_credentials", status, got)
	}
	tests := []struct {
		name, contentType, fetchSite string
		body                         map[string]string
		code, key                    string
	}{
		{"wrong password", "application/json", "same-origin", request(user, "Wrong-password1"),
			"invalid_credentials", "page.issue.error.invalid_credentials"},
		{"a valid certificate exists (R6, R12)", "application/json", "same-origin", request(user, user.Password),
			"active_certificate_exists", "page.issue.error.active_certificate_exists"},
		{"not applied for certificate login (R2, R4)", "application/json", "same-origin", request(passwordOrg.Master, passwordOrg.Master.Password),
			"certificate_login_not_enabled", "page.issue.error.certificate_login_not_enabled"},
		{"locked", "application/json", "same-origin", request(locked, locked.Password),
			"account_locked", "page.issue.error.account_locked"},
		{"the browser's request is not a CSR", "application/json", "same-origin",
			map[string]string{"login_id": certOrg.Master.LoginID, "password": certOrg.Master.Password, "csr": "not a CSR"},
			"invalid_csr", "page.issue.error.browser"},
		{"from another site", "application/json", "cross-site", request(certOrg.Master, certOrg.Master.Password),
			"cross_origin", "page.issue.error.reload"},
		{"not JSON", "text/plain", "same-origin", request(certOrg.Master, certOrg.Master.Password),
			"unsupported_media_type", "page.issue.error.reload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := fetchCertificate(t, b, tt.contentType, tt.fetchSite, tt.body)
			if got["error"] != tt.code {
				t.Fatalf("%d %v, want error %q", status, got, tt.code)
			}
			if key := codes[tt.code]; key != tt.key {
				t.Errorf("the page shows %q for %q, want %q", key, tt.code, tt.key)
			}
			if _, ok := messages[tt.key]; !ok {
				t.Errorf("the page does not give its script the message %q", tt.key)
			}
		})
	}
	t.Run("every code in the table has a message", func(t *testing.T) {
		for _, code := range []string{"organization_certificate_limit", "unsupported_key"} {
			if codes[code] == "" {
				t.Errorf("no message for %q", code)
			}
		}
		for code, key := range codes {
			if _, ok := messages[key]; !ok {
				t.Errorf("%s: the page does not give its script the message %q", code, key)
			}
		}
	})
}
