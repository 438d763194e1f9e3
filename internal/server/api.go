package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// apiError is an error with a status code and a message safe to show; the
// error it wraps (the detail) is logged, never sent.
type apiError struct {
	Status  int
	Message string
	Err     error
}

func (e *apiError) Error() string { return e.Message }
func (e *apiError) Unwrap() error { return e.Err }

var (
	errUnauthorized = &apiError{Status: http.StatusUnauthorized, Message: "sign in: send Authorization: Bearer TOKEN (the --http-token or --http-read-token secret)"}
	errForbidden    = &apiError{Status: http.StatusForbidden, Message: "this needs the admin token (--http-token); yours is read only"}
)

func badRequest(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, a...)}
}

// fail answers with err: an *apiError's status and message, else 500 with
// a generic message. The full error is logged (redacted) either way.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Message: "internal error (see the wharf log)", Err: err}
	}
	if ae.Status >= 500 {
		s.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", secret.RedactString(err.Error()))
	} else if ae.Err != nil {
		s.log.Info("console request refused", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "err", secret.RedactString(ae.Err.Error()))
	}
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" || r.URL.Path == "/healthz" {
		writeJSON(w, ae.Status, map[string]string{"error": secret.RedactString(ae.Message)})
		return
	}
	s.render(w, r, ae.Status, "error", errorPage{Status: ae.Status, Message: secret.RedactString(ae.Message)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b = []byte(`{"error": "internal error (see the wharf log)"}`)
	}
	w.Write([]byte(secret.RedactString(string(b)) + "\n")) //nolint:errcheck
}

// endpoint adapts a handler returning (status, body, error) to http.
func (s *Server) endpoint(min role, f func(r *http.Request) (int, any, error)) http.Handler {
	return s.require(min, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, body, err := f(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, code, body)
	}))
}

func (s *Server) mountAPI(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/workflows", s.endpoint(roleRead, s.apiWorkflows))
	mux.Handle("GET /api/v1/workflows/{name}", s.endpoint(roleRead, s.apiWorkflow))
	mux.Handle("GET /api/v1/runs", s.endpoint(roleRead, s.apiRuns))
	mux.Handle("GET /api/v1/runs/{id}", s.endpoint(roleRead, s.apiRun))
	mux.Handle("POST /api/v1/workflows/{name}/trigger", s.endpoint(roleAdmin, s.apiTrigger))
	mux.Handle("POST /api/v1/runs/{id}/cancel", s.endpoint(roleAdmin, s.apiCancel))
	mux.Handle("/api/", s.endpoint(roleRead, func(r *http.Request) (int, any, error) {
		return 0, nil, &apiError{Status: http.StatusNotFound, Message: "no such API endpoint: " + r.Method + " " + r.URL.Path + " (see docs/api.md)"}
	}))
}

func (s *Server) apiWorkflows(r *http.Request) (int, any, error) {
	ws, err := status.Workflows(r.Context(), s.cfg.Store, s.cfg.Now())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"workflows": ws}, nil
}

// workflowSummary finds one deployed workflow's summary, or a 404.
func (s *Server) workflowSummary(ctx context.Context, name string) (*status.Workflow, error) {
	if _, err := s.cfg.Store.DeployedWorkflow(ctx, name); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("workflow %s is not deployed", name), Err: err}
		}
		return nil, err
	}
	ws, err := status.Workflows(ctx, s.cfg.Store, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	for i := range ws {
		if ws[i].Workflow == name {
			return &ws[i], nil
		}
	}
	return nil, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("workflow %s is not deployed", name)}
}

func (s *Server) apiWorkflow(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	w, err := s.workflowSummary(r.Context(), name)
	if err != nil {
		return 0, nil, err
	}
	runs, err := s.runs(r.Context(), state.RunFilter{Workflow: name, Limit: 20})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"workflow": w, "runs": runs}, nil
}

// runFilter reads ?workflow=&status=&limit=&before= .
func runFilter(r *http.Request) (state.RunFilter, error) {
	q := r.URL.Query()
	f := state.RunFilter{Workflow: q.Get("workflow"), Status: state.RunStatus(q.Get("status")), Before: q.Get("before"), Limit: 20}
	if f.Status != "" && !slices.Contains(state.Statuses, f.Status) {
		return f, badRequest("status %q: want one of %s", f.Status, statusNames())
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, badRequest("limit %q: want a number from 1 to 1000", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Server) runs(ctx context.Context, f state.RunFilter) ([]status.Run, error) {
	return status.Runs(ctx, s.cfg.Store, f)
}

func (s *Server) apiRuns(r *http.Request) (int, any, error) {
	f, err := runFilter(r)
	if err != nil {
		return 0, nil, err
	}
	if f.Before != "" {
		if _, err := s.run(r.Context(), f.Before); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				return 0, nil, badRequest("before %q: no such run", f.Before)
			}
			return 0, nil, err
		}
	}
	runs, err := s.runs(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	body := map[string]any{"runs": runs, "next_before": nil}
	if len(runs) == f.Limit {
		body["next_before"] = runs[len(runs)-1].ID
	}
	return http.StatusOK, body, nil
}

// RunDetail is GET /api/v1/runs/{id}: a run with its window and files.
type RunDetail struct {
	status.Run
	FullLoad bool      `json:"full_load"`
	Files    []RunFile `json:"files_landed"`
	// Schema is what the run landed (columns with source and landed
	// types, and its hash); left out when the run recorded none.
	Schema *source.Schema `json:"schema,omitempty"`
}

// RunFile is one file a run landed.
type RunFile struct {
	Path      string  `json:"path"`
	Rows      int64   `json:"rows"`
	Bytes     int64   `json:"bytes"`
	CreatedAt *string `json:"created_at"`
}

func (s *Server) run(ctx context.Context, id string) (*state.Run, error) {
	run, err := s.cfg.Store.Run(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return nil, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("run %s not found", id), Err: err}
	}
	return run, err
}

func (s *Server) runDetail(ctx context.Context, id string) (*RunDetail, *state.Run, error) {
	run, err := s.run(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	files, err := s.cfg.Store.Files(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d := &RunDetail{Run: status.RunOf(*run), FullLoad: run.FullLoad, Files: make([]RunFile, len(files))}
	if run.Schema != "" {
		sch, err := source.ParseSchema(run.Schema)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: the schema it recorded: %w", id, err)
		}
		d.Schema = &sch
		if d.SchemaChange, err = status.SchemaChangeOf(ctx, s.cfg.Store, *run); err != nil {
			return nil, nil, err
		}
	}
	for i, f := range files {
		d.Files[i] = RunFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes, CreatedAt: status.Time(f.CreatedAt)}
	}
	return d, run, nil
}

func (s *Server) apiRun(r *http.Request) (int, any, error) {
	d, _, err := s.runDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, d, nil
}

// TriggerResult is POST /api/v1/workflows/{name}/trigger's body.
type TriggerResult struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
}

// trigger queues a run of name; a skipped run (already queued or running)
// is a 409.
func (s *Server) trigger(ctx context.Context, name string) (*engine.Queued, error) {
	if s.cfg.Ops == nil {
		return nil, &apiError{Status: http.StatusConflict, Message: "this server cannot queue runs"}
	}
	w, err := s.workflowSummary(ctx, name)
	if err != nil {
		return nil, err
	}
	if !w.Enabled {
		return nil, &apiError{Status: http.StatusConflict, Message: fmt.Sprintf("workflow %s is disabled: it left the catalog", name)}
	}
	qs, err := s.cfg.Ops.Trigger(ctx, name)
	if err != nil {
		return nil, err
	}
	q := qs[0]
	if q.Skip != "" {
		return &q, &apiError{Status: http.StatusConflict, Message: q.Skip}
	}
	return &q, nil
}

func (s *Server) apiTrigger(r *http.Request) (int, any, error) {
	q, err := s.trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("console: run queued", "workflow", q.Run.Workflow, "run", q.Run.ID)
	return http.StatusAccepted, TriggerResult{RunID: q.Run.ID, Status: string(state.StatusQueued)}, nil
}

func (s *Server) cancel(ctx context.Context, id string) (*state.Run, error) {
	if s.cfg.Ops == nil {
		return nil, &apiError{Status: http.StatusConflict, Message: "this server cannot cancel runs"}
	}
	if _, err := s.run(ctx, id); err != nil {
		return nil, err
	}
	run, err := s.cfg.Ops.Cancel(ctx, id)
	if errors.Is(err, engine.ErrNotCancellable) {
		return nil, &apiError{Status: http.StatusConflict, Message: fmt.Sprintf("run %s already ended (%s)", id, run.Status), Err: err}
	}
	return run, err
}

func (s *Server) apiCancel(r *http.Request) (int, any, error) {
	run, err := s.cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("console: run cancelled", "workflow", run.Workflow, "run", run.ID)
	st := "cancelling"
	if run.Status == state.StatusCancelled {
		st = string(state.StatusCancelled)
	}
	return http.StatusAccepted, TriggerResult{RunID: run.ID, Status: st}, nil
}

// statusNames lists the run statuses for messages.
func statusNames() string {
	names := make([]string, len(state.Statuses))
	for i, st := range state.Statuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}
