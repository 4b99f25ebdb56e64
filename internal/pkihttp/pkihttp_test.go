package pkihttp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMountServesOnlyTheCAsObjects: the paths under /pki/ are the CA's,
// the others go on; without revocations the CRL and OCSP are not found,
// in JSON like the API; an OCSP request by GET whose base64 holds "//" is
// not redirected to a cleaned path.
func TestMountServesOnlyTheCAsObjects(t *testing.T) {
	chain := "-----BEGIN CERTIFICATE-----\n"
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := New(Config{CAChain: []byte(chain)}).Mount(next)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/pki/ca.pem", 200, chain},
		{"HEAD", "/pki/ca.pem", 200, ""},
		{"GET", "/pki/crl", 404, `"error":"not_found"`},
		{"POST", "/pki/ocsp", 404, `"error":"not_found"`},
		{"GET", "/pki/ocsp/MEMwQTA%2FMD0wOzAJBgUrDgMCGgUABBQ//abc=", 404, `"error":"not_found"`},
		{"GET", "/pki/ocsp/MEMwQTA//MD0wOzAJ", 404, `"error":"not_found"`},
		{"POST", "/pki/crl", 405, ""},
		{"GET", "/pki/other", 404, "404 page not found"},
		{"GET", "/api/v1/me", http.StatusTeapot, ""},
		{"GET", "/", http.StatusTeapot, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader("")))
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("%d %q, want %d with %q", w.Code, w.Body.String(), tc.status, tc.body)
			}
		})
	}
}

// TestCrossOriginPostIsRefused: a browser's post from another site is
// refused as the API refuses it.
func TestCrossOriginPostIsRefused(t *testing.T) {
	h := New(Config{}).Mount(http.NotFoundHandler())
	r := httptest.NewRequest(http.MethodPost, "https://bank.example/pki/ocsp", strings.NewReader(""))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"error":"cross_origin"`) {
		t.Errorf("%d %s", w.Code, w.Body.String())
	}
}
