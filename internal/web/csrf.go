package web

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	"kinko/internal/httpedge"
)

// The form token: a random value in a __Host- cookie (so no other host or
// path can set it) and in a hidden field of every form, which must match.
// A page of another site can neither read the cookie nor guess the value.
// http.CrossOriginProtection (Handler) refuses cross-site posts first.
const (
	csrfCookie = "__Host-kinko-csrf"
	csrfField  = "csrf_token"
	tokenBytes = 32
)

// maxForm is the largest form body accepted.
const maxForm = 16 << 10

// csrfToken returns the request's form token, setting a new one when it has
// none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validToken(c.Value) {
		return c.Value
	}
	var raw [tokenBytes]byte
	if _, err := io.ReadFull(h.c.Rand, raw[:]); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: form token", "err", err)
		return ""
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// A second render in the same response must see the same token.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == tokenBytes
}

// form wraps the handler of a form's POST: it parses the form (at most
// maxForm bytes) and refuses it unless its token matches the cookie. A
// refused form goes to refuse, which shows the form again with what the
// user typed, or, when refuse is nil, to an error page.
func (h *Handler) form(next http.HandlerFunc, refuse func(w http.ResponseWriter, r *http.Request, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if refuse == nil {
			refuse = h.renderError
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				refuse(w, r, fmt.Errorf("web: form: %w", err)) // 413 request_too_large
				return
			}
			refuse(w, r, httpedge.ErrBadForm)
			return
		}
		c, err := r.Cookie(csrfCookie)
		sent := r.PostForm.Get(csrfField)
		if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) != 1 {
			refuse(w, r, httpedge.ErrFormToken)
			return
		}
		next(w, r)
	}
}
