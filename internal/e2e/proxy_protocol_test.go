package e2e_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// logBuffer collects a bank's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withPROXYHeader makes cl open every connection with a PROXY protocol
// header of the given version that names src as the client (no header
// when version is 0).
func withPROXYHeader(cl *testutil.Client, version byte, src string) {
	tr := cl.HTTP.Transport.(*http.Transport)
	tr.DisableKeepAlives = true
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil || version == 0 {
			return c, err
		}
		from, err := net.ResolveTCPAddr("tcp", src)
		if err != nil {
			c.Close()
			return nil, err
		}
		if _, err := proxyproto.HeaderProxyFromAddrs(version, from, c.RemoteAddr()).WriteTo(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

// TestProxy_PROXYProtocolOnlyFromTrustedProxies: with proxy_protocol, a
// trusted proxy's connection names the client in a PROXY header (v1 or
// v2), and the requests on it are the client's in the log; it must send
// one. A connection from anywhere else that sends one is refused, and
// one that does not is served as usual.
func TestProxy_PROXYProtocolOnlyFromTrustedProxies(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		logs := &logBuffer{}
		mk := func(cidr string) *testutil.Bank {
			trust := behindProxies(t, cidr)
			return testutil.NewBankWith(t, db, func(p *server.Parts) {
				trust(p)
				p.ProxyProtocol = true
				p.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
		}
		trusted := mk("127.0.0.1/32")
		for _, v := range []byte{1, 2} {
			cl := trusted.Client(nil)
			src := "203.0.113." + string(rune('0'+v)) + ":40001"
			withPROXYHeader(cl, v, src)
			expect(t, "through a trusted proxy", cl.Portal(http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
			expect(t, "through a trusted proxy to the certificate portal", cl.CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_required")
			for _, l := range []string{"portal", "cert-portal"} {
				if want := "listener=" + l + " method=GET path=" + pathMe; !strings.Contains(logs.String(), want) ||
					!strings.Contains(logs.String(), "remote="+src) {
					t.Errorf("PROXY v%d: no log line of %s with remote=%s:\n%s", v, l, src, logs.String())
				}
			}
		}
		if r := trusted.Client(nil).Portal(http.MethodGet, pathMe, nil); r.Err == nil {
			t.Errorf("a trusted proxy's connection without a PROXY header: got HTTP %d, want it refused", r.Status)
		}

		untrusted := mk("10.0.0.0/8")
		for _, v := range []byte{1, 2} {
			cl := untrusted.Client(nil)
			withPROXYHeader(cl, v, "203.0.113.66:40001")
			if r := cl.Portal(http.MethodGet, pathMe, nil); r.Err == nil {
				t.Errorf("PROXY v%d header from an untrusted peer: got HTTP %d, want the connection refused", v, r.Status)
			}
		}
		expect(t, "a direct client", untrusted.Client(nil).Portal(http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
		if strings.Contains(logs.String(), "203.0.113.66") {
			t.Errorf("an untrusted peer's PROXY header reached the log:\n%s", logs.String())
		}
	})
}
