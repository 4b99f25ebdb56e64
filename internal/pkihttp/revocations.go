package pkihttp

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"

	"kinko/internal/httpedge"
)

// ocspGetPrefix is the path of OCSP requests by GET (RFC 6960 appendix A):
// the base64 DER request follows it, URL-encoded or not.
const ocspGetPrefix = "/pki/ocsp/"

// maxOCSPRequest bounds an OCSP request (one certificate is about 100
// bytes).
const maxOCSPRequest = 8 << 10

// crl is GET /pki/crl: the DER CRL of the client-issuing CA.
func (h *Handler) crl(w http.ResponseWriter, r *http.Request) {
	if h.c.Revocations == nil {
		h.refuse(w, r, httpedge.ErrNoRoute)
		return
	}
	der, err := h.c.Revocations.CRL(r.Context())
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(der)
}

// ocspPost is POST /pki/ocsp: a DER OCSP request in the body.
func (h *Handler) ocspPost(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	h.ocspRespond(w, r, body)
}

// ocspGet is GET /pki/ocsp/{base64 request}.
func (h *Handler) ocspGet(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), ocspGetPrefix)
	s, err := url.PathUnescape(raw)
	if err != nil || len(s) > 2*maxOCSPRequest {
		h.ocspRespond(w, r, nil)
		return
	}
	s = strings.TrimSpace(s)
	req, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		req, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		req = nil
	}
	h.ocspRespond(w, r, req)
}

// ocspRespond writes the OCSP response to req; a request that cannot be
// parsed gets the malformedRequest response, with status 200 as RFC 6960
// has it.
func (h *Handler) ocspRespond(w http.ResponseWriter, r *http.Request, req []byte) {
	if h.c.Revocations == nil {
		h.refuse(w, r, httpedge.ErrNoRoute)
		return
	}
	resp, err := h.c.Revocations.OCSP(r.Context(), req)
	if err != nil {
		h.c.Logger.ErrorContext(r.Context(), "ocsp failed", "err", err)
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(resp)
}
