package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/testutil"
)

// catalogue is the message catalogue as the files hold it.
var catalogue = sync.OnceValue(func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range []string{"ja", "en"} {
		parts, err := filepath.Glob("../messages/" + l + "-*.json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		for _, name := range append([]string{"../messages/" + l + ".json"}, parts...) {
			b, err := os.ReadFile(name)
			if err != nil {
				panic(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				panic(err)
			}
		}
		out[l] = m
	}
	return out
})

// msg returns a message of the catalogue with its arguments, as the pages
// show it (after unescaping).
func msg(t testing.TB, lang, key string, args ...any) string {
	t.Helper()
	m, ok := catalogue()[lang][key]
	if !ok {
		t.Fatalf("no message %q in %s", key, lang)
	}
	for i, a := range args {
		m = strings.ReplaceAll(m, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return m
}

// dateTime formats t as the pages do in lang.
func dateTime(t testing.TB, lang string, tm time.Time) string {
	return tm.In(calendar.JST).Format(msg(t, lang, "format.datetime"))
}

// page is what a browser got for a request, after following redirects.
type page struct {
	Status int
	URL    *url.URL // after redirects
	Header http.Header
	Raw    string // the body as sent
	Text   string // the body with entities unescaped
}

// missingKey matches the placeholder of a message missing from the
// catalogue.
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.]+\]`)

func do(t testing.TB, c *testutil.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	p := page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Raw: string(b), Text: html.UnescapeString(string(b))}
	if m := missingKey.FindString(p.Raw); m != "" {
		t.Errorf("%s %s: the page shows a message missing from the catalogue: %s", req.Method, req.URL, m)
	}
	return p
}

// get loads a page.
func get(t testing.TB, c *testutil.Client, u string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// post submits a form.
func post(t testing.TB, c *testutil.Client, u string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

var tokenField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfToken returns the form token of a page.
func csrfToken(t testing.TB, p page) string {
	t.Helper()
	m := tokenField.FindStringSubmatch(p.Raw)
	if m == nil {
		t.Fatalf("no form token on %s:\n%s", p.URL, p.Raw)
	}
	return m[1]
}

var titleTag = regexp.MustCompile(`<title>([^<]*)</title>`)

// title returns the page's title.
func title(p page) string {
	m := titleTag.FindStringSubmatch(p.Raw)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var langAttr = regexp.MustCompile(`<html lang="([a-z]+)">`)

// pageLang returns the language of a page.
func pageLang(p page) string {
	m := langAttr.FindStringSubmatch(p.Raw)
	if m == nil {
		return ""
	}
	return m[1]
}

// wantTitle checks a page's title against the catalogue.
func wantTitle(t testing.TB, p page, lang, key string) {
	t.Helper()
	want := msg(t, lang, key) + " | " + msg(t, lang, "service.name")
	if got := title(p); got != want {
		t.Errorf("%s: title = %q, want %q", p.URL, got, want)
	}
	if got := pageLang(p); got != lang {
		t.Errorf("%s: <html lang> = %q, want %q", p.URL, got, lang)
	}
}

// wantText checks that a page shows a text.
func wantText(t testing.TB, p page, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.Text, s) {
			t.Errorf("%s (%d) does not show %q", p.URL, p.Status, s)
		}
	}
}

// wantPage checks a page's status and where it ended up.
func wantPage(t testing.TB, p page, status int, path string) {
	t.Helper()
	if p.Status != status || p.URL.Path != path {
		t.Fatalf("got %d at %s, want %d at %s\n%s", p.Status, p.URL.Path, status, path, p.Text)
	}
}

// setLanguage chooses the language of a client with the switch.
func setLanguage(t testing.TB, b *testutil.Bank, c *testutil.Client, lang string) {
	t.Helper()
	if p := get(t, c, b.PortalURL+"/lang/"+lang+"?next=/"); p.Status != http.StatusOK || pageLang(p) != lang {
		t.Fatalf("switch to %s: %d, lang %q", lang, p.Status, pageLang(p))
	}
}

// passwordLogin logs in with ID and password on the portal's login page.
func passwordLogin(t testing.TB, b *testutil.Bank, c *testutil.Client, loginID, password string) page {
	t.Helper()
	form := get(t, c, b.PortalURL+"/login")
	return post(t, c, b.PortalURL+"/login", url.Values{"csrf_token": {csrfToken(t, form)}, "login_id": {loginID}, "password": {password}})
}

// certificateLogin logs in on the certificate portal with the client's
// certificate.
func certificateLogin(t testing.TB, b *testutil.Bank, c *testutil.Client, password string) page {
	t.Helper()
	form := get(t, c, b.CertPortalURL+"/")
	if form.Status != http.StatusOK {
		t.Fatalf("certificate portal: %d\n%s", form.Status, form.Text)
	}
	return post(t, c, b.CertPortalURL+"/", url.Values{"csrf_token": {csrfToken(t, form)}, "password": {password}})
}

// noRedirects returns a copy of a client's HTTP client that does not
// follow redirects (same cookies).
func noRedirects(c *testutil.Client) *testutil.Client {
	h := *c.HTTP
	h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &testutil.Client{HTTP: &h}
}

// cookieNamed returns the cookie of that name that a response sets.
func cookieNamed(p page, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// refusedAt is the page whose GET shows the refusal of a form posted to
// path, after the redirect that follows it (Post/Redirect/Get).
func refusedAt(path string) string {
	switch {
	case strings.HasSuffix(path, "/unlock") && strings.HasPrefix(path, "/users/"):
		return "/users"
	case path == "/issue/withdraw":
		return "/issue"
	case strings.HasSuffix(path, "/delete") && strings.HasPrefix(path, "/payees/"):
		return "/payees"
	case strings.HasSuffix(path, "/cancel"):
		return strings.TrimSuffix(path, "/cancel")
	}
	return path
}
