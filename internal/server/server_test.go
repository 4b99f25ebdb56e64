package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/testutil"
)

// parts are the least a server needs: a database and an authority.
func parts(t *testing.T) server.Parts {
	t.Helper()
	return partsAt(t, time.Now())
}

// partsAt are parts whose authority and stored server certificate are
// made at at, by the ceremony: the server loads neither the root key nor
// anything it signs but the stored certificate.
func partsAt(t *testing.T, at time.Time) server.Parts {
	t.Helper()
	dir := t.TempDir()
	if err := pki.Create(dir, pki.CreateOptions{Name: "server test bank", Now: at}); err != nil {
		t.Fatal(err)
	}
	ceremony, err := pki.LoadWithRoot(dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ceremony.ServerCertificate([]string{"localhost", "127.0.0.1"}, at, nil); err != nil {
		t.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return server.Parts{DB: testutil.OpenSQLite(t), Authority: a, Hasher: testutil.FastHasher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func port(t *testing.T, a net.Addr) int {
	t.Helper()
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.Port == 0 {
		t.Fatalf("address %v: want a TCP address with the port taken", a)
	}
	return ta.Port
}

// newServer builds a server from p on listeners at free ports of
// 127.0.0.1; the caller serves or closes it.
func newServer(t *testing.T, p server.Parts) *server.Server {
	t.Helper()
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(p, ln)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	return srv
}

// TestListen_PortZeroForEach: every listener takes a free port of its own
// with port 0, so that several servers run side by side; New knows every
// address from the start and puts the PKI listener's into the CRL and OCSP
// URLs of the certificates it issues.
func TestListen_PortZeroForEach(t *testing.T) {
	srv := newServer(t, parts(t))
	defer srv.Close()
	ports := map[int]bool{port(t, srv.PortalAddr()): true, port(t, srv.CertPortalAddr()): true, port(t, srv.PKIAddr()): true}
	if len(ports) != 3 {
		t.Fatalf("the listeners share a port: %v %v %v", srv.PortalAddr(), srv.CertPortalAddr(), srv.PKIAddr())
	}
	if got, want := srv.Services.Parts.PKIURL, "http://"+srv.PKIAddr().String(); got != want {
		t.Errorf("PKI URL %q, want the PKI listener's %q", got, want)
	}
}

// TestListen_PKIOnThePortalsHost: without a PKI address, the PKI listener
// takes any free port on the portal's host.
func TestListen_PKIOnThePortalsHost(t *testing.T) {
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if a := ln.PKI.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port == 0 {
		t.Fatalf("PKI listener on %v, want 127.0.0.1 and a free port", a)
	}
}

// TestListen_AddressInUse: a second server on an address that is taken is
// refused with the listener named, and closes what it had opened.
func TestListen_AddressInUse(t *testing.T) {
	first, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	portalAddr := free.Addr().String()
	free.Close()
	_, err = server.Listen(server.Addrs{Portal: portalAddr, CertPortal: first.CertPortal.Addr().String(), PKI: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "certificate portal listener") {
		t.Fatalf("Listen on a taken certificate portal address: %v, want an error naming that listener", err)
	}
	// The portal listener that the refused server had opened is closed.
	again, err := net.Listen("tcp", portalAddr)
	if err != nil {
		t.Fatalf("the refused server kept the portal's address %s: %v", portalAddr, err)
	}
	again.Close()
}

// TestServe_StopsWhenDone: Serve answers until its context is done, then
// returns nil and closes every listener.
func TestServe_StopsWhenDone(t *testing.T) {
	srv := newServer(t, parts(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	crl := "http://" + srv.PKIAddr().String() + "/pki/crl"
	resp, err := http.Get(crl)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", crl, resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context was done")
	}
	for _, a := range []net.Addr{srv.PortalAddr(), srv.CertPortalAddr(), srv.PKIAddr()} {
		if c, err := net.DialTimeout("tcp", a.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%v still accepts connections after Serve returned", a)
		}
	}
}

// TestNew_WarnsOfMissingHolidays: a server whose holiday data lacks the
// year ahead says so at start-up, naming the year and what to do; one
// that lacks the present year says so as an error.
func TestNew_WarnsOfMissingHolidays(t *testing.T) {
	for _, tt := range []struct {
		name  string
		years string // the holiday file's years
		level string
	}{
		{"year ahead missing", "%[1]d/1/1,元日\n", "WARN"},
		{"present year missing", "%[2]d/1/1,元日\n", "ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
			h, err := calendar.LoadHolidays(strings.NewReader(fmt.Sprintf(tt.years, now.Year(), now.Year()+1)))
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			p := partsAt(t, now)
			p.Calendar, p.Now = calendar.New(h), func() time.Time { return now }
			p.Logger = slog.New(slog.NewTextHandler(&log, nil))
			newServer(t, p).Close()
			missing := fmt.Sprint(now.Year() + 1)
			if tt.level == "ERROR" {
				missing = fmt.Sprint(now.Year())
			}
			out := log.String()
			if !strings.Contains(out, "level="+tt.level) || !strings.Contains(out, "holiday data") ||
				!strings.Contains(out, missing) || !strings.Contains(out, "holidays_file") {
				t.Fatalf("start-up log does not say at %s that %s is missing and what to do:\n%s", tt.level, missing, out)
			}
		})
	}
}

// TestNew_WarnsOfAServerCertificateAboutToExpire: the server never renews
// its certificate itself (the root key is not here); within 30 days of
// its end a start says so.
func TestNew_WarnsOfAServerCertificateAboutToExpire(t *testing.T) {
	made := time.Now().AddDate(0, 0, -380)
	for _, tt := range []struct {
		name string
		now  time.Time
		warn bool
	}{
		{"fresh", made.AddDate(0, 0, 1), false},
		{"16 days left", made.AddDate(0, 0, 380), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			p := partsAt(t, made)
			p.Now = func() time.Time { return tt.now }
			p.Logger = slog.New(slog.NewTextHandler(&log, nil))
			newServer(t, p).Close()
			if got := strings.Contains(log.String(), "server certificate expires soon"); got != tt.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tt.warn, log.String())
			}
		})
	}
}
