package catalog

import (
	"sync"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		expr, tz string
		want     Schedule
	}{
		{"", "", Schedule{Kind: OnDemand}},
		{"on_demand", "", Schedule{Kind: OnDemand, Expr: "on_demand"}},
		{"OnDemand", "UTC", Schedule{Kind: OnDemand, Expr: "OnDemand", TimeZone: "UTC"}},
		{"cron(10 21 * * ? *)", "", Schedule{Kind: Cron, Expr: "cron(10 21 * * ? *)", Dialect: "aws"}},
		{"10 21 * * ? *", "", Schedule{Kind: Cron, Expr: "10 21 * * ? *", Dialect: "aws"}},
		{"cron(0/15 8-18 ? * MON-FRI *)", "Europe/Paris", Schedule{Kind: Cron, Expr: "cron(0/15 8-18 ? * MON-FRI *)", Dialect: "aws", TimeZone: "Europe/Paris"}},
		{"cron(0 12 L * ? 2026)", "", Schedule{Kind: Cron, Expr: "cron(0 12 L * ? 2026)", Dialect: "aws"}},
		{"cron(0 12 LW * ? *)", "", Schedule{Kind: Cron, Expr: "cron(0 12 LW * ? *)", Dialect: "aws"}},
		{"cron(0 12 15W * ? *)", "", Schedule{Kind: Cron, Expr: "cron(0 12 15W * ? *)", Dialect: "aws"}},
		{"cron(0 12 ? * 6L *)", "", Schedule{Kind: Cron, Expr: "cron(0 12 ? * 6L *)", Dialect: "aws"}},
		{"cron(0 12 ? * 2#1 *)", "", Schedule{Kind: Cron, Expr: "cron(0 12 ? * 2#1 *)", Dialect: "aws"}},
		{"cron(0 12 ? * L *)", "", Schedule{Kind: Cron, Expr: "cron(0 12 ? * L *)", Dialect: "aws"}},
		{"cron(0 12 ? JAN-MAR,DEC sun,7 2030-2199/5)", "", Schedule{Kind: Cron, Expr: "cron(0 12 ? JAN-MAR,DEC sun,7 2030-2199/5)", Dialect: "aws"}},
		{"*/5 * * * *", "", Schedule{Kind: Cron, Expr: "*/5 * * * *", Dialect: "standard"}},
		{"0 9 * * 1-5", "", Schedule{Kind: Cron, Expr: "0 9 * * 1-5", Dialect: "standard"}},
		{"0 9 1,15 * 0", "", Schedule{Kind: Cron, Expr: "0 9 1,15 * 0", Dialect: "standard"}},
		{"@hourly", "", Schedule{Kind: Cron, Expr: "@hourly", Dialect: "standard"}},
		{"@yearly", "", Schedule{Kind: Cron, Expr: "@yearly", Dialect: "standard"}},
		{"rate(1 minute)", "", Schedule{Kind: Rate, Expr: "rate(1 minute)", Every: time.Minute}},
		{"rate(15 minutes)", "", Schedule{Kind: Rate, Expr: "rate(15 minutes)", Every: 15 * time.Minute}},
		{"rate(1 hour)", "", Schedule{Kind: Rate, Expr: "rate(1 hour)", Every: time.Hour}},
		{"rate(7 days)", "", Schedule{Kind: Rate, Expr: "rate(7 days)", Every: 7 * 24 * time.Hour}},
	} {
		got, err := ParseSchedule(tc.expr, tc.tz)
		if err != nil {
			t.Errorf("ParseSchedule(%q, %q): %v", tc.expr, tc.tz, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSchedule(%q, %q) = %+v, want %+v", tc.expr, tc.tz, got, tc.want)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ expr, tz, want string }{
		{"cron(10 25 * * ? *)", "", `cron(10 25 * * ? *): hours field "25" out of range 0-23`},
		{"cron(10 21 * * ?)", "", `cron(10 21 * * ?): AWS cron has 6 fields (minutes hours day-of-month month day-of-week year), got 5`},
		{"cron(0 12 * * MON *)", "", `cron(0 12 * * MON *): day-of-month "*" and day-of-week "MON" are both set: AWS cron needs "?" in one of them`},
		{"cron(0 12 ? * ? *)", "", `cron(0 12 ? * ? *): day-of-month and day-of-week are both "?": set one of them`},
		{"cron(0 12 ? * 0 *)", "", `cron(0 12 ? * 0 *): day-of-week field "0" out of range 1-7 or SUN-SAT`},
		{"cron(0 12 ? * FUN *)", "", `cron(0 12 ? * FUN *): day-of-week field "FUN" is not valid: want 1-7 or SUN-SAT`},
		{"cron(0 12 ? * 2#0 *)", "", `cron(0 12 ? * 2#0 *): day-of-week field "2#0": the week after # must be 1-5`},
		{"cron(0 12 5#2 * ? *)", "", `cron(0 12 5#2 * ? *): day-of-month field "5#2": # is only allowed in day-of-week`},
		{"cron(0 12 ? * 2W *)", "", `cron(0 12 ? * 2W *): day-of-week field "2W": this use of L or W is not allowed here (AWS: L and nW in day-of-month, L, nL and n#k in day-of-week)`},
		{"cron(0 12 1,,2 * ? *)", "", `cron(0 12 1,,2 * ? *): day-of-month field: empty item in a list`},
		{"cron(0 12 1,? * ? *)", "", `cron(0 12 1,? * ? *): day-of-month field: ? must stand alone`},
		{"cron(0 ? * * ? *)", "", `cron(0 ? * * ? *): hours field "?": ? is only allowed in the day-of-month and day-of-week fields of an AWS cron pattern`},
		{"cron(0 12 * * ? 1969)", "", `cron(0 12 * * ? 1969): year field "1969" out of range 1970-2199`},
		{"cron(0 12 * * ? 26)", "", `cron(0 12 * * ? 26): year field "26" is not valid: want 1970-2199`},
		{"cron(*/60 * * * ? *)", "", `cron(*/60 * * * ? *): minutes field "*/60": step "60" is not a whole number 1-59`},
		{"cron(007 * * * ? *)", "", `cron(007 * * * ? *): minutes field "007" is not valid: want 0-59`},
		{"cron(0 9-5 * * ? *)", "", `cron(0 9-5 * * ? *): hours field "9-5": range runs backwards`},
		{"0 0 * * 8", "", `"0 0 * * 8": day-of-week field "8" out of range 0-7 or SUN-SAT`},
		{"0 0 ? * 1", "", `"0 0 ? * 1": day-of-month field (field 3 of 5) "?": a 5-field pattern is standard cron, which has no "?"; an AWS pattern has 6 fields (minutes hours day-of-month month day-of-week year), e.g. "0 0 ? * 1 *"`},
		{"0 10 * * ?", "", `"0 10 * * ?": day-of-week field (field 5 of 5) "?": a 5-field pattern is standard cron, which has no "?"; an AWS pattern has 6 fields (minutes hours day-of-month month day-of-week year), e.g. "0 10 * * ? *"`},
		{"0 10 ? * ?", "", `"0 10 ? * ?": day-of-month field (field 3 of 5) "?": a 5-field pattern is standard cron, which has no "?"; an AWS pattern has 6 fields (minutes hours day-of-month month day-of-week year), e.g. "0 10 * * ? *"`},
		{"0 0 * * 1#2", "", `"0 0 * * 1#2": day-of-week field "1#2": # is only allowed in day-of-week`},
		{"1 2 3", "", `"1 2 3": want ` + scheduleForms},
		{"every day", "", `"every day": want ` + scheduleForms},
		{"@reboot", "", `"@reboot": unknown shortcut: want @hourly, @daily, @weekly, @monthly or @yearly`},
		{"rate(1 minutes)", "", `rate(1 minutes): use "minute" for a value of 1`},
		{"rate(2 hour)", "", `rate(2 hour): use "hours" for a value above 1`},
		{"rate(0 days)", "", `rate(0 days): value "0" is not a whole number of at least 1`},
		{"rate(+5 days)", "", `rate(+5 days): value "+5" is not a whole number of at least 1`},
		{"rate(1.5 hours)", "", `rate(1.5 hours): value "1.5" is not a whole number of at least 1`},
		{"rate(5 seconds)", "", `rate(5 seconds): unit "seconds": want minute(s), hour(s) or day(s)`},
		{"rate(5)", "", `rate(5): want rate(N minutes|hours|days)`},
		{"rate(99999999 days)", "", `rate(99999999 days): value 99999999 is too large`},
		{"on_demand", "Mars/Olympus", `time zone "Mars/Olympus" is not a known IANA name (e.g. UTC, Europe/Paris)`},
		{"on_demand", "Local", `time zone "Local" depends on the machine: want an IANA name such as UTC or Europe/Paris`},
	} {
		_, err := ParseSchedule(tc.expr, tc.tz)
		if err == nil {
			t.Errorf("ParseSchedule(%q, %q): no error", tc.expr, tc.tz)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseSchedule(%q, %q) error\n got %s\nwant %s", tc.expr, tc.tz, err, tc.want)
		}
	}
}

// TestScheduleNext checks when schedules fire, in particular that AWS
// day-of-week numbers (SUN=1) are shifted for cronexpr (SUN=0).
func TestScheduleNext(t *testing.T) {
	// Wednesday 2026-03-04 10:00 UTC.
	from := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		expr, tz string
		want     time.Time
	}{
		{"cron(10 21 * * ? *)", "", at(2026, 3, 4, 21, 10)},
		{"10 21 * * ? *", "", at(2026, 3, 4, 21, 10)},
		{"cron(0 12 ? * 2 *)", "", at(2026, 3, 9, 12, 0)},   // AWS 2 = Monday
		{"cron(0 12 ? * MON *)", "", at(2026, 3, 9, 12, 0)}, // the same by name
		{"cron(0 12 ? * 1 *)", "", at(2026, 3, 8, 12, 0)},   // AWS 1 = Sunday
		{"cron(0 12 ? * 7 *)", "", at(2026, 3, 7, 12, 0)},   // AWS 7 = Saturday
		{"cron(0 12 ? * L *)", "", at(2026, 3, 7, 12, 0)},   // L = last day of the week, Saturday
		{"cron(0 12 ? * 6-7 *)", "", at(2026, 3, 6, 12, 0)}, // Friday-Saturday
		{"cron(0 12 ? * 1-1 *)", "", at(2026, 3, 8, 12, 0)}, // Sunday only, not the whole week
		{"cron(0 9 ? * 6L *)", "", at(2026, 3, 27, 9, 0)},   // last Friday of March 2026
		{"cron(0 9 ? * 2#1 *)", "", at(2026, 4, 6, 9, 0)},   // first Monday of April
		{"cron(0 9 ? * 4#1 *)", "", at(2026, 4, 1, 9, 0)},   // first Wednesday: 4 March 09:00 is past, so 1 April
		{"cron(0 8 L * ? *)", "", at(2026, 3, 31, 8, 0)},    // last day of the month
		{"cron(0 8 ? * * 2027)", "", at(2027, 1, 1, 8, 0)},
		{"cron(0 8 ? * * 2150)", "", time.Time{}},   // beyond cronexpr's years: never
		{"0 12 * * 0", "", at(2026, 3, 8, 12, 0)},   // standard 0 = Sunday
		{"0 12 * * 7", "", at(2026, 3, 8, 12, 0)},   // standard 7 = Sunday too
		{"0 12 * * 5-7", "", at(2026, 3, 6, 12, 0)}, // Friday to Sunday
		{"0 9 * * 1-5", "", at(2026, 3, 5, 9, 0)},
		{"@daily", "", at(2026, 3, 5, 0, 0)},
		{"cron(0 12 * * ? *)", "Europe/Paris", time.Date(2026, 3, 4, 12, 0, 0, 0, paris)}, // 10:00 UTC is 11:00 in Paris
		{"rate(15 minutes)", "", from.Add(15 * time.Minute)},
		{"on_demand", "", time.Time{}},
	} {
		s, err := ParseSchedule(tc.expr, tc.tz)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.expr, err)
			continue
		}
		got := s.Next(from)
		if !got.Equal(tc.want) {
			t.Errorf("%q (%s).Next(%s) = %s, want %s", tc.expr, tc.tz, from.Format(time.RFC3339), got, tc.want)
		}
	}
	// Friday-Sunday in standard cron includes Sunday.
	s, _ := ParseSchedule("0 12 * * 5-7", "")
	sat := time.Date(2026, 3, 7, 13, 0, 0, 0, time.UTC)
	if got := s.Next(sat); !got.Equal(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("5-7 after Saturday 13:00 = %s, want Sunday 12:00", got)
	}
}

func TestNextFire(t *testing.T) {
	at := func(d, h, m, s int) time.Time { return time.Date(2026, 3, d, h, m, s, 0, time.UTC) }
	parse := func(expr, tz string) Schedule {
		s, err := ParseSchedule(expr, tz)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", expr, err)
		}
		return s
	}
	// The engine fires by Next and status shows it: this is the one
	// schedule rule (it once differed for rates, t+N against multiples).
	for _, tc := range []struct {
		expr, tz string
		from     time.Time
		want     time.Time
	}{
		// Rates fire at multiples of their period: the same in every process.
		{"rate(15 minutes)", "", at(4, 10, 7, 30), at(4, 10, 15, 0)},
		{"rate(15 minutes)", "", at(4, 10, 15, 0), at(4, 10, 30, 0)}, // strictly after
		{"rate(1 hour)", "", at(4, 10, 59, 59), at(4, 11, 0, 0)},
		{"rate(1 day)", "", at(4, 10, 0, 0), at(5, 0, 0, 0)},
		// AWS cron examples (EventBridge docs), from Wednesday 2026-03-04.
		{"cron(0 10 * * ? *)", "", at(4, 9, 0, 0), at(4, 10, 0, 0)},        // 10:00 every day
		{"cron(15 12 * * ? *)", "", at(4, 12, 15, 0), at(5, 12, 15, 0)},    // 12:15 every day
		{"cron(0 18 ? * MON-FRI *)", "", at(6, 18, 0, 0), at(9, 18, 0, 0)}, // Friday 18:00 -> Monday
		{"cron(0 8 1 * ? *)", "", at(4, 9, 0, 0), time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)},
		{"cron(0/15 * * * ? *)", "", at(4, 9, 50, 0), at(4, 10, 0, 0)},
		{"cron(0/10 * ? * MON-FRI *)", "", at(6, 23, 55, 0), at(9, 0, 0, 0)},
		{"cron(0/5 8-17 ? * MON-FRI *)", "", at(4, 17, 56, 0), at(5, 8, 0, 0)},
		{"0 9 * * 1", "", at(4, 9, 0, 0), at(9, 9, 0, 0)}, // standard cron: Monday
		{"@hourly", "", at(4, 9, 30, 0), at(4, 10, 0, 0)},
		// A zone: 09:00 in Paris (UTC+1 in March) is 08:00 UTC.
		{"cron(0 9 * * ? *)", "Europe/Paris", at(4, 9, 0, 0), at(5, 8, 0, 0)},
		{"on_demand", "", at(4, 9, 0, 0), time.Time{}},
	} {
		got := parse(tc.expr, tc.tz).Next(tc.from)
		if !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("Next(%q %s, %s) = %s, want %s (UTC)", tc.expr, tc.tz, tc.from.Format(time.RFC3339), got, tc.want)
		}
	}
}

// TestNeverFiresWarns: a schedule no future date matches loads (the
// workflow can still be triggered) with a warning at its place.
func TestNeverFiresWarns(t *testing.T) {
	const path = "testdata/never_fires.warn.yaml"
	cat, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `testdata/never_fires.warn.yaml:6:39: workflows[0].schedule: cron(0 0 30 2 ? *) never fires: no date after today matches it, so the workflow runs only when triggered
testdata/never_fires.warn.yaml:7:38: workflows[1].schedule: 0 12 * * ? 2020-2023 never fires: no date after today matches it, so the workflow runs only when triggered
testdata/never_fires.warn.yaml:8:39: workflows[2].schedule: 0 0 31 4 * never fires: no date after today matches it, so the workflow runs only when triggered`
	if got := cat.Warnings.Error(); got != want {
		t.Errorf("warnings\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// TestNextConcurrent: Next keeps parsed cron patterns and is called from
// many goroutines (ticks, runs, status); a cronexpr.Expression keeps the
// days of the month it last looked at, so unguarded sharing gives another
// month's days (and -race reports it).
func TestNextConcurrent(t *testing.T) {
	s, err := ParseSchedule("cron(0 8 L * ? *)", "") // the last day of each month
	if err != nil {
		t.Fatal(err)
	}
	from := make([]time.Time, 48)
	want := make([]time.Time, len(from))
	for i := range from {
		from[i] = time.Date(2026, time.Month(1+i), 2, 0, 0, 0, 0, time.UTC)
		want[i] = time.Date(2026, time.Month(2+i), 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 2000 {
				for i := range from {
					i = (i + g*7) % len(from)
					if got := s.Next(from[i]); !got.Equal(want[i]) {
						t.Errorf("Next(%s) = %s, want %s", from[i].Format(time.DateOnly), got, want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
