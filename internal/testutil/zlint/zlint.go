// Package zlint checks certificates in tests with zlint's RFC 5280 lints. It
// imports no kinko package, so that any package's tests may use it.
package zlint

import (
	"slices"
	"sync"
	"testing"

	"github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

var (
	rfc5280Once     sync.Once
	rfc5280Registry lint.Registry
	rfc5280Err      error
)

// rfc5280Lints returns the zlint registry restricted to lints whose source
// is RFC 5280, built once.
func rfc5280Lints() (lint.Registry, error) {
	rfc5280Once.Do(func() {
		rfc5280Registry, rfc5280Err = lint.GlobalRegistry().Filter(lint.FilterOptions{
			IncludeSources: lint.SourceList{lint.RFC5280},
		})
	})
	return rfc5280Registry, rfc5280Err
}

// LintCertificate runs the zlint v3 lints whose source is RFC 5280 on a DER
// certificate and fails the test with t.Errorf, naming the lint and its
// details, for every result of status Warn, Error or Fatal. A certificate
// that does not parse fails the test too.
func LintCertificate(t testing.TB, der []byte) {
	t.Helper()
	reg, err := rfc5280Lints()
	if err != nil {
		t.Fatalf("building RFC 5280 lint registry: %v", err)
	}
	if len(reg.Names()) == 0 {
		t.Fatal("RFC 5280 lint registry is empty")
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Errorf("lint: parsing certificate: %v", err)
		return
	}
	res := zlint.LintCertificateEx(c, reg)
	names := make([]string, 0, len(res.Results))
	for name := range res.Results {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := res.Results[name]
		switch r.Status {
		case lint.Warn, lint.Error, lint.Fatal:
			t.Errorf("lint %s: %s: %s", name, r.Status, r.Details)
		}
	}
}
