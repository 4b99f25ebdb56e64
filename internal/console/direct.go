package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/outbox"
)

// accountForm is GET /accounts/new: the opening of an account, which
// needs no second person (it moves no money).
func (h *handler) accountForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "account_new", &view{Form: r.URL.Query()})
}

func (h *handler) renderAccountForm(w http.ResponseWriter, r *http.Request, err error) {
	status, v := formView(r, err, nil)
	h.render(w, r, status, "account_new", v)
}

// openAccount is POST /accounts/new.
func (h *handler) openAccount(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	code, typ, branch, number, holder, ref := field(f, "organization_code"), field(f, "account_type"), field(f, "branch_code"),
		field(f, "account_number"), field(f, "holder_name"), field(f, "ref")
	if err := required(code, typ, branch, number, holder, ref); err != nil {
		return err
	}
	st, _ := staffFrom(r)
	if _, err := h.c.Banking.OpenAccount(r.Context(), code, banking.AccountType(typ), branch, number, holder, st.Name, ref); err != nil {
		return err
	}
	http.Redirect(w, r, pathOrgs+url.PathEscape(code)+"?opened=1", http.StatusSeeOther)
	return nil
}

// interbankFile is a file of the interbank directory.
type interbankFileView struct {
	Name     string
	Size     int64
	Modified time.Time
}

// interbankData is the data of the interbank page.
type interbankData struct {
	Enabled bool
	Today   string
	Files   []interbankFileView
	Written []banking.InterbankFile
}

func (h *handler) interbankData() (interbankData, error) {
	d := interbankData{Enabled: h.c.InterbankDir != "", Today: h.c.Banking.Today().String()}
	if !d.Enabled {
		return d, nil
	}
	entries, err := os.ReadDir(h.c.InterbankDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d, fmt.Errorf("console: interbank directory: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		d.Files = append(d.Files, interbankFileView{Name: e.Name(), Size: info.Size(), Modified: info.ModTime()})
	}
	sort.Slice(d.Files, func(i, j int) bool { return d.Files[i].Name > d.Files[j].Name })
	return d, nil
}

// interbank is GET /interbank: the export of the transfers to other banks
// and the files written, to download.
func (h *handler) interbank(w http.ResponseWriter, r *http.Request) {
	d, err := h.interbankData()
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "interbank", &view{Data: d, Form: url.Values{"date": {d.Today}}})
}

func (h *handler) renderInterbank(w http.ResponseWriter, r *http.Request, err error) {
	d, derr := h.interbankData()
	if derr != nil {
		h.renderError(w, r, derr)
		return
	}
	status, v := formView(r, err, d)
	h.render(w, r, status, "interbank", v)
}

// interbankDir writes the export's files into the console's directory,
// never over another file.
type interbankDir struct {
	dir string
	at  time.Time
}

func (d interbankDir) Place(files []banking.InterbankFile) error {
	for i := range files {
		a := files[i].Account
		name := fmt.Sprintf("interbank-%s-%s-%s-%s.txt", d.at.In(calendar.JST).Format("20060102-150405"), a.BranchCode, a.Type, a.Number)
		if files[i].Kind.Payroll() {
			// A payroll file of the same account beside its 総合振込 file.
			name = strings.TrimSuffix(name, ".txt") + "-" + string(files[i].Kind) + ".txt"
		}
		if _, err := os.Lstat(filepath.Join(d.dir, name)); err == nil {
			return fmt.Errorf("console: interbank file %s exists already", name)
		}
		files[i].Name = name
	}
	return nil
}

func (d interbankDir) Write(f banking.InterbankFile) error {
	file, err := os.OpenFile(filepath.Join(d.dir, f.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := file.Write(f.Data); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

func (d interbankDir) Remove(f banking.InterbankFile) error {
	return os.Remove(filepath.Join(d.dir, f.Name))
}

// exportInterbank is POST /interbank: the executed transfers to other
// banks dated on or before the date, not sent yet, are written as 総合振込
// files and recorded as sent.
func (h *handler) exportInterbank(w http.ResponseWriter, r *http.Request) error {
	if h.c.InterbankDir == "" {
		return errNoExport
	}
	day, err := calendar.ParseDate(field(r.PostForm, "date"))
	if err != nil {
		return errDate
	}
	if err := os.MkdirAll(h.c.InterbankDir, 0o700); err != nil {
		return fmt.Errorf("console: interbank directory: %w", err)
	}
	st, _ := staffFrom(r)
	files, err := h.c.Banking.ExportInterbank(r.Context(), banking.InterbankExport{Through: day, Operator: st.Name}, interbankDir{h.c.InterbankDir, h.c.Now()})
	if err != nil {
		return err
	}
	d, err := h.interbankData()
	if err != nil {
		return err
	}
	d.Written = files
	v := &view{Data: d, Form: r.PostForm, Notice: "console.interbank.none"}
	if len(files) > 0 {
		v.Notice = "console.interbank.written"
	}
	h.render(w, r, http.StatusOK, "interbank", v)
	return nil
}

// interbankFile is GET /interbank/files/{name}: a file of the export, to
// download.
func (h *handler) interbankFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if h.c.InterbankDir == "" || name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		h.notFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(h.c.InterbankDir, name))
	if err != nil {
		h.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

// outboxStates are the states the outbox page filters by, "" for all.
var outboxStates = []outbox.State{outbox.StateFailed, outbox.StateRetrying, outbox.StateWaiting, outbox.StateSent}

func (h *handler) outboxView(r *http.Request, err error) (int, *view, error) {
	st := outbox.State(r.URL.Query().Get("state"))
	if st != "" && !containsState(st) {
		st = ""
	}
	mails, lerr := h.c.Store.OutboxEntries(r.Context(), st, 200)
	if lerr != nil {
		return 0, nil, lerr
	}
	status, v := formView(r, err, struct {
		State  outbox.State
		States []outbox.State
		Mails  []outbox.Entry
	}{st, outboxStates, mails})
	return status, v, nil
}

func containsState(s outbox.State) bool {
	for _, x := range outboxStates {
		if x == s {
			return true
		}
	}
	return false
}

// outbox is GET /outbox?state=: the mails of the outbox (failed,
// retrying, waiting, sent), newest first.
func (h *handler) outbox(w http.ResponseWriter, r *http.Request) {
	status, v, err := h.outboxView(r, nil)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if r.URL.Query().Get("resent") == "1" {
		v.Notice = "console.outbox.resent"
	}
	h.render(w, r, status, "outbox", v)
}

func (h *handler) renderOutbox(w http.ResponseWriter, r *http.Request, err error) {
	status, v, lerr := h.outboxView(r, err)
	if lerr != nil {
		h.renderError(w, r, lerr)
		return
	}
	h.render(w, r, status, "outbox", v)
}

// resend is POST /outbox/{id}/resend: a failed mail is made due again.
func (h *handler) resend(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	st, _ := staffFrom(r)
	now := h.c.Now()
	ev := audit.Event{At: now, Type: audit.MailResent, Actor: audit.OperatorActor(st.Name), Detail: fmt.Sprintf("outbox %d", id)}
	if err := h.c.Store.ResendMail(r.Context(), id, now, ev); err != nil {
		return err
	}
	http.Redirect(w, r, pathOutbox+"?resent=1", http.StatusSeeOther)
	return nil
}
