package httpedge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
)

// domainErrors are the exported errors of the domain packages, by name.
// TestTableMapsEveryDomainError checks that this list is complete.
var domainErrors = map[string]error{
	"auth.ErrCertificateLoginRequired":      auth.ErrCertificateLoginRequired,
	"auth.ErrNoSession":                     auth.ErrNoSession,
	"auth.ErrCertificateMismatch":           auth.ErrCertificateMismatch,
	"auth.ErrCertificateRequired":           auth.ErrCertificateRequired,
	"auth.ErrUnknownCertificate":            auth.ErrUnknownCertificate,
	"auth.ErrCertificateRevoked":            auth.ErrCertificateRevoked,
	"auth.ErrCertificateExpired":            auth.ErrCertificateExpired,
	"auth.ErrCertificateNotYetValid":        auth.ErrCertificateNotYetValid,
	"auth.ErrUserUnavailable":               auth.ErrUserUnavailable,
	"certs.ErrInvalidCSR":                   certs.ErrInvalidCSR,
	"certs.ErrUnsupportedKey":               certs.ErrUnsupportedKey,
	"certs.ErrCertificateLoginNotEnabled":   certs.ErrCertificateLoginNotEnabled,
	"certs.ErrActiveCertificateExists":      certs.ErrActiveCertificateExists,
	"certs.ErrOrganizationLimit":            certs.ErrOrganizationLimit,
	"certs.ErrNotFound":                     certs.ErrNotFound,
	"certs.ErrNoActiveCertificate":          certs.ErrNoActiveCertificate,
	"certs.ErrAlreadyRevoked":               certs.ErrAlreadyRevoked,
	"certs.ErrNotWithdrawable":              certs.ErrNotWithdrawable,
	"certs.ErrInvalidReason":                certs.ErrInvalidReason,
	"certs.ErrRequestRefRequired":           certs.ErrRequestRefRequired,
	"certs.ErrRenewalNotDue":                certs.ErrRenewalNotDue,
	"certs.ErrRenewalInProgress":            certs.ErrRenewalInProgress,
	"certs.ErrForbidden":                    certs.ErrForbidden,
	"certs.ErrPlaceTaken":                   certs.ErrPlaceTaken,
	"identity.ErrInvalidCredentials":        identity.ErrInvalidCredentials,
	"identity.ErrInvalidConfirmation":       identity.ErrInvalidConfirmation,
	"identity.ErrAccountLocked":             identity.ErrAccountLocked,
	"identity.ErrThrottled":                 identity.ErrThrottled,
	"identity.ErrNotFound":                  identity.ErrNotFound,
	"identity.ErrForbidden":                 identity.ErrForbidden,
	"identity.ErrLoginIDTaken":              identity.ErrLoginIDTaken,
	"identity.ErrOrganizationCodeTaken":     identity.ErrOrganizationCodeTaken,
	"identity.ErrOrganizationUserLimit":     identity.ErrOrganizationUserLimit,
	"identity.ErrNotLocked":                 identity.ErrNotLocked,
	"identity.ErrMasterUnlockByBank":        identity.ErrMasterUnlockByBank,
	"identity.ErrMasterResetByBank":         identity.ErrMasterResetByBank,
	"identity.ErrInvalidName":               identity.ErrInvalidName,
	"identity.ErrInvalidEmail":              identity.ErrInvalidEmail,
	"identity.ErrCertificateLoginUnchanged": identity.ErrCertificateLoginUnchanged,
	"identity.ErrPasswordResetByMaster":     identity.ErrPasswordResetByMaster,
	"identity.ErrBusy":                      identity.ErrBusy,
	"banking.ErrNotFound":                   banking.ErrNotFound,
	"banking.ErrUnknownBank":                banking.ErrUnknownBank,
	"banking.ErrForbidden":                  banking.ErrForbidden,
	"banking.ErrInsufficientFunds":          banking.ErrInsufficientFunds,
	"banking.ErrLimitExceeded":              banking.ErrLimitExceeded,
	"banking.ErrSelfApprovalForbidden":      banking.ErrSelfApprovalForbidden,
	"banking.ErrInvalidPayeeName":           banking.ErrInvalidPayeeName,
	"banking.ErrInvalidPayee":               banking.ErrInvalidPayee,
	"banking.ErrOutsideServiceHours":        banking.ErrOutsideServiceHours,
	"banking.ErrInvalidAccount":             banking.ErrInvalidAccount,
	"banking.ErrAccountExists":              banking.ErrAccountExists,
	"banking.ErrPayeeExists":                banking.ErrPayeeExists,
	"banking.ErrInvalidAmount":              banking.ErrInvalidAmount,
	"banking.ErrInvalidDate":                banking.ErrInvalidDate,
	"banking.ErrInvalidExecutionDate":       banking.ErrInvalidExecutionDate,
	"banking.ErrExecutionDatePassed":        banking.ErrExecutionDatePassed,
	"banking.ErrPayrollDeadline":            banking.ErrPayrollDeadline,
	"banking.ErrInvalidState":               banking.ErrInvalidState,
	"banking.ErrIdempotencyConflict":        banking.ErrIdempotencyConflict,
	"banking.ErrInvalidIdempotencyKey":      banking.ErrInvalidIdempotencyKey,
	"banking.ErrInvalidMemo":                banking.ErrInvalidMemo,
	"banking.ErrInvalidComment":             banking.ErrInvalidComment,
	"banking.ErrInvalidDescription":         banking.ErrInvalidDescription,
	"banking.ErrInvalidCustomerCode":        banking.ErrInvalidCustomerCode,
	"banking.ErrInvalidBatch":               banking.ErrInvalidBatch,
	"banking.ErrRequestRefRequired":         banking.ErrRequestRefRequired,
	"banking.ErrDepositRefUsed":             banking.ErrDepositRefUsed,
	"banking.ErrUnknownEncoding":            banking.ErrUnknownEncoding,
	"banking.ErrBatchItem":                  banking.ErrBatchItem,
	"banking.ErrInterbankAlreadyWritten":    banking.ErrInterbankAlreadyWritten,
	"banking.ErrVersionRequired":            banking.ErrVersionRequired,
	"banking.ErrTransferChanged":            banking.ErrTransferChanged,
	"banking.ErrTooManyLookups":             banking.ErrTooManyLookups,
	"banking.ErrAmountNotAboveFee":          banking.ErrAmountNotAboveFee,
	"banking.ErrInvalidFeePayer":            banking.ErrInvalidFeePayer,
	"banking.ErrInvalidFees":                banking.ErrInvalidFees,
}

// operatorOnly are the domain errors that only the operator's command line
// meets: no page or endpoint of a customer can cause them, so they stay
// internal_error at the edge.
var operatorOnly = map[string]bool{
	"identity.ErrOrganizationCodeTaken":     true, // organization set-up
	"identity.ErrCertificateLoginUnchanged": true, // switching an organization to certificate login
	"certs.ErrRequestRefRequired":           true, // a revocation by the bank on a written request
	"identity.ErrPasswordResetByMaster":     true, // a password reset by the bank on a written request
	"banking.ErrDepositRefUsed":             true, // a deposit by the bank on a written request
	"banking.ErrInvalidFees":                true, // a fee table of the config, refused at start or reload
}

// exportedErrors returns the names of the exported package-level variables
// Err* declared in the non-test files of the package in dir.
// storeOnly are the errors of a Store contract that their package
// translates before any of its callers sees them, so they stay
// internal_error at the edge.
var storeOnly = map[string]bool{
	"certs.ErrPlaceTaken": true, // certs answers ErrActiveCertificateExists or ErrRenewalInProgress
}

func exportedErrors(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") {
						out = append(out, dir+"."+n.Name)
					}
				}
			}
		}
	}
	return out
}

// TestTableMapsEveryDomainError: every exported error of auth, certs,
// identity and banking has a code, a status below 500 and a message, but
// the few that only the operator's command line meets.
func TestTableMapsEveryDomainError(t *testing.T) {
	n := 0
	for _, dir := range []string{"auth", "certs", "identity", "banking"} {
		for _, name := range exportedErrors(t, dir) {
			n++
			err, ok := domainErrors[name]
			if !ok {
				t.Errorf("%s is not in this test's list: add it here and to the table", name)
				continue
			}
			rf := RefusalOf(err)
			if operatorOnly[name] || storeOnly[name] {
				if rf != refuseInternal {
					t.Errorf("%s is operator or store only but maps to %+v: take it off operatorOnly or storeOnly", name, rf)
				}
				continue
			}
			if rf.Status >= 500 && !errors.Is(err, banking.ErrOutsideServiceHours) && !errors.Is(err, identity.ErrBusy) || rf.Code == "" || rf.Code == "internal_error" {
				t.Errorf("%s maps to %+v: no entry in the table", name, rf)
			}
			if m := Message(rf.Key); m == rf.Key {
				t.Errorf("%s: no catalogue message %q", name, rf.Key)
			}
		}
	}
	if n != len(domainErrors) {
		t.Errorf("found %d exported errors, the list has %d: is a package's list out of date?", n, len(domainErrors))
	}
}

// someCertificate returns a parsed certificate; its content does not matter here.
func someCertificate() *x509.Certificate {
	return &x509.Certificate{Raw: []byte("certificate"), SubjectKeyId: []byte{1, 2, 3}}
}

// TestPeerCertificateOnlyFromTheCertificatePortalsHandshake: the client
// certificate is the one of the TLS connection of the certificate portal;
// on the portal, without TLS, or in a header, there is none.
func TestPeerCertificateOnlyFromTheCertificatePortalsHandshake(t *testing.T) {
	peer := someCertificate()
	withTLS := func(certs ...*x509.Certificate) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "https://bank.example/api/v1/me", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: certs}
		return r
	}
	forged := httptest.NewRequest(http.MethodGet, "https://bank.example/api/v1/me", nil)
	forged.TLS = &tls.ConnectionState{}
	forged.Header.Set("Client-Cert", ":"+base64.StdEncoding.EncodeToString(peer.Raw)+":")
	forged.Header.Set("X-SSL-Client-Cert", "-----BEGIN CERTIFICATE-----")
	plain := httptest.NewRequest(http.MethodGet, "http://bank.example/api/v1/me", nil)
	plain.Header.Set("Client-Cert", ":"+base64.StdEncoding.EncodeToString(peer.Raw)+":")
	for _, tc := range []struct {
		name string
		l    Listener
		r    *http.Request
		want *x509.Certificate
	}{
		{"certificate portal, handshake certificate", CertPortal, withTLS(peer), peer},
		{"certificate portal, no certificate", CertPortal, withTLS(), nil},
		{"certificate portal, certificate only in headers", CertPortal, forged, nil},
		{"certificate portal, no TLS", CertPortal, plain, nil},
		{"portal, handshake certificate", Portal, withTLS(peer), nil},
		{"portal, certificate only in headers", Portal, forged, nil},
		{"console, handshake certificate", Console, withTLS(peer), peer},
		{"console, certificate only in headers", Console, forged, nil},
		{"console, no TLS", Console, plain, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.PeerCertificate(tc.r); got != tc.want {
				t.Errorf("PeerCertificate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSessionCookiesDifferPerListener: cookies do not separate ports, so
// each listener has its own name; both are host-only and out of scripts'
// reach.
func TestSessionCookiesDifferPerListener(t *testing.T) {
	names := map[string]Listener{}
	for _, l := range []Listener{Portal, CertPortal, Console} {
		if other, ok := names[l.SessionCookie()]; ok {
			t.Fatalf("listeners %d and %d both use the cookie %q", other, l, l.SessionCookie())
		}
		names[l.SessionCookie()] = l
	}
	if Console.SessionCookie() != "__Host-kinko-console-session" {
		t.Errorf("the console's cookie is %q", Console.SessionCookie())
	}
	for _, l := range []Listener{Portal, CertPortal, Console} {
		w := httptest.NewRecorder()
		l.SetSession(w, "token")
		l.ClearSession(w)
		cs := w.Result().Cookies()
		if len(cs) != 2 {
			t.Fatalf("%d cookies set, want 2", len(cs))
		}
		for _, c := range cs {
			if c.Name != l.SessionCookie() || !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly ||
				c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie %+v", c)
			}
		}
		if cs[0].Value != "token" || cs[1].MaxAge >= 0 {
			t.Errorf("set %+v, cleared %+v", cs[0], cs[1])
		}
	}
}

// fakeAuth answers Authenticate with p or err, and records what it got.
type fakeAuth struct {
	p     auth.Principal
	err   error
	calls int
	token string
	peer  *x509.Certificate
}

func (f *fakeAuth) Authenticate(_ context.Context, token string, peer *x509.Certificate) (auth.Principal, error) {
	f.calls++
	f.token, f.peer = token, peer
	return f.p, f.err
}

// serve runs a request with cookie (when not empty) and peer through
// Require, and returns the principal the handler saw (nil if it did not
// run) and the error refused (nil if none).
func serve(s Sessions, allow Allow, cookie string, peer *x509.Certificate) (*auth.Principal, error) {
	r := httptest.NewRequest(http.MethodGet, "https://bank.example/home", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: s.Listener.SessionCookie(), Value: cookie})
	}
	if peer != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{peer}}
	}
	var seen *auth.Principal
	var refused error
	h := s.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		if ok {
			seen = &p
		}
	}), allow, func(w http.ResponseWriter, r *http.Request, err error) { refused = err })
	h.ServeHTTP(httptest.NewRecorder(), r)
	return seen, refused
}

// TestRequirePutsThePrincipalInTheContext: the handler behind a session
// finds the principal that auth returned for the cookie and the
// connection's certificate.
func TestRequirePutsThePrincipalInTheContext(t *testing.T) {
	peer := someCertificate()
	fa := &fakeAuth{p: auth.Principal{User: identity.User{ID: 7, LoginID: "taro"}}}
	seen, refused := serve(Sessions{Listener: CertPortal, Auth: fa}, Ordinary, "tok", peer)
	if refused != nil || seen == nil {
		t.Fatalf("refused %v, handler saw %v", refused, seen)
	}
	if seen.User.LoginID != "taro" {
		t.Errorf("principal %+v", seen)
	}
	if fa.token != "tok" || fa.peer != peer {
		t.Errorf("auth got token %q and peer %v", fa.token, fa.peer)
	}
	if _, ok := PrincipalFrom(context.Background()); ok {
		t.Error("a context without a principal has one")
	}
}

// TestRequireRefusesWithoutASession: no cookie is refused without asking
// auth, as an auth.ErrNoSession the pages can tell from an ended session;
// what auth refuses is refused with auth's error; the handler never runs.
func TestRequireRefusesWithoutASession(t *testing.T) {
	fa := &fakeAuth{}
	seen, refused := serve(Sessions{Listener: Portal, Auth: fa}, Ordinary, "", nil)
	if seen != nil || !errors.Is(refused, ErrNoSessionCookie) || !errors.Is(refused, auth.ErrNoSession) || fa.calls != 0 {
		t.Errorf("no cookie: handler saw %v, refused %v, auth called %d times", seen, refused, fa.calls)
	}
	for _, want := range []error{auth.ErrNoSession, auth.ErrCertificateMismatch, auth.ErrCertificateRevoked, errors.New("store down")} {
		fa := &fakeAuth{err: want}
		seen, refused := serve(Sessions{Listener: CertPortal, Auth: fa}, DuringPasswordChange, "tok", someCertificate())
		if seen != nil || refused != want {
			t.Errorf("auth says %v: handler saw %v, refused %v", want, seen, refused)
		}
		if errors.Is(refused, ErrNoSessionCookie) {
			t.Errorf("auth says %v: refused as if there were no cookie", want)
		}
	}
}

// TestRequireKeepsPasswordChangeToItsPages: a user who must change the
// passwords set by someone else reaches only DuringPasswordChange handlers.
func TestRequireKeepsPasswordChangeToItsPages(t *testing.T) {
	fa := &fakeAuth{p: auth.Principal{User: identity.User{ID: 7, PasswordChangeRequired: true}}}
	s := Sessions{Listener: Portal, Auth: fa}
	if seen, refused := serve(s, Ordinary, "tok", nil); seen != nil || !errors.Is(refused, ErrPasswordChangeRequired) {
		t.Errorf("ordinary handler: saw %v, refused %v", seen, refused)
	}
	if seen, refused := serve(s, DuringPasswordChange, "tok", nil); seen == nil || refused != nil {
		t.Errorf("password change handler: saw %v, refused %v", seen, refused)
	}
}

// TestHandleAnswersTheReturnedError: a handler's error goes to the
// refusal, and a handler without one answers itself.
func TestHandleAnswersTheReturnedError(t *testing.T) {
	var refused error
	refuse := func(w http.ResponseWriter, r *http.Request, err error) {
		refused = err
		w.WriteHeader(RefusalOf(err).Status)
	}
	w := httptest.NewRecorder()
	Handle(func(http.ResponseWriter, *http.Request) error { return banking.ErrNotFound }, refuse)(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if refused != banking.ErrNotFound || w.Code != http.StatusNotFound {
		t.Errorf("refused %v with %d", refused, w.Code)
	}
	refused = nil
	w = httptest.NewRecorder()
	Handle(func(w http.ResponseWriter, _ *http.Request) error { w.WriteHeader(http.StatusNoContent); return nil }, refuse)(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if refused != nil || w.Code != http.StatusNoContent {
		t.Errorf("refused %v with %d", refused, w.Code)
	}
}

// TestWriteJSONErrorSaysCodeAndMessage: the answer is the table's status,
// code and catalogue message, never the error's text.
func TestWriteJSONErrorSaysCodeAndMessage(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/accounts/1", nil)
	WriteJSONError(discard, w, r, errors.Join(errors.New("store: db 10.0.3.7"), banking.ErrNotFound))
	body := w.Body.String()
	if w.Code != 404 || !strings.Contains(body, `"error":"not_found"`) || strings.Contains(body, "10.0.3.7") {
		t.Errorf("%d %s", w.Code, body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestRequireUsesThePrincipalAlreadyFound: a principal that the
// certificate portal's check already put in the context is not looked up
// again.
func TestRequireUsesThePrincipalAlreadyFound(t *testing.T) {
	fa := &fakeAuth{err: errors.New("must not be called")}
	s := Sessions{Listener: CertPortal, Auth: fa}
	r := httptest.NewRequest(http.MethodGet, "https://bank.example/api/v1/me", nil)
	r = r.WithContext(WithPrincipal(r.Context(), auth.Principal{User: identity.User{LoginID: "hanako"}}))
	var seen string
	s.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		seen = p.User.LoginID
	}), Ordinary, func(w http.ResponseWriter, r *http.Request, err error) { t.Errorf("refused: %v", err) }).ServeHTTP(httptest.NewRecorder(), r)
	if seen != "hanako" || fa.calls != 0 {
		t.Errorf("handler saw %q, auth called %d times", seen, fa.calls)
	}
}

func TestClientAddressIsTheConnectionsPeer(t *testing.T) {
	for _, c := range []struct{ remote, forwarded, want string }{
		{"192.0.2.7:51234", "203.0.113.9", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:443", "", "192.0.2.7"},
		{"[2001:db8::1%eth0]:443", "", "2001:db8::1"},
		{"nonsense", "", "invalid IP"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.forwarded != "" {
			r.Header.Set("X-Forwarded-For", c.forwarded)
		}
		if got := ClientAddress(r).String(); got != c.want {
			t.Errorf("ClientAddress(%q) = %s, want %s", c.remote, got, c.want)
		}
	}
}
