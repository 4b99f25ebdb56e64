package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kinko/internal/testutil"
	"kinko/internal/web"
)

func TestPublicPagesInBothLanguages(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	paths := web.PublicPaths()
	if len(paths) != 10 {
		t.Errorf("%d public pages, want 10", len(paths))
	}
	for _, lang := range []string{"ja", "en"} {
		c := b.Client(nil)
		setLanguage(t, b, c, lang)
		for path, key := range paths {
			t.Run(lang+path, func(t *testing.T) {
				p := get(t, c, b.PortalURL+path)
				wantPage(t, p, http.StatusOK, path)
				wantTitle(t, p, lang, key)
				// The header: the service name, the navigation of the
				// public pages and the login.
				wantText(t, p, msg(t, lang, "service.name"), msg(t, lang, "nav.login"), msg(t, lang, "nav.faq"),
					msg(t, lang, "nav.manual"), msg(t, lang, "layout.switch_language"))
				for other := range paths {
					if other != "/" && !strings.Contains(p.Raw, `href="`+other+`"`) {
						t.Errorf("no link to %s", other)
					}
				}
				if !strings.Contains(p.Raw, `<h1>`) {
					t.Error("no <h1>")
				}
			})
		}
	}
}

func TestPublicPageContents(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	tests := []struct {
		path  string
		lang  string
		texts func(t *testing.T) []string
	}{
		// The hours in force (the test bank is always open), since it
		// writes no service_hours of its own.
		{"/hours", "ja", func(t *testing.T) []string { return []string{msg(t, "ja", "hours.span", "0:00", "24:00")} }},
		{"/hours", "en", func(t *testing.T) []string { return []string{"0:00 to 24:00"} }},
		{"/environment", "ja", func(t *testing.T) []string {
			return []string{"Windows 11", msg(t, "ja", "env.windows10"), "macOS 15（Sequoia）以降", "Linux", "Microsoft Edge", "Chromium"}
		}},
		{"/environment", "en", func(t *testing.T) []string {
			return []string{"Windows 10 (version 1709 or later)", "macOS 15 (Sequoia) or later", "AES-256", "Google Chrome, Chromium"}
		}},
		{"/security", "ja", func(t *testing.T) []string { return []string{msg(t, "ja", "page.security.password.idle", 15)} }},
		{"/faq", "en", func(t *testing.T) []string {
			return []string{msg(t, "en", "page.faq.q1"), msg(t, "en", "page.faq.q13"), "Q13",
				msg(t, "en", "page.faq.q14"), msg(t, "en", "page.faq.a14"), msg(t, "en", "page.faq.a14_master")}
		}},
		{"/manual", "ja", func(t *testing.T) []string {
			return []string{"go run ./cmd/kinko demo", msg(t, "ja", "page.manual.screenshot", msg(t, "ja", "page.login.title"))}
		}},
		{"/login", "ja", func(t *testing.T) []string {
			return []string{msg(t, "ja", "action.certificate_login"), msg(t, "ja", "action.certificate_issue")}
		}},
		{"/issue", "en", func(t *testing.T) []string { return []string{msg(t, "en", "page.issue.form.heading")} }},
	}
	for _, tt := range tests {
		t.Run(tt.lang+tt.path, func(t *testing.T) {
			c := b.Client(nil)
			setLanguage(t, b, c, tt.lang)
			p := get(t, c, b.PortalURL+tt.path)
			wantPage(t, p, http.StatusOK, tt.path)
			wantText(t, p, tt.texts(t)...)
		})
	}
}

// TestLoginPageLinks: the login page leads to the certificate portal and
// to issuance, and its form has labelled inputs.
func TestLoginPageLinks(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	p := get(t, b.Client(nil), b.PortalURL+"/login")
	wantPage(t, p, http.StatusOK, "/login")
	wantTitle(t, p, "ja", "page.login.title")
	if !strings.Contains(p.Raw, `class="button button-cert button-large" href="`+b.CertPortalURL+`/"`) {
		t.Errorf("no certificate login button to %s/", b.CertPortalURL)
	}
	if !strings.Contains(p.Raw, `href="/issue"`) {
		t.Error("no link to the issuance page")
	}
	issue := get(t, b.Client(nil), b.PortalURL+"/issue")
	wantPage(t, issue, http.StatusOK, "/issue")
	wantTitle(t, issue, "ja", "page.issue.title")
	wantText(t, issue, msg(t, "ja", "page.issue.form.heading"))
	for _, id := range []string{"login_id", "password"} {
		if !strings.Contains(p.Raw, `<label for="`+id+`">`) || !strings.Contains(p.Raw, `id="`+id+`"`) {
			t.Errorf("input %s has no label", id)
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	c := b.Client(nil)
	ja := get(t, c, b.PortalURL+"/faq?x=1")
	wantTitle(t, ja, "ja", "page.faq.title")
	link := regexp.MustCompile(`class="lang-switch" href="([^"]+)" lang="en"`).FindStringSubmatch(ja.Raw)
	if link == nil {
		t.Fatalf("no switch to English on the page:\n%s", ja.Raw)
	}
	href := strings.ReplaceAll(link[1], "&amp;", "&")
	if want := "/lang/en?next=" + url.QueryEscape("/faq?x=1"); href != want {
		t.Errorf("switch link = %q, want %q", href, want)
	}
	t.Run("the cookie", func(t *testing.T) {
		p := get(t, noRedirects(c), b.PortalURL+href)
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/faq?x=1" {
			t.Errorf("switch: %d to %q, want 303 to /faq?x=1", p.Status, p.Header.Get("Location"))
		}
		ck := cookieNamed(p, "kinko-lang")
		if ck == nil || ck.Value != "en" || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("kinko-lang cookie = %+v, want en, Secure, SameSite=Lax, Path=/", ck)
		}
	})
	t.Run("stays on the page in English", func(t *testing.T) {
		en := get(t, c, b.PortalURL+href)
		wantPage(t, en, http.StatusOK, "/faq")
		wantTitle(t, en, "en", "page.faq.title")
		if !strings.Contains(en.Raw, `href="/lang/ja?next=`) {
			t.Error("no switch back to Japanese")
		}
		// And the next pages too.
		wantTitle(t, get(t, c, b.PortalURL+"/login"), "en", "page.login.title")
	})
	t.Run("back to Japanese", func(t *testing.T) {
		p := get(t, c, b.PortalURL+"/lang/ja?next=/terms")
		wantPage(t, p, http.StatusOK, "/terms")
		wantTitle(t, p, "ja", "page.terms.title")
	})
	t.Run("never to another site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "evil", ""} {
			p := get(t, noRedirects(c), b.PortalURL+"/lang/en?next="+url.QueryEscape(next))
			if loc := p.Header.Get("Location"); p.Status != http.StatusSeeOther || loc != "/" {
				t.Errorf("next=%q: %d to %q, want 303 to /", next, p.Status, loc)
			}
		}
	})
	t.Run("unknown language", func(t *testing.T) {
		if p := get(t, noRedirects(c), b.PortalURL+"/lang/fr?next=/"); p.Status != http.StatusNotFound {
			t.Errorf("/lang/fr: %d, want 404", p.Status)
		}
	})
}

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// TestSecurityHeaders: every web response carries the security headers,
// and no page has inline code that the policy would block.
func TestSecurityHeaders(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	org := b.NewOrg(t, "ヘッダー労働組合", true)
	cert := b.IssueCertificate(t, org.Master)
	tests := []struct {
		name   string
		client *testutil.Client
		url    string
		status int
	}{
		{"top page", b.Client(nil), b.PortalURL + "/", http.StatusOK},
		{"login", b.Client(nil), b.PortalURL + "/login", http.StatusOK},
		{"stylesheet", b.Client(nil), b.PortalURL + "/static/kinko.css", http.StatusOK},
		{"not found", b.Client(nil), b.PortalURL + "/no-such-page", http.StatusNotFound},
		{"session ended", b.Client(nil), b.PortalURL + "/session-ended", http.StatusOK},
		{"certificate portal", b.Client(cert), b.CertPortalURL + "/", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := get(t, noRedirects(tt.client), tt.url)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d", p.Status, tt.status)
			}
			for h, want := range map[string]string{
				"Content-Security-Policy":   wantCSP,
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"X-Frame-Options":           "DENY",
				"Strict-Transport-Security": "max-age=31536000",
			} {
				if got := p.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				if p.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", p.Header.Get("Cache-Control"))
				}
				for _, inline := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "javascript:"} {
					if strings.Contains(p.Raw, inline) {
						t.Errorf("the page has inline code %q", inline)
					}
				}
			}
		})
	}
}

func TestStaticFiles(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	c := b.Client(nil)
	// The shared look (focus rings and all), then the portal's own.
	for name, want := range map[string]string{"base.css": ":focus-visible", "kinko.css": ".bank-matches"} {
		css := get(t, c, b.PortalURL+"/static/"+name)
		if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(css.Raw, want) {
			t.Errorf("stylesheet %s: %d %s", name, css.Status, css.Header.Get("Content-Type"))
		}
	}
	for _, m := range []string{"der.js", "csr.js", "pkcs12.js"} {
		js := get(t, c, b.PortalURL+"/static/js/"+m)
		if js.Status != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js.Raw, "export ") {
			t.Errorf("module %s: %d %s", m, js.Status, js.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/", "/static/nope.css", "/static/../web.go", "/static/js/package.json", "/static/js/test/helpers.mjs"} {
		if p := get(t, c, b.PortalURL+path); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.Status)
		}
	}
}

func TestNotFoundPage(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := b.Client(nil)
			setLanguage(t, b, c, lang)
			p := get(t, c, b.PortalURL+"/no/such/page")
			if p.Status != http.StatusNotFound {
				t.Fatalf("status %d, want 404", p.Status)
			}
			wantTitle(t, p, lang, "page.error.title")
			wantText(t, p, msg(t, lang, "error.page_not_found"))
		})
	}
}

// TestMounting: /api/ and /pki/ stay with the API on both listeners;
// everything else is a page.
func TestMounting(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	org := b.NewOrg(t, "マウント労働組合", true)
	cert := b.IssueCertificate(t, org.Master)
	tests := []struct {
		name   string
		client *testutil.Client
		url    string
		status int
		ctype  string
	}{
		{"portal CA chain", b.Client(nil), b.PortalURL + "/pki/ca.pem", http.StatusOK, "application/x-pem-file"},
		{"portal API", b.Client(nil), b.PortalURL + "/api/v1/no-such-endpoint", http.StatusNotFound, "application/json"},
		{"portal API session", b.Client(nil), b.PortalURL + "/api/v1/me", http.StatusUnauthorized, "application/json"},
		{"portal page", b.Client(nil), b.PortalURL + "/faq", http.StatusOK, "text/html"},
		{"certificate portal API", b.Client(cert), b.CertPortalURL + "/api/v1/me", http.StatusUnauthorized, "application/json"},
		{"certificate portal page", b.Client(cert), b.CertPortalURL + "/", http.StatusOK, "text/html"},
		{"certificate portal has no public pages", b.Client(cert), b.CertPortalURL + "/faq", http.StatusNotFound, "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := get(t, tt.client, tt.url)
			if p.Status != tt.status || !strings.HasPrefix(p.Header.Get("Content-Type"), tt.ctype) {
				t.Errorf("%d %s, want %d %s", p.Status, p.Header.Get("Content-Type"), tt.status, tt.ctype)
			}
		})
	}
}

// TestManualShowsScreenshots: the manual shows pictures of the real pages,
// served by kinko itself.
func TestManualShowsScreenshots(t *testing.T) {
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	c := b.Client(nil)
	p := get(t, c, b.PortalURL+"/manual")
	imgs := regexp.MustCompile(`<img src="(/static/screenshots/[a-z0-9-]+\.png)"`).FindAllStringSubmatch(p.Raw, -1)
	if len(imgs) < 4 {
		t.Fatalf("the manual shows %d screenshots, want at least 4", len(imgs))
	}
	for _, m := range imgs {
		img := get(t, c, b.PortalURL+m[1])
		if img.Status != http.StatusOK || img.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(img.Raw, "\x89PNG") {
			t.Errorf("%s: %d %s", m[1], img.Status, img.Header.Get("Content-Type"))
		}
	}
}
