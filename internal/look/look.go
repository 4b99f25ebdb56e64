// Package look is the bank's look that its pages share: the stylesheet of
// the customer portal (package web) and of the operator console (package
// console), each of which adds its own after it. It holds no code of the
// pages, only what they share.
package look

import (
	_ "embed"
	"net/http"
)

// BaseCSSName is the base stylesheet's name under /static/.
const BaseCSSName = "base.css"

//go:embed base.css
var baseCSS []byte

// ServeBaseCSS writes the base stylesheet, cacheable for an hour.
func ServeBaseCSS(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(baseCSS)
}
