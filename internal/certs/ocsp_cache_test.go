package certs_test

import (
	"context"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"kinko/internal/certs"
	"kinko/internal/pki"
)

// racingStore answers a serial's status from status, and holds the first
// read until release is closed, having closed reading.
type racingStore struct {
	certs.CRLStore // not called
	mu             sync.Mutex
	status         certs.Status
	reads          int
	reading        chan struct{}
	release        chan struct{}
}

func (s *racingStore) CertificateHeadBySerial(_ context.Context, serial string) (certs.Certificate, error) {
	s.mu.Lock()
	st := s.status
	s.reads++
	first := s.reads == 1
	s.mu.Unlock()
	if first {
		close(s.reading)
		<-s.release
	}
	return certs.Certificate{Serial: serial, Status: st, RevokedAt: scaleNow, RevocationReason: "keyCompromise"}, nil
}

func (s *racingStore) RevocationEpoch(context.Context) (int64, error) { return 0, nil }

// TestOCSP_StatusReadBeforeADropIsNotCached: a status read from the store
// before the cache was dropped (here by a revocation on this server) is
// answered but not kept, so the next answer reads the store again.
func TestOCSP_StatusReadBeforeADropIsNotCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko ocsp cache", Now: scaleNow.AddDate(-2, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := &racingStore{status: certs.StatusIssued, reading: make(chan struct{}), release: make(chan struct{})}
	revs, err := certs.NewRevocations(certs.RevocationConfig{Store: st, Authority: a, Now: func() time.Time { return scaleNow }})
	if err != nil {
		t.Fatal(err)
	}
	req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(0x1234)}, a.Issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	status := func() int {
		t.Helper()
		der, err := revs.OCSP(context.Background(), req)
		if err != nil {
			t.Error(err)
			return -1
		}
		r, err := ocsp.ParseResponse(der, a.Issuing)
		if err != nil {
			t.Error(err)
			return -1
		}
		return r.Status
	}
	first := make(chan int)
	go func() { first <- status() }()
	<-st.reading // the first answer has read "issued"
	st.mu.Lock()
	st.status = certs.StatusRevoked
	st.mu.Unlock()
	revs.Revoked()
	close(st.release)
	if got := <-first; got != ocsp.Good {
		t.Errorf("first answer: status %d, want good (read before the revocation)", got)
	}
	if got := status(); got != ocsp.Revoked {
		t.Errorf("after the revocation: status %d, want revoked", got)
	}
	if st.reads != 2 {
		t.Errorf("store reads: %d, want 2", st.reads)
	}
	// Now kept: a third answer reads nothing.
	if got := status(); got != ocsp.Revoked || st.reads != 2 {
		t.Errorf("third answer: status %d after %d reads, want revoked from the cache after 2", got, st.reads)
	}
}
