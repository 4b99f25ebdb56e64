package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"kinko/internal/look"
)

//go:embed static/*.css static/js/*.js static/screenshots/*.png
var staticFiles embed.FS

// static serves the stylesheet, images and scripts under /static/, from the
// binary: no directory listings, cacheable for an hour.
func (h *Handler) static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if name == "" || strings.HasSuffix(name, "/") {
			h.notFound(w, r)
			return
		}
		if name == look.BaseCSSName {
			look.ServeBaseCSS(w)
			return
		}
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() {
			h.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
