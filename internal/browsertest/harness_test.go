//go:build linux

package browsertest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/messages"
	"kinko/internal/testutil"
)

const (
	// browserEnv turns the browser tests on.
	browserEnv = "KINKO_TEST_BROWSER"
	// screenshotsEnv names a directory for screenshots of the main pages.
	screenshotsEnv = "KINKO_SCREENSHOTS"
	// policyDir is where Debian's Chromium reads managed policies.
	policyDir = "/etc/chromium/policies/managed"
	// stepTimeout bounds one step in the browser, so that a browser that
	// waits for something that never comes (a certificate picker) fails the
	// test instead of hanging it.
	stepTimeout = 30 * time.Second
	// width and height are the browser's viewport, and the screenshots'
	// size.
	width, height = 1280, 800
)

// tools are the programs the tests run.
var tools = []string{"chromium", "certutil", "pk12util", "openssl"}

// requireBrowser skips the test unless KINKO_TEST_BROWSER=1, and fails it
// when the variable is set but a tool is missing.
func requireBrowser(t *testing.T) {
	t.Helper()
	if os.Getenv(browserEnv) != "1" {
		t.Skipf("browser tests skipped: set %s=1 to run them in Chromium (they need Debian's chromium and libnss3-tools, "+
			"and write a managed policy into %s, so they run as root)", browserEnv, policyDir)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s=1 but %s is missing: apt-get install chromium libnss3-tools openssl", browserEnv, tool)
		}
	}
}

// site is a bank on real TLS listeners and SQLite, as the browser tests see
// it, with Chromium's policy that presents a certificate to its
// certificate portal without asking.
type site struct {
	t    *testing.T
	bank *testutil.Bank
	root string // the bank's root CA, PEM, for the NSS databases
	// dir holds files that the test makes (PKCS#12 files, keys).
	dir string
}

// newSite starts a bank for one browser test.
func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteAt(t, time.Now())
}

// newSiteAt is newSite with a bank made at at, in the past: the browser
// stands at the real time, and offers no certificate that is not valid yet.
func newSiteAt(t *testing.T, at time.Time) *site {
	t.Helper()
	requireBrowser(t)
	s := &site{t: t, bank: testutil.NewBankAt(t, testutil.OpenSQLite(t), at, nil), dir: t.TempDir()}
	s.root = filepath.Join(s.dir, "root.pem")
	if err := os.WriteFile(s.root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.bank.Authority.Root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	writePolicy(t, s.bank.CertPortalURL)
	return s
}

// writePolicy lets Chromium choose a client certificate for the
// certificate portal by itself (AutoSelectCertificateForUrls); without it
// Chromium waits for a certificate picker that nobody can answer in a
// headless browser. Chromium reads the policy when it starts, so it is
// written before any browser of the test starts, and removed at the end.
//
// The pattern names the host without a port, which matches every port:
// the listeners' ports change with every test, and all runs on this
// machine then write the same policy, each into a file of its own. Runs at
// the same time (several packages or developers) therefore never see
// another run's policy replace or remove theirs, whichever file Chromium
// reads first. The portal on the same host asks for no certificate.
func writePolicy(t *testing.T, certPortalURL string) {
	t.Helper()
	u, err := url.Parse(certPortalURL)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := json.Marshal(map[string]any{"pattern": u.Scheme + "://" + u.Hostname(), "filter": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string][]string{"AutoSelectCertificateForUrls": {string(rule)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		t.Fatalf("browser policy (the tests must run as root): %v", err)
	}
	removeStalePolicies()
	path := filepath.Join(policyDir, fmt.Sprintf("kinko-browsertest-%d.json", os.Getpid()))
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatalf("browser policy (the tests must run as root): %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(path) })
}

// removeStalePolicies removes the policy files of runs that ended without
// cleaning up (killed, or stopped by the test timeout).
func removeStalePolicies() {
	files, _ := filepath.Glob(filepath.Join(policyDir, "kinko-browsertest-*.json"))
	for _, f := range files {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "kinko-browsertest-"), ".json"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.Remove(f)
		}
	}
}

// msg returns the Japanese message of key, failing the test when the
// catalogue has no such key.
func msg(t *testing.T, key string) string {
	t.Helper()
	m, ok := messages.Text("ja", key)
	if !ok || m == "" {
		t.Fatalf("message catalogue has no %q", key)
	}
	return m
}

// dateTime formats tm as the pages do in Japanese.
func dateTime(t *testing.T, tm time.Time) string {
	t.Helper()
	return tm.In(calendar.JST).Format(msg(t, "format.datetime"))
}

// currentCertificate returns the user's certificate in the bank's store.
func (s *site) currentCertificate(loginID string) certs.Certificate {
	s.t.Helper()
	ctx := context.Background()
	u, _, err := s.bank.Services.Identity.UserByLoginID(ctx, loginID)
	if err != nil {
		s.t.Fatalf("user %s: %v", loginID, err)
	}
	c, err := s.bank.Services.Certs.CurrentCertificate(ctx, u.ID)
	if err != nil {
		s.t.Fatalf("certificate of %s: %v", loginID, err)
	}
	return c
}

// user returns a user as the identity service has it.
func (s *site) user(loginID string) identity.User {
	s.t.Helper()
	u, _, err := s.bank.Services.Identity.UserByLoginID(context.Background(), loginID)
	if err != nil {
		s.t.Fatalf("user %s: %v", loginID, err)
	}
	return u
}

// issueP12 issues a certificate to c through the API, as the command line
// does, and packs it with its key into a PKCS#12 file with OpenSSL's
// defaults; it returns the file and the certificate.
func (s *site) issueP12(c testutil.Creds, password string) (string, *x509.Certificate) {
	s.t.Helper()
	cert := s.bank.IssueCertificate(s.t, c)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		s.t.Fatal(err)
	}
	certFile := filepath.Join(s.dir, c.LoginID+"-api.pem")
	keyFile := filepath.Join(s.dir, c.LoginID+"-api.key")
	p12 := filepath.Join(s.dir, c.LoginID+"-api.p12")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		s.t.Fatal(err)
	}
	run(s.t, "openssl", "pkcs12", "-export", "-in", certFile, "-inkey", keyFile, "-name", c.LoginID,
		"-out", p12, "-passout", "pass:"+password)
	return p12, cert.Leaf
}

// p12Certificate returns the certificate inside a PKCS#12 file.
func (s *site) p12Certificate(file, password string) *x509.Certificate {
	s.t.Helper()
	out := run(s.t, "openssl", "pkcs12", "-in", file, "-nokeys", "-clcerts", "-passin", "pass:"+password)
	block, _ := pem.Decode(out)
	if block == nil {
		s.t.Fatalf("no certificate in %s: %s", file, out)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// run runs a command and returns its standard output; it fails the test
// when the command fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// person is one browser user at their own PC: a HOME whose NSS database
// trusts the bank's root CA for the listeners and holds the user's client
// certificates, and a download folder.
type person struct {
	s         *site
	t         *testing.T
	name      string // in logs and file names
	home      string
	nss       string // the NSS database, "sql:" + directory
	downloads string
}

// person makes a new browser user without certificates, for the test t.
func (s *site) person(t *testing.T, name string) *person {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".pki", "nssdb")
	p := &person{s: s, t: t, name: name, home: home, nss: "sql:" + dir, downloads: filepath.Join(home, "Downloads")}
	for _, d := range []string{dir, p.downloads} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "certutil", "-N", "--empty-password", "-d", p.nss)
	run(t, "certutil", "-A", "-n", "kinko-root", "-t", "C,,", "-i", s.root, "-d", p.nss)
	return p
}

// importP12 imports a PKCS#12 file into the person's NSS database, as a
// user on Linux does. Chromium reads the database when it starts.
func (p *person) importP12(file, password string) {
	p.t.Helper()
	run(p.t, "pk12util", "-i", file, "-d", p.nss, "-W", password)
}

// userCertificates returns the nicknames of the certificates with a key in
// the person's NSS database.
func (p *person) userCertificates() []string {
	p.t.Helper()
	out := run(p.t, "certutil", "-L", "-d", p.nss)
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			continue
		}
		if trust := line[i+1:]; strings.HasPrefix(trust, "u,") {
			names = append(names, strings.TrimSpace(line[:i]))
		}
	}
	return names
}

// deleteCertificates deletes the person's certificates and their keys from
// the NSS database, as the explanatory pages ask a user to do with a
// certificate that can no longer be used.
func (p *person) deleteCertificates() {
	p.t.Helper()
	for _, n := range p.userCertificates() {
		run(p.t, "certutil", "-F", "-n", n, "-d", p.nss)
	}
	if left := p.userCertificates(); len(left) > 0 {
		p.t.Fatalf("%s: certificates left in the NSS database: %q", p.name, left)
	}
}

// browser is a Chromium of one person, from a fresh profile.
type browser struct {
	p      *person
	t      *testing.T
	ctx    context.Context
	cancel func()
	once   sync.Once
	shot   bool // a failure screenshot was saved

	mu      sync.Mutex
	console []string // the page's console messages and uncaught exceptions
}

// chromium returns the path of Debian's Chromium.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return path
}

// open starts a headless Chromium for the person, with a new profile, and
// stops it at the end of the test (after a screenshot, if the test
// failed). Certificates imported later are seen only by a browser started
// later.
func (p *person) open() *browser {
	t := p.t
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(width, height),
		chromedp.Env("HOME="+p.home),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}))
	b := &browser{p: p, t: t, ctx: ctx, cancel: func() { cancelCtx(); cancelAlloc() }}
	t.Cleanup(func() {
		if t.Failed() {
			b.failureScreenshot()
		}
		b.close()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout here, it would end the browser
		t.Fatalf("%s: start chromium: %v", p.name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s:%d: %s", m.URL, m.Line+1, m))
			b.mu.Unlock()
		}
	}()
	b.step("set up the browser",
		chromedp.EmulateViewport(width, height),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: p.downloads})
			return err
		}))
	return b
}

// close stops the browser.
func (b *browser) close() {
	b.once.Do(func() {
		b.shot = true // nothing left to see
		b.cancel()
	})
}

// step runs actions in the browser, failing the test (with a screenshot)
// when they fail or take longer than stepTimeout.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, hint(err))
	}
}

// hint adds the likely cause to a step that timed out.
func hint(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (the page did not get there in %s; a waiting certificate picker means the policy did not match)", err, stepTimeout)
	}
	return err
}

// fatalf saves a screenshot and fails the test.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	b.failureScreenshot()
	b.t.Fatalf(b.p.name+": "+format, args...)
}

// errorf saves a screenshot and marks the test failed.
func (b *browser) errorf(format string, args ...any) {
	b.t.Helper()
	b.failureScreenshot()
	b.t.Errorf(b.p.name+": "+format, args...)
}

// visit opens url and waits until the page has loaded.
func (b *browser) visit(url string) {
	b.t.Helper()
	b.step("open "+url, chromedp.Navigate(url))
}

// submit clicks sel (a submit button or a link) and waits until the page
// it leads to has loaded.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.fatalf("click %s: %v", sel, hint(err))
	}
}

// fill types value into the input sel.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.step("type into "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// js quotes s as a JavaScript string.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// exists reports whether the page has an element matching sel.
func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return eval[bool](b, "document.querySelector("+js(sel)+") !== null")
}

// text returns the text of the first element matching sel as the user
// sees it, failing the test when there is none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	if !b.exists(sel) {
		b.fatalf("the page %s has no %s", b.location(), sel)
	}
	return strings.TrimSpace(eval[string](b, "document.querySelector("+js(sel)+").innerText"))
}

// href returns the absolute address of the link sel.
func (b *browser) href(sel string) string {
	b.t.Helper()
	if !b.exists(sel) {
		b.fatalf("the page %s has no %s", b.location(), sel)
	}
	return eval[string](b, "document.querySelector("+js(sel)+").href")
}

// location returns the page's address.
func (b *browser) location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("%s: location: %v", b.p.name, err)
	}
	return u
}

// mainText returns the text of the page's main content.
func (b *browser) mainText() string {
	b.t.Helper()
	return b.text("main")
}

// wantAt checks that the browser is at url.
func (b *browser) wantAt(url string) {
	b.t.Helper()
	if got := b.location(); got != url {
		b.fatalf("at %s, want %s; the page says:\n%s", got, url, b.mainText())
	}
}

// wantText checks that the element sel contains each of the texts.
func (b *browser) wantText(sel string, texts ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, want := range texts {
		if !strings.Contains(got, want) {
			b.errorf("%s on %s does not say %q; it says:\n%s", sel, b.location(), want, got)
		}
	}
}

// waitFor waits until the JavaScript condition holds.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	b.step("wait for "+what, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](cond)(ctx, t)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
}

// visible is the JavaScript condition that sel exists and is shown.
func visible(sel string) string {
	return "(e => e !== null && !e.closest('[hidden]') && e.getClientRects().length > 0)(document.querySelector(" + js(sel) + "))"
}

// waitDownload waits until the browser has saved the file name in the
// download folder and returns its path.
func (b *browser) waitDownload(name string) string {
	b.t.Helper()
	path := filepath.Join(b.p.downloads, name)
	deadline := time.Now().Add(stepTimeout)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			if _, err := os.Stat(path + ".crdownload"); errors.Is(err, os.ErrNotExist) {
				return path
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(b.p.downloads)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			b.fatalf("no download %s after %s (the download folder has %q)", name, stepTimeout, names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// capture returns a PNG of the viewport.
func (b *browser) capture() ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.CaptureScreenshot())
}

// screenshot saves a screenshot of the page as DIR/name.png when
// KINKO_SCREENSHOTS=DIR is set: the top of the page, or the part that
// starts with the element sel.
func (b *browser) screenshot(name, sel string) {
	b.t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	scroll := "window.scrollTo(0, 0)"
	if sel != "" {
		scroll = "window.scrollTo(0, document.querySelector(" + js(sel) + ").getBoundingClientRect().top + window.scrollY - 16)"
	}
	// Scrolled, the focus ring of the last click and the caret go too.
	eval[any](b, "document.activeElement?.blur(), "+scroll+", true")
	png, err := b.capture()
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// failureScreenshot saves what the browser shows when a test fails, once
// per browser, and logs where. The directory is kept after the test (a
// test's own temporary directory is removed when it ends).
func (b *browser) failureScreenshot() {
	if b.shot {
		return
	}
	b.shot = true
	b.mu.Lock()
	if len(b.console) > 0 {
		b.t.Logf("%s: the browser's console:\n%s", b.p.name, strings.Join(b.console, "\n"))
	}
	b.mu.Unlock()
	png, err := b.capture()
	if err != nil {
		b.t.Logf("%s: no failure screenshot: %v", b.p.name, err)
		return
	}
	f, err := os.CreateTemp("", "kinko-browsertest-*-"+b.p.name+".png")
	if err != nil {
		b.t.Logf("%s: no failure screenshot: %v", b.p.name, err)
		return
	}
	defer f.Close()
	if _, err := f.Write(png); err != nil {
		b.t.Logf("%s: no failure screenshot: %v", b.p.name, err)
		return
	}
	b.t.Logf("%s: screenshot of the failure: %s", b.p.name, f.Name())
}

// click is the action of a mouse click on the first element matching sel.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}
