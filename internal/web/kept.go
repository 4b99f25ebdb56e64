package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kinko/internal/httpedge"
)

// Post/Redirect/Get. A form answered with an error is not answered with
// the page itself: the page (its errors and what was typed, never a
// password nor the form token) is kept in the database for one display,
// and the browser is sent to the form's page with 303, whose GET shows it
// once. Back and reload then never show the browser's resubmission page,
// and any server of the bank can show it. The kept page is keyed by the
// hash of a short-lived cookie of the browser and the path that shows it,
// and bound to the logged-in user, if any.

// FormStore keeps the pages of refused forms (store.DB implements it).
type FormStore interface {
	// SaveForm keeps page, shown with status, for the next display of
	// path to the browser whose cookie hashes to keyHash, until expires,
	// replacing what was kept for them; kept pages that expired before now
	// are deleted.
	SaveForm(ctx context.Context, keyHash, path string, status int, page []byte, now, expires time.Time) error
	// TakeForm returns the page kept for path and keyHash, and its
	// status, and deletes it; a nil page when there is none or it expired
	// before now.
	TakeForm(ctx context.Context, keyHash, path string, now time.Time) (int, []byte, error)
}

// Bounds of a kept page.
const (
	keptFor     = 10 * time.Minute
	maxKeptPage = 64 << 10
	// pathRefused shows a refusal that no form's page shows (the error
	// page).
	pathRefused = "/refused"
)

// keptPage is what is kept of a refused form's page. Owner is the login
// ID of the user whose page it was ("" before login): another user's
// session never sees it.
type keptPage struct {
	Owner  string
	Name   string // the template
	Page   string
	Errors []message
	Notice string
	Data   any
	// RetryAfter is the refusal's Retry-After header, if any.
	RetryAfter string
	// Values are the typed values of a form whose language was switched
	// (passwords and the form token removed).
	Values url.Values
}

// keptCookie is the name of the cookie that keys the kept pages, one per
// listener (the portals share a host, so their cookies).
func (h *Handler) keptCookie() string {
	if h.c.Listener == httpedge.CertPortal {
		return "__Host-kinko-cert-form"
	}
	return "__Host-kinko-form"
}

// keptKey returns the hash of the browser's kept-page cookie, setting a
// new cookie when it has none (create) ; "" when there is none.
func (h *Handler) keptKey(w http.ResponseWriter, r *http.Request, create bool) string {
	if c, err := r.Cookie(h.keptCookie()); err == nil && validToken(c.Value) {
		sum := sha256.Sum256([]byte(c.Value))
		return hex.EncodeToString(sum[:])
	}
	if !create {
		return ""
	}
	var raw [tokenBytes]byte
	if _, err := io.ReadFull(h.c.Rand, raw[:]); err != nil {
		return ""
	}
	v := base64.RawURLEncoding.EncodeToString(raw[:])
	http.SetCookie(w, &http.Cookie{Name: h.keptCookie(), Value: v, Path: "/", MaxAge: int(keptFor / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// refusedTargets are the pages that show the refusals of forms posted
// elsewhere, by the pattern of the form's route; any other form is shown
// again at its own path.
var refusedTargets = map[string]func(r *http.Request) string{
	"POST " + pathUsers + "/{login_id}/unlock":   func(*http.Request) string { return pathUsers },
	"POST " + pathIssue + "/withdraw":            func(*http.Request) string { return pathIssue },
	"POST " + pathApprovals + "/{id}/{decision}": func(r *http.Request) string { return pathApprovals + "/" + r.PathValue("id") },
	"POST " + pathApprovals + "/batches/{id}/{decision}": func(r *http.Request) string {
		return pathApprovals + "/batches/" + r.PathValue("id")
	},
	"POST " + pathTransfers + "/{id}/cancel":   func(r *http.Request) string { return pathTransfers + "/" + r.PathValue("id") },
	"POST /batches/{id}/cancel":                func(r *http.Request) string { return "/batches/" + r.PathValue("id") },
	"POST " + pathPayees + "/{id}/delete":      func(*http.Request) string { return pathPayees },
	"POST " + pathBatchDraft + "/{id}/confirm": func(r *http.Request) string { return pathBatchDraft + "/" + r.PathValue("id") },
	"POST " + pathBatchDraft + "/{id}/discard": func(r *http.Request) string { return pathBatchDraft + "/" + r.PathValue("id") },
}

// refusedTarget returns the path whose GET shows the refused form of r,
// and whether there is one.
func (h *Handler) refusedTarget(r *http.Request, page string) (string, bool) {
	target := r.URL.Path
	if page == "error" {
		target = pathRefused
	} else if f, ok := refusedTargets[r.Pattern]; ok {
		target = f(r)
	}
	if localPath(target) != target {
		return "", false
	}
	_, pattern := h.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: target}, Host: r.Host})
	return target, pattern != "" && pattern != "/"
}

// keepRefused keeps the page of a refused form and sends the browser to
// the page that shows it once. It reports whether it did: a form without
// a page to show it, a store that fails or a page too large to keep is
// answered with the page itself.
func (h *Handler) keepRefused(w http.ResponseWriter, r *http.Request, status int, page string, v *view) bool {
	if h.c.Forms == nil {
		return false
	}
	target, ok := h.refusedTarget(r, page)
	if !ok {
		return false
	}
	k := keptPage{Name: page, Page: v.Page, Errors: v.Errors, Notice: v.Notice, Data: v.Data, RetryAfter: w.Header().Get("Retry-After")}
	if v.Member != nil && page != "error" {
		k.Owner = v.Member.LoginID
	}
	return h.keep(w, r, target, status, k)
}

// keep stores k for the next GET of target and redirects there.
func (h *Handler) keep(w http.ResponseWriter, r *http.Request, target string, status int, k keptPage) bool {
	if k.Data != nil {
		gob.Register(k.Data)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&k); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: keep a refused form", "page", k.Name, "err", err)
		return false
	}
	if buf.Len() > maxKeptPage {
		h.c.Logger.WarnContext(r.Context(), "web: refused form too large to keep", "page", k.Name, "bytes", buf.Len())
		return false
	}
	key := h.keptKey(w, r, true)
	if key == "" {
		return false
	}
	now := h.c.Now()
	if err := h.c.Forms.SaveForm(r.Context(), key, target, status, buf.Bytes(), now, now.Add(keptFor)); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: keep a refused form", "page", k.Name, "err", err)
		return false
	}
	w.Header().Del("Retry-After")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return true
}

// keptSlot holds what a request took of the kept pages, so that the
// handler (restoreTyped) and the rendering (showKept) of one GET share
// the one read.
type keptSlot struct {
	done   bool
	status int
	k      keptPage
	ok     bool
}

type keptSlotKey struct{}

// withKeptSlot gives a request its slot.
func withKeptSlot(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keptSlotKey{}, &keptSlot{}))
}

// takeKept returns the page kept for this GET, if any, and forgets it.
func (h *Handler) takeKept(r *http.Request) (int, keptPage, bool) {
	slot, _ := r.Context().Value(keptSlotKey{}).(*keptSlot)
	if slot != nil && slot.done {
		return slot.status, slot.k, slot.ok
	}
	status, k, ok := h.readKept(r)
	if slot != nil {
		*slot = keptSlot{done: true, status: status, k: k, ok: ok}
	}
	return status, k, ok
}

// readKept reads and deletes the page kept for this GET, if any.
func (h *Handler) readKept(r *http.Request) (int, keptPage, bool) {
	if h.c.Forms == nil || r.Method != http.MethodGet {
		return 0, keptPage{}, false
	}
	key := h.keptKey(nil, r, false)
	if key == "" {
		return 0, keptPage{}, false
	}
	status, b, err := h.c.Forms.TakeForm(r.Context(), key, r.URL.Path, h.c.Now())
	if err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: kept form", "err", err)
		return 0, keptPage{}, false
	}
	if b == nil {
		return 0, keptPage{}, false
	}
	var k keptPage
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&k); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: kept form", "err", err)
		return 0, keptPage{}, false
	}
	return status, k, true
}

// showKept makes v the kept page of this GET, if there is one for the
// user of v: it returns the status and template to render.
func (h *Handler) showKept(w http.ResponseWriter, r *http.Request, status int, page string, v *view) (int, string) {
	kst, k, ok := h.takeKept(r)
	if !ok || k.Values != nil || k.Name == "" {
		return status, page
	}
	owner := ""
	if v.Member != nil {
		owner = v.Member.LoginID
	}
	if k.Name != "error" && !strings.EqualFold(k.Owner, owner) {
		return status, page
	}
	v.Page, v.Errors, v.Notice, v.Data = k.Page, k.Errors, k.Notice, k.Data
	if k.RetryAfter != "" {
		w.Header().Set("Retry-After", k.RetryAfter)
	}
	if k.Name == "error" {
		v.Member = nil
	}
	return kst, k.Name
}

// restoreTyped puts the values typed in the form of this GET's page
// before its language was switched (switchLanguageKeeping) into
// r.PostForm, for the page to show them as a refused form does. It
// reports whether there were any.
func (h *Handler) restoreTyped(r *http.Request) bool {
	_, k, ok := h.takeKept(r)
	if !ok || k.Values == nil {
		return false
	}
	r.PostForm, r.Form = k.Values, k.Values
	return true
}

// typedTransferForm is the transfer form as typed before the language
// was switched (restoreTyped), with key as its idempotency key when the
// form had none.
func typedTransferForm(r *http.Request, key string) transferForm {
	f := transferFormOf(r)
	if f.IdempotencyKey == "" {
		f.IdempotencyKey = key
	}
	return f
}

// typedValues are the values of a form worth keeping: never a password
// (any field whose name says so, and the fields of the password change)
// nor the form token.
func typedValues(f url.Values) url.Values {
	out := url.Values{}
	for name, vs := range f {
		switch {
		case name == csrfField, name == langNextField, strings.Contains(name, "password"),
			strings.HasSuffix(name, "current"), strings.HasSuffix(name, "new"), strings.HasSuffix(name, "again"):
			continue
		}
		out[name] = vs
	}
	return out
}

// refused is GET /refused: the refusal of a form that no form's page
// shows (the error page), once; without one, the top page.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request) {
	status, k, ok := h.takeKept(r)
	if !ok || k.Name != "error" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if k.RetryAfter != "" {
		w.Header().Set("Retry-After", k.RetryAfter)
	}
	h.renderPage(w, r, status, k.Name, &view{Errors: k.Errors, Data: k.Data})
}
