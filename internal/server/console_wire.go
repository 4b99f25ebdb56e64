package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"

	"kinko/internal/console"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/pki"
)

// ConsoleHandler is the Parts.Console of a bank's server: the operator
// console's pages on the services, and the check of every console
// handshake, which finds the exact recorded certificate of an active
// operator by its fingerprint. interbankDir is where the console writes the
// interbank files it exports ("": no export from the console).
func ConsoleHandler(interbankDir string) func(*Services, string) (http.Handler, ConsoleCheck, error) {
	return func(s *Services, _ string) (http.Handler, ConsoleCheck, error) {
		p := s.Parts
		h, err := console.New(console.Config{Identity: s.Identity, Certs: s.Certs, Banking: s.Banking, Operators: s.Operators,
			Store: p.DB, OperatorCertificates: operatorCertificates{s: s}, InterbankDir: interbankDir,
			Logger: p.Logger, Now: p.Now, Rand: p.Rand})
		if err != nil {
			return nil, nil, err
		}
		check := func(ctx context.Context, c *x509.Certificate) error {
			_, err := s.Operators.StaffByCertificate(ctx, pki.Fingerprint(c.Raw))
			return err
		}
		return h, check, nil
	}
}

// operatorCertificates issues operators' certificates for the console's
// staff page.
type operatorCertificates struct{ s *Services }

func (o operatorCertificates) Issue(ctx context.Context, st operators.Staff) ([]byte, string, error) {
	if o.s.OperatorCA == nil {
		return nil, "", pki.ErrNoOperatorCA
	}
	return IssueOperatorCertificate(ctx, o.s.OperatorCA, o.s.Operators, st, o.s.Parts)
}

// IssueOperatorCertificate makes an operator's certificate with the
// operator CA (the key made here, for the operator's PC), records it for
// st, and returns it as a PKCS#12 file (AES-256) with a new file password,
// to be given to the operator once.
func IssueOperatorCertificate(ctx context.Context, ca *pki.OperatorCA, ops *operators.Service, st operators.Staff, p Parts) ([]byte, string, error) {
	now, rnd := p.Now, p.Rand
	cert, key, err := ca.Issue(st.Name, st.DisplayName, now(), rnd)
	if err != nil {
		return nil, "", fmt.Errorf("operator certificate for %s: %w", st.Name, err)
	}
	password, err := identity.GeneratePassword(rnd)
	if err != nil {
		return nil, "", err
	}
	p12, err := ca.PKCS12(cert, key, password)
	if err != nil {
		return nil, "", fmt.Errorf("operator certificate for %s: %w", st.Name, err)
	}
	if err := ops.AddCertificate(ctx, st.ID, cert); err != nil {
		return nil, "", err
	}
	return p12, password, nil
}
