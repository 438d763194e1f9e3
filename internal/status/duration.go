package status

import (
	"fmt"
	"time"
)

// Duration is the one short human form of a duration that wharf shows
// operators (status, the console, alerts): 850ms, 12s, 4m10s, 3h5m, 2d4h.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		if d%time.Hour == 0 {
			return fmt.Sprintf("%dh", d/time.Hour)
		}
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd%dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
}

// Ago says when t was, from now: "4m10s ago", "in 12s" for a time still
// ahead, "-" for none.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := now.Sub(t); d < 0 {
		return "in " + Duration(-d)
	}
	return Duration(now.Sub(t)) + " ago"
}
