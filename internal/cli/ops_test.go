package cli_test

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestDemo_OpsListenerServesHealthReadinessAndMetrics: kinko demo opens
// the operations listener (port 0 on 127.0.0.1 beside a portal on port 0),
// logs its address, and serves /healthz, /readyz and /metrics there.
func TestDemo_OpsListenerServesHealthReadinessAndMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kinko-demo")
	r := start(t, "demo", "--data", dir, "--portal-addr", "127.0.0.1:0", "--cert-addr", "127.0.0.1:0", "--pki-addr", "127.0.0.1:0")
	// The address is logged just after the command says it is ready.
	opsRe := regexp.MustCompile(`ops=http://(127\.0\.0\.1:[0-9]+)`)
	var m []string
	for m == nil {
		if m = opsRe.FindStringSubmatch(r.stderr.String()); m == nil {
			runtime.Gosched()
		}
	}
	if strings.HasSuffix(m[1], ":0") {
		t.Fatalf("operations listener logged at %s, want the port it took", m[1])
	}
	for _, tc := range []struct{ path, want string }{
		{"/healthz", "ok"},
		{"/readyz", `"ready":true`},
		{"/metrics", "kinko_db_open_connections"},
	} {
		resp, err := http.Get("http://" + m[1] + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %s, want 200 with %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}
}
