package web

import "net/http"

// issuance is GET /issue on the portal: 電子証明書発行 (R4, R11). The page
// itself only explains and holds the form; its script (static/js/issue.js)
// makes the key pair in the browser, sends the certificate signing request
// with the login ID and password to the API (POST /api/v1/certificates),
// and builds the PKCS#12 file in the page, so the private key never reaches
// the server. The messages the script shows are rendered into the page in
// its language; the link to certificate login goes to the certificate
// portal's address (view.CertPortalURL).
func (h *Handler) issuance(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "issue", &view{})
}
