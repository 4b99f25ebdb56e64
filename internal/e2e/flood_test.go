package e2e_test

// A flood of logins without a session: the password checks that run at
// once are bounded by identity's gate, and one client address has at most
// a few in flight; beyond them the answer is 503 server_busy with
// Retry-After, and nothing is checked or counted. (How much memory a
// flood takes is BenchmarkLoginFlood's: never a timed test.)

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// waitInUse yields until n checks are running or waiting in g; the test's
// timeout ends a wait that never ends.
func waitInUse(g *identity.Gate, n int) {
	for g.InUse() != n {
		time.Sleep(time.Millisecond)
	}
}

// clientFrom returns a client of the bank whose connections come from the
// loopback address src (127.0.0.0/8 is all loopback on Linux).
func clientFrom(b *testutil.Bank, cert *tls.Certificate, src string) *testutil.Client {
	cl := b.Client(cert)
	tr := cl.HTTP.Transport.(*http.Transport)
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext
	return cl
}

// expectBusy fails the test unless r is 503 server_busy with Retry-After
// and the catalogue's message in both languages.
func expectBusy(t testing.TB, what string, r testutil.Response) {
	t.Helper()
	expect(t, what, r, http.StatusServiceUnavailable, "server_busy")
	if got := r.Header.Get("Retry-After"); got != "1" {
		t.Errorf("%s: Retry-After %q, want 1", what, got)
	}
	if got, want := r.String("message"), httpedge.Message("error.server_busy"); got != want {
		t.Errorf("%s: message %q, want %q", what, got, want)
	}
}

// TestHardening_BusyGateAnswers503WithRetryAfter: while the gate's one
// slot is taken and its wait ends first, every password check without a
// session, on both portals and for issuance, is 503 server_busy with
// Retry-After, for an unknown ID as for a known one, and a wrong password
// refused so is not counted towards the lock. Once the slot is free, the
// same requests are checked.
func TestHardening_BusyGateAnswers503WithRetryAfter(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gate := identity.NewGate(identity.GateConfig{Procs: 1, Queue: 4, Wait: time.Millisecond})
		b := testutil.NewBankWith(t, db, func(p *server.Parts) { p.PasswordGate = gate })
		org := b.NewOrg(t, "混雑試験労組", false)
		certOrg := b.NewOrg(t, "混雑証明書労組", true)
		cert := b.IssueCertificate(t, certOrg.Master)
		g := b.NewGeneralUser(t, certOrg)

		release := make(chan struct{})
		in := make(chan struct{})
		held := make(chan error)
		go func() { held <- gate.Run(func() { close(in); <-release }) }()
		<-in

		cl := b.Client(nil)
		expectBusy(t, "unknown ID", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": "nobody99", "password": "Wrong-Password-1"}))
		expectBusy(t, "known ID, wrong password", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": wrongPassword}))
		expectBusy(t, "right password", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}))
		expectBusy(t, "certificate login", b.Client(cert).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": certOrg.Master.Password}))
		expectBusy(t, "issuance", cl.Portal(http.MethodPost, pathCertificates, map[string]string{
			"login_id": g.LoginID, "password": g.Password, "csr": testutil.NewCSR(t, newKey(t))}))
		if u := user(t, b, org.Master.LoginID); u.FailedLogins != 0 {
			t.Errorf("failed logins %d after a refusal as busy, want 0", u.FailedLogins)
		}

		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		expect(t, "unknown ID, gate free", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": "nobody99", "password": "Wrong-Password-1"}),
			http.StatusUnauthorized, "invalid_credentials")
		passwordLogin(t, b, org.Master)
		certLogin(t, b, cert, certOrg.Master)
	})
}

// TestHardening_PerClientInFlightLimit: with two password checks of
// 127.0.0.1 waiting in the gate, a third from 127.0.0.1 is refused at once
// (503 server_busy with Retry-After), while one from 127.0.0.2 is let in;
// all three admitted are answered once the gate frees.
func TestHardening_PerClientInFlightLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gate := identity.NewGate(identity.GateConfig{Procs: 1, Queue: 100, Wait: time.Minute})
		b := testutil.NewBankWith(t, db, func(p *server.Parts) {
			p.PasswordGate, p.PasswordChecksPerClient = gate, 2
		})
		org := b.NewOrg(t, "同時制限労組", false)

		release := make(chan struct{})
		in := make(chan struct{})
		held := make(chan error)
		go func() { held <- gate.Run(func() { close(in); <-release }) }()
		<-in

		type answer struct {
			what string
			r    testutil.Response
		}
		answers := make(chan answer)
		login := func(what string, cl *testutil.Client, loginID, password string) {
			go func() {
				answers <- answer{what, cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": loginID, "password": password})}
			}()
		}
		login("first of 127.0.0.1", clientFrom(b, nil, "127.0.0.1"), "nobody01", "Wrong-Password-1")
		login("second of 127.0.0.1", clientFrom(b, nil, "127.0.0.1"), "nobody02", "Wrong-Password-1")
		waitInUse(gate, 3)
		expectBusy(t, "third of 127.0.0.1", clientFrom(b, nil, "127.0.0.1").Portal(http.MethodPost, pathSessions,
			map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}))
		login("one of 127.0.0.2", clientFrom(b, nil, "127.0.0.2"), org.Master.LoginID, org.Master.Password)
		waitInUse(gate, 4)

		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		for range 3 {
			a := <-answers
			if a.what == "one of 127.0.0.2" {
				expect(t, a.what, a.r, http.StatusCreated, "")
			} else {
				expect(t, a.what, a.r, http.StatusUnauthorized, "invalid_credentials")
			}
		}
		// The places are free again.
		expect(t, "127.0.0.1 after the flood", clientFrom(b, nil, "127.0.0.1").Portal(http.MethodPost, pathSessions,
			map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}), http.StatusCreated, "")
	})
}
