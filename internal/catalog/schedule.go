package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/cronexpr"
)

// scheduleForms lists what a schedule may be, for messages.
const scheduleForms = "on_demand, cron(M H DOM MON DOW Y), a 6-field AWS or 5-field standard cron pattern, @hourly/@daily/@weekly/@monthly/@yearly or rate(N minutes|hours|days)"

// ParseSchedule checks a schedule's form and returns it parsed; running it
// belongs to the engine (see Schedule.Next). Accepted forms:
//
//   - "", "on_demand", "OnDemand": run only when asked.
//   - "cron(M H DOM MON DOW Y)" or a bare 6-field pattern: AWS cron. One of
//     day-of-month and day-of-week must be "?"; day-of-week is 1-7 or
//     SUN-SAT; L, W and # as AWS allows; year 1970-2199.
//   - a 5-field pattern or @hourly, @daily, @weekly, @monthly, @yearly
//     (@annually): standard cron.
//   - "rate(N minute|minutes|hour|hours|day|days)": every N units, with the
//     singular unit for 1 only, as AWS requires.
//
// tz is an IANA time zone name ("" = UTC) the schedule runs in.
func ParseSchedule(expr string, tz string) (Schedule, error) {
	s := Schedule{Expr: expr, TimeZone: tz}
	if tz != "" {
		if err := checkTimeZone(tz); err != nil {
			return Schedule{}, err
		}
	}
	e := strings.TrimSpace(expr)
	lower := strings.ToLower(e)
	switch {
	case e == "" || e == "on_demand" || e == "OnDemand":
		s.Kind = OnDemand
		return s, nil
	case strings.HasPrefix(lower, "cron(") && strings.HasSuffix(e, ")"):
		fields := strings.Fields(e[len("cron(") : len(e)-1])
		if len(fields) != 6 {
			return Schedule{}, fmt.Errorf("%s: AWS cron has 6 fields (minutes hours day-of-month month day-of-week year), got %d", e, len(fields))
		}
		if err := s.setCron(fields, true); err != nil {
			return Schedule{}, fmt.Errorf("%s: %w", e, err)
		}
		return s, nil
	case strings.HasPrefix(lower, "rate(") && strings.HasSuffix(e, ")"):
		every, err := parseRate(e[len("rate(") : len(e)-1])
		if err != nil {
			return Schedule{}, fmt.Errorf("%s: %w", e, err)
		}
		s.Kind, s.Every = Rate, every
		return s, nil
	case strings.HasPrefix(e, "@"):
		switch e {
		case "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually":
			s.Kind, s.Dialect = Cron, "standard"
			return s, nil
		}
		return Schedule{}, fmt.Errorf("%q: unknown shortcut: want @hourly, @daily, @weekly, @monthly or @yearly", e)
	}
	fields := strings.Fields(e)
	switch len(fields) {
	case 6:
		if err := s.setCron(fields, true); err != nil {
			return Schedule{}, fmt.Errorf("%q: %w", e, err)
		}
	case 5:
		if err := s.setCron(fields, false); err != nil {
			return Schedule{}, fmt.Errorf("%q: %w", e, err)
		}
	default:
		return Schedule{}, fmt.Errorf("%q: want %s", e, scheduleForms)
	}
	return s, nil
}

// setCron checks a pattern with our own messages, then with cronexpr, which
// the engine uses to run it.
func (s *Schedule) setCron(fields []string, aws bool) error {
	if _, _, err := checkCron(fields, aws); err != nil {
		return err
	}
	s.Kind, s.Dialect = Cron, "standard"
	if aws {
		s.Dialect = "aws"
	}
	return s.cron().err
}

// parseRate reads "N unit" of rate(N unit).
func parseRate(inner string) (time.Duration, error) {
	parts := strings.Fields(inner)
	if len(parts) != 2 {
		return 0, fmt.Errorf("want rate(N minutes|hours|days)")
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 1 || parts[0][0] == '+' {
		return 0, fmt.Errorf("value %q is not a whole number of at least 1", parts[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := parts[1]
	singular := strings.TrimSuffix(unit, "s")
	d, ok := units[singular]
	if !ok {
		return 0, fmt.Errorf("unit %q: want minute(s), hour(s) or day(s)", unit)
	}
	if n == 1 && unit != singular {
		return 0, fmt.Errorf("use %q for a value of 1", singular)
	}
	if n > 1 && unit == singular {
		return 0, fmt.Errorf("use %q for a value above 1", singular+"s")
	}
	if int64(n) > int64(100*365*24*time.Hour/d) {
		return 0, fmt.Errorf("value %d is too large", n)
	}
	return time.Duration(n) * d, nil
}

// checkTimeZone accepts IANA names; "Local" is refused since it depends on
// the machine.
func checkTimeZone(tz string) error {
	if tz == "Local" {
		return fmt.Errorf("time zone %q depends on the machine: want an IANA name such as UTC or Europe/Paris", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("time zone %q is not a known IANA name (e.g. UTC, Europe/Paris)", tz)
	}
	return nil
}

// Next returns when the schedule fires next strictly after t, in UTC; the
// zero time when it never does (on demand, or a cron pattern with no future
// match). This is the one schedule rule: the engine fires by it and status
// shows it. Cron patterns match in the schedule's time zone. A rate(N unit)
// fires at the multiples of its period counted from 0001-01-01 00:00 UTC
// (rate(15 minutes) at :00, :15, :30, :45; rate(1 day) at 00:00 UTC), not
// at t+N, so every process of a fleet, and every restart, computes the same
// fire times.
func (s Schedule) Next(t time.Time) time.Time {
	switch s.Kind {
	case Rate:
		if s.Every <= 0 {
			return time.Time{}
		}
		return t.UTC().Truncate(s.Every).Add(s.Every)
	case Cron:
	default:
		return time.Time{}
	}
	c := s.cron()
	crons.Lock()
	defer crons.Unlock()
	if c.expr == nil {
		return time.Time{}
	}
	n := c.expr.Next(t.In(c.loc))
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// cron returns cron schedule s parsed, from crons when it was parsed
// before.
func (s Schedule) cron() *cronSchedule {
	crons.Lock()
	defer crons.Unlock()
	c, ok := crons.m[s]
	if !ok {
		c = parseCron(s)
		if len(crons.m) >= maxCrons {
			clear(crons.m)
		}
		crons.m[s] = c
	}
	return c
}

// crons keeps the cron schedules parsed (by ParseSchedule and Next), by
// schedule: a tick of 10,000 workflows, and a serve's start, parsed the
// same few patterns 30,000 times (regular expressions, and a time zone
// file each time). A cronexpr.Expression is not safe for concurrent use
// (Next keeps a list in it): the lock covers it.
var crons = struct {
	sync.Mutex
	m map[Schedule]*cronSchedule
}{m: map[Schedule]*cronSchedule{}}

// maxCrons bounds crons: beyond it (a long-lived serve through many
// deploys of ever new patterns) it starts again empty.
const maxCrons = 4096

// cronSchedule is a parsed cron Schedule; expr is nil when it never
// fires, or when cronexpr refused the pattern (err).
type cronSchedule struct {
	loc  *time.Location
	expr *cronexpr.Expression
	err  error
}

func parseCron(s Schedule) *cronSchedule {
	c := &cronSchedule{loc: time.UTC}
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return c
		}
		c.loc = l
	}
	e := strings.TrimSpace(s.Expr)
	var line string
	if strings.HasPrefix(e, "@") {
		line = e
	} else {
		if strings.HasPrefix(strings.ToLower(e), "cron(") {
			e = e[len("cron(") : len(e)-1]
		}
		l, never, err := checkCron(strings.Fields(e), s.Dialect == "aws")
		if err != nil {
			return c
		}
		if never {
			_, c.err = cronexpr.Parse(l)
			return c
		}
		line = l
	}
	c.expr, c.err = cronexpr.Parse(line)
	return c
}

// IsFireTime reports whether t is one of the schedule's fire times.
func (s Schedule) IsFireTime(t time.Time) bool {
	return !t.IsZero() && s.Next(t.Add(-time.Microsecond)).Equal(t)
}
