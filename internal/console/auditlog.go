package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
)

// auditLimit is the most events the page shows; the CSV has up to
// auditCSVLimit.
const (
	auditLimit    = 500
	auditCSVLimit = 100000
)

// parseJST reads a time of the filters in Japan's time: a day
// (2026-04-01, from its start) or a day and time (2026-04-01 09:30 or
// 2026-04-01T09:30). Empty: the zero time.
func parseJST(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, calendar.JST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errDate
}

// auditQuery reads the filters of the audit log: organization code, type,
// operator (by name), since and until (in Japan's time; until a day means
// to its end).
func auditQuery(f url.Values, limit int) (audit.Query, error) {
	q := audit.Query{OrganizationCode: field(f, "organization"), Type: audit.Type(field(f, "type")), Limit: limit}
	if op := field(f, "operator"); op != "" {
		q.Actor = audit.OperatorActor(op)
	}
	var err error
	if q.Since, err = parseJST(f.Get("since")); err != nil {
		return q, err
	}
	until := strings.TrimSpace(f.Get("until"))
	if q.Until, err = parseJST(until); err != nil {
		return q, err
	}
	if len(until) == len("2006-01-02") {
		q.Until = q.Until.AddDate(0, 0, 1)
	}
	return q, nil
}

// auditLog is GET /audit: the audit log, filtered, newest first, times in
// Japan's time, organizations by code.
func (h *handler) auditLog(w http.ResponseWriter, r *http.Request) {
	f := r.URL.Query()
	v := &view{Form: f}
	q, err := auditQuery(f, auditLimit)
	if err != nil {
		status, key := refusal(err)
		v.Errors = []string{key}
		h.render(w, r, status, "audit", v)
		return
	}
	entries, err := h.c.Store.AuditEntries(r.Context(), q)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	csvURL := pathAudit + ".csv"
	if r.URL.RawQuery != "" {
		csvURL += "?" + r.URL.RawQuery
	}
	v.Data = struct {
		Entries []audit.Entry
		CSV     string
		Limit   int
	}{entries, csvURL, auditLimit}
	h.render(w, r, http.StatusOK, "audit", v)
}

// auditCSV is GET /audit.csv: the filtered audit log as CSV (UTF-8),
// oldest first, times in Japan's time.
func (h *handler) auditCSV(w http.ResponseWriter, r *http.Request) {
	q, err := auditQuery(r.URL.Query(), auditCSVLimit)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	entries, err := h.c.Store.AuditEntries(r.Context(), q)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time_jst", "type", "actor", "organization", "login_id", "serial", "request_ref", "reason", "detail"})
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		_ = cw.Write([]string{jst(e.At), string(e.Type), e.Actor, e.OrganizationCode, e.LoginID, e.Serial, e.RequestRef, e.Reason, csvSafe(e.Detail)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
