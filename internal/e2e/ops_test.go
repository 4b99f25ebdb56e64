package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// promtoolEnv, when set, makes the test of promtool run: it fails instead
// of skipping when promtool is missing (CI sets it).
const promtoolEnv = "KINKO_TEST_PROMTOOL"

// opsGet fetches path from the operations listener: status, content type
// and body.
func opsGet(t testing.TB, b *testutil.Bank, path string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(b.OpsURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// readiness fetches /readyz: its status and its checks.
func readiness(t testing.TB, b *testutil.Bank) (int, map[string]string) {
	t.Helper()
	status, ct, body := opsGet(t, b, "/readyz")
	var got struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(body, &got); err != nil || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("/readyz: %q %s: %v", ct, body, err)
	}
	if got.Ready != (status == http.StatusOK) {
		t.Fatalf("/readyz: status %d with ready %v", status, got.Ready)
	}
	return status, got.Checks
}

// scrape returns the metrics of the bank's server by series (name and
// labels as the text format writes them, e.g. kinko_logins_total{channel="password",result="ok"}).
func scrape(t testing.TB, b *testutil.Bank) map[string]float64 {
	t.Helper()
	status, _, body := opsGet(t, b, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// expectMoved fails the test unless each series grew by exactly its
// count between before and after.
func expectMoved(t testing.TB, what string, before, after map[string]float64, want map[string]float64) {
	t.Helper()
	for series, n := range want {
		if got := after[series] - before[series]; got != n {
			t.Errorf("%s: %s moved by %v, want %v", what, series, got, n)
		}
	}
}

func TestOps_HealthAndReadinessOnTheOpsListenerOnly(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		if status, _, body := opsGet(t, b, "/healthz"); status != http.StatusOK || string(body) != "ok\n" {
			t.Errorf("/healthz: %d %q, want 200 ok", status, body)
		}
		status, checks := readiness(t, b)
		want := map[string]string{"database": "ok", "schema": "ok", "signing": "ok", "calendar": "ok"}
		if status != http.StatusOK || len(checks) != len(want) {
			t.Errorf("/readyz: %d %v, want 200 %v", status, checks, want)
		}
		for name, v := range want {
			if checks[name] != v {
				t.Errorf("/readyz: check %s = %q, want %q", name, checks[name], v)
			}
		}
		status, ct, body := opsGet(t, b, "/metrics")
		if status != http.StatusOK || !strings.HasPrefix(ct, "text/plain") || !bytes.Contains(body, []byte("kinko_db_open_connections")) {
			t.Errorf("/metrics: %d %q, want 200 text/plain with kinko_ metrics", status, ct)
		}
		// Not on the public listeners.
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			for _, base := range []string{b.PortalURL, b.PKIURL} {
				r := b.Client(nil).Do(http.MethodGet, base+path, nil)
				if r.Err != nil || r.Status != http.StatusNotFound || bytes.Contains(r.Raw, []byte("kinko_")) {
					t.Errorf("GET %s%s: %d %v, want 404", base, path, r.Status, r.Err)
				}
			}
		}
	})
}

func TestOps_ReadyzIs503WhenTheDatabaseIsClosed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		if status, checks := readiness(t, b); status != http.StatusOK {
			t.Fatalf("/readyz before: %d %v", status, checks)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		status, checks := readiness(t, b)
		if status != http.StatusServiceUnavailable || checks["database"] == "ok" || checks["schema"] == "ok" {
			t.Errorf("/readyz with the database closed: %d %v, want 503 with database and schema not ok", status, checks)
		}
		if checks["signing"] != "ok" {
			t.Errorf("/readyz: signing %q, want ok (only the database failed)", checks["signing"])
		}
		if status, _, _ := opsGet(t, b, "/healthz"); status != http.StatusOK {
			t.Errorf("/healthz with the database closed: %d, want 200 (the process lives)", status)
		}
	})
}

func TestOps_ReadyzIs503ForSchemaKeysAndCalendar(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		t.Run("schema behind the binary", func(t *testing.T) {
			b := testutil.NewBank(t, db)
			known, _, err := db.KnownSchemaVersion()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec(`DELETE FROM schema_migrations WHERE version = $1`, known); err != nil {
				t.Fatal(err)
			}
			defer db.SQL().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, known)
			if status, checks := readiness(t, b); status != http.StatusServiceUnavailable || checks["schema"] == "ok" || checks["database"] != "ok" {
				t.Errorf("/readyz: %d %v, want 503 for the schema only", status, checks)
			}
		})
		t.Run("a migration not applied", func(t *testing.T) {
			b := testutil.NewBank(t, db)
			if _, err := db.SQL().Exec(`DELETE FROM schema_migrations WHERE version = 2`); err != nil {
				t.Fatal(err)
			}
			defer db.SQL().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (2, 0)`)
			if status, checks := readiness(t, b); status != http.StatusServiceUnavailable || checks["schema"] == "ok" {
				t.Errorf("/readyz: %d %v, want 503 for the schema", status, checks)
			}
		})
		t.Run("issuing key that no longer signs", func(t *testing.T) {
			var broken atomic.Bool
			b := testutil.NewBankWith(t, db, func(p *server.Parts) {
				a := *p.Authority
				a.IssuingKey = &breakableSigner{Signer: a.IssuingKey, broken: &broken}
				p.Authority = &a
			})
			if status, checks := readiness(t, b); status != http.StatusOK {
				t.Fatalf("/readyz before: %d %v", status, checks)
			}
			broken.Store(true)
			if status, checks := readiness(t, b); status != http.StatusServiceUnavailable || checks["signing"] == "ok" {
				t.Errorf("/readyz: %d %v, want 503 for the signing key", status, checks)
			}
		})
		t.Run("no holidays for this year", func(t *testing.T) {
			b := testutil.NewBankWith(t, db, func(p *server.Parts) { p.Calendar = calendar.New(calendar.Holidays{}) })
			if status, checks := readiness(t, b); status != http.StatusServiceUnavailable || checks["calendar"] == "ok" {
				t.Errorf("/readyz: %d %v, want 503 for the calendar", status, checks)
			}
		})
	})
}

// breakableSigner is a key that stops signing once broken is set, as a
// key in an HSM that is gone.
type breakableSigner struct {
	crypto.Signer
	broken *atomic.Bool
}

func (s *breakableSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.broken.Load() {
		return nil, errors.New("the key is out of reach")
	}
	return s.Signer.Sign(rand, digest, opts)
}

func TestOps_MetricsCountLoginsIssuancesRevocationsAndRefusedHandshakes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "計測労組", true)
		g := b.NewGeneralUser(t, org)
		pw := b.NewOrg(t, "計測商事", false)

		before := scrape(t, b)
		passwordLogin(t, b, pw.Master)
		r := b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": pw.Master.LoginID, "password": "wrong-" + pw.Master.Password})
		expect(t, "wrong password", r, http.StatusUnauthorized, "invalid_credentials")
		expectMoved(t, "password logins", before, scrape(t, b), map[string]float64{
			`kinko_logins_total{channel="password",result="ok"}`:                                         1,
			`kinko_logins_total{channel="password",result="invalid_credentials"}`:                        1,
			`kinko_http_requests_total{listener="portal",route="POST /api/v1/sessions",status="201"}`:    1,
			`kinko_http_requests_total{listener="portal",route="POST /api/v1/sessions",status="401"}`:    1,
			`kinko_http_request_duration_seconds_count{listener="portal",route="POST /api/v1/sessions"}`: 2,
		})

		before = scrape(t, b)
		masterCert := b.IssueCertificate(t, org.Master)
		genCert := b.IssueCertificate(t, g)
		r, _ = issue(t, b, g)
		expect(t, "second certificate", r, http.StatusConflict, "active_certificate_exists")
		expectMoved(t, "issuances", before, scrape(t, b), map[string]float64{
			`kinko_certificate_issuances_total{kind="issue",result="ok"}`:                        2,
			`kinko_certificate_issuances_total{kind="issue",result="active_certificate_exists"}`: 1,
		})

		before = scrape(t, b)
		cl := certLogin(t, b, masterCert, org.Master)
		expect(t, "revocation", revoke(cl, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
		expect(t, "revocation again", revoke(cl, org.Master, g.LoginID, "keyCompromise"), http.StatusNotFound, "no_active_certificate")
		expectMoved(t, "certificate login and revocations", before, scrape(t, b), map[string]float64{
			`kinko_logins_total{channel="certificate",result="ok"}`:                           1,
			`kinko_certificate_revocations_total{by="master",result="ok"}`:                    1,
			`kinko_certificate_revocations_total{by="master",result="no_active_certificate"}`: 1,
		})

		before = scrape(t, b)
		evil, evilKey := forgeCA(t, pkix.Name{Organization: []string{"evil"}, CommonName: "Evil Root CA"}, []byte{9, 9, 9})
		leaf := genCert.Leaf
		fake := forgeLeaf(t, leaf.SerialNumber, leaf.Subject, leaf.NotBefore, leaf.NotAfter, evil, evilKey, evil.Raw)
		if got := handshake(t, b, fake, 0x0304); got == "" {
			t.Fatal("a certificate of another CA was not refused")
		}
		expectMoved(t, "refused handshake", before, scrape(t, b), map[string]float64{
			`kinko_tls_handshake_refusals_total{reason="unknown_authority"}`: 1,
		})

		// The bank has no mail transport: the mails of the issuances and
		// the revocation wait in the outbox, and age with the bank's clock.
		b.Clock.Advance(time.Hour)
		m := scrape(t, b)
		if m["kinko_mail_outbox_mails"] < 1 || m["kinko_mail_outbox_oldest_age_seconds"] < 3600 {
			t.Errorf("outbox: %v mails, oldest %vs, want mails of an hour ago", m["kinko_mail_outbox_mails"], m["kinko_mail_outbox_oldest_age_seconds"])
		}
		if m["kinko_db_max_open_connections"] < 1 || m["kinko_db_open_connections"] < 1 || m["kinko_password_checks_slots"] < 1 {
			t.Errorf("pool %v/%v, password slots %v: want the pool and the gate", m["kinko_db_open_connections"],
				m["kinko_db_max_open_connections"], m["kinko_password_checks_slots"])
		}
	})
}

// TestOps_PromtoolCheckMetricsPasses: the operations listener's /metrics,
// after requests, logins and jobs have moved every kind of metric, passes
// promtool check metrics (the format and Prometheus's naming rules).
func TestOps_PromtoolCheckMetricsPasses(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv(promtoolEnv) != "" {
			t.Fatalf("promtool not found and %s is set: %v", promtoolEnv, err)
		}
		t.Skipf("promtool not found (Debian package prometheus); set %s to require it", promtoolEnv)
	}
	b := testutil.NewBank(t, testutil.OpenSQLite(t))
	org := b.NewOrg(t, "検査労組", false)
	passwordLogin(t, b, org.Master)
	b.Client(nil).Portal(http.MethodGet, "/no/such/page", nil)
	b.Client(nil).Do(http.MethodGet, b.PKIURL+"/pki/ca.pem", nil)
	_, _, body := opsGet(t, b, "/metrics")
	for _, want := range []string{"kinko_http_requests_total", "kinko_logins_total", "kinko_db_open_connections",
		"kinko_mail_outbox_mails", "kinko_password_checks_running", "go_goroutines", "process_cpu_seconds_total"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
