package api

import (
	"encoding/pem"
	"net/http"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
)

type issueRequest struct {
	LoginID  string `json:"login_id"`
	Password string `json:"password"`
	CSR      string `json:"csr"`
}

type certificateResponse struct {
	Serial      string `json:"serial"`
	Certificate string `json:"certificate"`
	Chain       string `json:"chain"`
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
}

// issueCertificate is POST /api/v1/certificates (電子証明書発行).
func (a *API) issueCertificate(w http.ResponseWriter, r *http.Request) error {
	var req issueRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	release, err := a.c.PasswordChecks.Enter(r)
	if err != nil {
		return err
	}
	defer release()
	c, err := a.c.Certs.Issue(r.Context(), strings.TrimSpace(req.LoginID), req.Password, httpedge.ClientAddress(r), []byte(req.CSR))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.certificateResponse(c))
	return nil
}

type withdrawalRequest struct {
	LoginID  string `json:"login_id"`
	Password string `json:"password"`
}

// withdrawCertificate is POST /api/v1/certificates/withdrawal, on the
// portal: the user withdraws the certificate issued to them that was never
// saved (never used to log in, issued at most a day ago), with the login
// ID and login password, so that a new one can be issued.
func (a *API) withdrawCertificate(w http.ResponseWriter, r *http.Request) error {
	var req withdrawalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	release, err := a.c.PasswordChecks.Enter(r)
	if err != nil {
		return err
	}
	defer release()
	c, err := a.c.Certs.Withdraw(r.Context(), strings.TrimSpace(req.LoginID), req.Password, httpedge.ClientAddress(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"serial": c.Serial, "status": "revoked", "revoked_at": timeString(c.RevokedAt)})
	return nil
}

type renewalRequest struct {
	CSR string `json:"csr"`
}

// renewCertificate is POST /api/v1/certificates/renewal (電子証明書更新, R9),
// on the certificate portal: the session's certificate is renewed.
func (a *API) renewCertificate(w http.ResponseWriter, r *http.Request) error {
	var req renewalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := principal(r)
	if p.Certificate == nil {
		return auth.ErrCertificateRequired
	}
	c, err := a.c.Certs.Renew(r.Context(), p.User, p.Organization, *p.Certificate, []byte(req.CSR))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.certificateResponse(c))
	return nil
}

func (a *API) certificateResponse(c certs.Certificate) certificateResponse {
	return certificateResponse{
		Serial:      c.Serial,
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})),
		Chain:       string(a.c.CAChain),
		NotBefore:   timeString(c.NotBefore),
		NotAfter:    timeString(c.NotAfter),
	}
}
