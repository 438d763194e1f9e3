package server

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

//go:embed web
var webFS embed.FS

// pageSize is how many workflows the table shows per page.
const pageSize = 100

type pages struct {
	tmpl map[string]*template.Template
}

func newPages() (*pages, error) {
	funcs := template.FuncMap{
		"ago":      status.Ago,
		"when":     when,
		"dur":      status.Duration,
		"bytes":    status.HumanBytes,
		"statusOf": statusOf,
		"secs":     func(f float64) string { return status.Duration(time.Duration(f * float64(time.Second))) },
		"runDur":   runDuration,
	}
	p := &pages{tmpl: map[string]*template.Template{}}
	for _, name := range []string{"index", "workflow", "run", "login", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		p.tmpl[name] = t
	}
	return p, nil
}

// page is what every template gets.
type page struct {
	Title string
	Role  string
	Admin bool
	River bool
	Now   time.Time
	Data  any
}

type loginPage struct {
	Next, Error string
}

type errorPage struct {
	Status  int
	Message string
}

// render executes a template into a buffer (so an error is a clean 500),
// redacts it and writes it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	ro := roleFrom(r.Context())
	p := page{Title: name, Role: ro.String(), Admin: ro >= roleAdmin, River: s.cfg.River != nil, Now: s.cfg.Now().UTC(), Data: data}
	var buf bytes.Buffer
	if err := s.pages.tmpl[name].Execute(&buf, p); err != nil {
		s.log.Error("console: render", "page", name, "err", secret.RedactString(err.Error()))
		http.Error(w, "internal error (see the wharf log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(secret.RedactString(buf.String()))) //nolint:errcheck
}

func (s *Server) mountPages(mux *http.ServeMux, p *pages) {
	s.pages = p
	static, _ := fs.Sub(webFS, "web/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.Handle("GET /{$}", s.require(roleRead, http.HandlerFunc(s.indexPage)))
	mux.Handle("GET /workflows/{name}", s.require(roleRead, http.HandlerFunc(s.workflowPage)))
	mux.Handle("GET /runs/{id}", s.require(roleRead, http.HandlerFunc(s.runPage)))
	mux.Handle("POST /workflows/{name}/trigger", s.require(roleAdmin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := s.trigger(r.Context(), r.PathValue("name"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/runs/"+url.PathEscape(q.Run.ID), http.StatusSeeOther)
	})))
	mux.Handle("POST /runs/{id}/cancel", s.require(roleAdmin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, err := s.cancel(r.Context(), r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
	})))
}

// indexData is the workflow table: one page of the filtered, sorted rows.
type indexData struct {
	Rows                 []status.Workflow
	Q, Status, Sort, Dir string
	Page, Pages, Total   int
	Shown, All           int
	Counts               map[string]int
	Prev, Next           string
	SortLinks            map[string]string
}

var sortKeys = []string{"workflow", "status", "last_run", "rows", "freshness", "next_run"}

func (s *Server) indexPage(w http.ResponseWriter, r *http.Request) {
	ws, err := status.Workflows(r.Context(), s.cfg.Store, s.cfg.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := indexData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Sort: q.Get("sort"), Dir: q.Get("dir"),
		All: len(ws), Counts: map[string]int{}}
	if !slices.Contains(sortKeys, d.Sort) {
		d.Sort = "workflow"
	}
	if d.Dir != "desc" {
		d.Dir = "asc"
	}
	needle := strings.ToLower(d.Q)
	var rows []status.Workflow
	for _, wf := range ws {
		st := statusOf(wf)
		d.Counts[st]++
		if needle != "" && !strings.Contains(strings.ToLower(wf.Workflow), needle) && !strings.Contains(strings.ToLower(wf.Table), needle) {
			continue
		}
		if d.Status != "" && st != d.Status {
			continue
		}
		rows = append(rows, wf)
	}
	slices.SortStableFunc(rows, func(a, b status.Workflow) int {
		c := compareBy(d.Sort, a, b)
		if c == 0 {
			c = strings.Compare(a.Workflow, b.Workflow)
		}
		if d.Dir == "desc" {
			return -c
		}
		return c
	})
	d.Total = len(rows)
	d.Pages = max(1, (d.Total+pageSize-1)/pageSize)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	lo := (d.Page - 1) * pageSize
	d.Rows = rows[lo:min(lo+pageSize, d.Total)]
	d.Shown = len(d.Rows)
	link := func(mod func(url.Values)) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": d.Q, "status": d.Status, "sort": d.Sort, "dir": d.Dir} {
			if val != "" {
				v.Set(k, val)
			}
		}
		mod(v)
		return "/?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(func(v url.Values) { v.Set("page", strconv.Itoa(d.Page-1)) })
	}
	if d.Page < d.Pages {
		d.Next = link(func(v url.Values) { v.Set("page", strconv.Itoa(d.Page+1)) })
	}
	d.SortLinks = map[string]string{}
	for _, k := range sortKeys {
		dir := "asc"
		if k == d.Sort && d.Dir == "asc" {
			dir = "desc"
		}
		d.SortLinks[k] = link(func(v url.Values) { v.Set("sort", k); v.Set("dir", dir) })
	}
	s.render(w, r, http.StatusOK, "index", d)
}

func compareBy(key string, a, b status.Workflow) int {
	switch key {
	case "status":
		return strings.Compare(statusOf(a), statusOf(b))
	case "last_run":
		return cmpTime(startOf(a.Last), startOf(b.Last))
	case "rows":
		return cmp.Compare(rowsOf(a.Last), rowsOf(b.Last))
	case "freshness":
		return cmp.Compare(freshOf(a), freshOf(b))
	case "next_run":
		return cmpTime(a.NextFireAt, b.NextFireAt)
	}
	return strings.Compare(a.Workflow, b.Workflow)
}

func cmpTime(a, b time.Time) int { return a.Compare(b) }

func startOf(r *state.Run) time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.StartedAt
}

func rowsOf(r *state.Run) int64 {
	if r == nil {
		return -1
	}
	return r.Rows
}

func freshOf(w status.Workflow) float64 {
	if w.FreshnessSeconds == nil {
		return math.Inf(1)
	}
	return *w.FreshnessSeconds
}

// statusOf is the table's status of a workflow: its last run's status,
// "never" without runs, "disabled" when it left the catalog, "late" past
// its freshness_sla unless its last run failed or is under way.
func statusOf(w status.Workflow) string {
	switch {
	case !w.Enabled:
		return "disabled"
	case w.Late && (w.Last == nil || (w.Last.Status.Final() && w.Last.Status != state.StatusFailed)):
		return "late"
	case w.Last == nil:
		return "never"
	}
	return string(w.Last.Status)
}

type workflowData struct {
	W     *status.Workflow
	Runs  []state.Run
	Chart *chart
}

func (s *Server) workflowPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	wf, err := s.workflowSummary(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.cfg.Store.Runs(r.Context(), state.RunFilter{Workflow: name, Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "workflow", workflowData{W: wf, Runs: runs, Chart: newChart(runs)})
}

type runData struct {
	Run    *state.Run
	Detail *RunDetail
	Final  bool
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	d, run, err := s.runDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "run", runData{Run: run, Detail: d, Final: run.Status.Final()})
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
