package testutil

import (
	"context"
	"crypto/tls"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"kinko/internal/operators"
	"kinko/internal/server"
)

// Operator is a bank operator made by NewOperator, with the certificate of
// the operator CA that the console asks for.
type Operator struct {
	operators.Staff
	Cert *tls.Certificate
	// P12 and Password are the PKCS#12 file the operator is given and its
	// file password (for a browser's certificate store).
	P12      []byte
	Password string
}

// NewOperator adds an operator with role and gives them a certificate of
// the bank's operator CA, as "kinko operator staff add --out" does.
func (b *Bank) NewOperator(t testing.TB, name, displayName string, role operators.Role) Operator {
	t.Helper()
	ctx := context.Background()
	svc := b.Services
	if svc.OperatorCA == nil {
		t.Fatal("the bank has no operator CA (no console)")
	}
	st, err := svc.Operators.AddStaff(ctx, operators.NewStaff{Name: name, DisplayName: displayName, Role: role}, "")
	if err != nil {
		t.Fatalf("add operator %s: %v", name, err)
	}
	p12, password, err := server.IssueOperatorCertificate(ctx, svc.OperatorCA, svc.Operators, st, svc.Parts)
	if err != nil {
		t.Fatalf("operator certificate of %s: %v", name, err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		t.Fatalf("the operator's PKCS#12 file: %v", err)
	}
	tc := &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return Operator{Staff: st, Cert: tc, P12: p12, Password: password}
}

// Console sends a request to the operator console.
func (c *Client) Console(method, path string, body any) Response {
	return c.Do(method, c.bank.ConsoleURL+path, body)
}
