package server

import (
	"fmt"
	"slices"
	"time"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// chart is an inline SVG of rows landed (bars) and duration (line) per
// run, oldest on the left, computed here so the page needs no script.
type chart struct {
	Width, Height       int
	Bars                []chartBar
	Line                string // polyline points
	MaxRows             int64
	MaxDur              string
	PlotTop, PlotBottom int
}

type chartBar struct {
	X, Y, W, H int
	Class      string
	Title      string
	Href       string
}

func newChart(newestFirst []state.Run) *chart {
	runs := slices.Clone(newestFirst)
	slices.Reverse(runs)
	if len(runs) == 0 {
		return nil
	}
	c := &chart{Width: 720, Height: 180, PlotTop: 10, PlotBottom: 160}
	var maxDur time.Duration
	for _, r := range runs {
		c.MaxRows = max(c.MaxRows, r.Rows)
		maxDur = max(maxDur, runDuration(r))
	}
	c.MaxDur = status.Duration(maxDur)
	plotH := c.PlotBottom - c.PlotTop
	slot := c.Width / len(runs)
	bw := min(max(2, slot*2/3), 48)
	for i, r := range runs {
		h := 0
		if c.MaxRows > 0 {
			h = int(float64(r.Rows) / float64(c.MaxRows) * float64(plotH))
		}
		h = max(h, 1)
		x := i*slot + (slot-bw)/2
		c.Bars = append(c.Bars, chartBar{X: x, Y: c.PlotBottom - h, W: bw, H: h, Class: "bar-" + string(r.Status), Href: "/runs/" + r.ID,
			Title: fmt.Sprintf("%s %s: %d rows in %s", when(r.StartedAt), r.Status, r.Rows, status.Duration(runDuration(r)))})
		y := c.PlotBottom
		if maxDur > 0 {
			y = c.PlotBottom - int(float64(runDuration(r))/float64(maxDur)*float64(plotH))
		}
		c.Line += fmt.Sprintf("%d,%d ", i*slot+slot/2, y)
	}
	return c
}

func runDuration(r state.Run) time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() || r.Status == state.StatusQueued {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}
