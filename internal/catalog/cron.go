package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// cronField describes one field of a cron pattern for checking.
type cronField struct {
	name     string
	min, max int
	// names are accepted for values nameBase, nameBase+1, ...
	names    []string
	nameBase int
	digits   *regexp.Regexp // the form of a numeric value
	question bool           // "?" allowed (AWS day fields)
	last     bool           // "L" allowed
	weekday  bool           // "W" allowed (AWS day-of-month)
	nth      bool           // "#" allowed (AWS day-of-week)
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
	twoDigits  = regexp.MustCompile(`^[0-9]{1,2}$`)
	fourDigits = regexp.MustCompile(`^[0-9]{4}$`)
	// lastOrWeekdayRE matches the L/W forms, to reject them where they are
	// not allowed.
	lastOrWeekdayRE = regexp.MustCompile(`^([0-9]*L|[0-9]*W|LW)$`)
)

// awsCronFields are the six fields of an AWS (EventBridge/Glue) cron
// pattern: minutes hours day-of-month month day-of-week year.
var awsCronFields = []cronField{
	{name: "minutes", min: 0, max: 59, digits: twoDigits},
	{name: "hours", min: 0, max: 23, digits: twoDigits},
	{name: "day-of-month", min: 1, max: 31, digits: twoDigits, question: true, last: true, weekday: true},
	{name: "month", min: 1, max: 12, digits: twoDigits, names: monthNames, nameBase: 1},
	{name: "day-of-week", min: 1, max: 7, digits: twoDigits, names: dayNames, nameBase: 1, question: true, last: true, nth: true},
	{name: "year", min: 1970, max: 2199, digits: fourDigits},
}

// standardCronFields are the five fields of a standard (Vixie) cron
// pattern; day-of-week 0 and 7 are both Sunday.
var standardCronFields = []cronField{
	{name: "minutes", min: 0, max: 59, digits: twoDigits},
	{name: "hours", min: 0, max: 23, digits: twoDigits},
	{name: "day-of-month", min: 1, max: 31, digits: twoDigits},
	{name: "month", min: 1, max: 12, digits: twoDigits, names: monthNames, nameBase: 1},
	{name: "day-of-week", min: 0, max: 7, digits: twoDigits, names: dayNames, nameBase: 0},
}

// cronItem is one checked list item of a field.
type cronItem struct {
	star      bool // "*", "?" or "*/step"
	lo, hi    int  // the range, in the field's numbering
	step      int
	special   string // "L", "LW", "W", "#" or "" for a plain value or range
	nthOrWeek int    // the week after #
}

// parse checks one field and returns its items.
func (f *cronField) parse(s string) ([]cronItem, error) {
	if s == "?" {
		if !f.question {
			return nil, fmt.Errorf("%s field %q: ? is only allowed in the day-of-month and day-of-week fields of an AWS cron pattern", f.name, s)
		}
		return []cronItem{{star: true, lo: f.min, hi: f.max, step: 1}}, nil
	}
	var items []cronItem
	for _, raw := range strings.Split(s, ",") {
		it, err := f.parseItem(strings.ToUpper(raw))
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func (f *cronField) parseItem(s string) (cronItem, error) {
	switch {
	case s == "":
		return cronItem{}, fmt.Errorf("%s field: empty item in a list", f.name)
	case s == "?":
		return cronItem{}, fmt.Errorf("%s field: ? must stand alone", f.name)
	case f.last && s == "L":
		return cronItem{special: "L"}, nil
	case f.last && f.weekday && s == "LW":
		return cronItem{special: "LW"}, nil
	case f.weekday && strings.HasSuffix(s, "W") && len(s) > 1:
		v, err := f.value(strings.TrimSuffix(s, "W"))
		return cronItem{special: "W", lo: v, hi: v}, err
	case f.last && f.nth && strings.HasSuffix(s, "L") && len(s) > 1:
		v, err := f.value(strings.TrimSuffix(s, "L"))
		return cronItem{special: "L", lo: v, hi: v}, err
	case strings.Contains(s, "#"):
		if !f.nth {
			return cronItem{}, fmt.Errorf("%s field %q: # is only allowed in day-of-week", f.name, s)
		}
		day, week, _ := strings.Cut(s, "#")
		v, err := f.value(day)
		if err != nil {
			return cronItem{}, err
		}
		n, err := strconv.Atoi(week)
		if err != nil || n < 1 || n > 5 {
			return cronItem{}, fmt.Errorf("%s field %q: the week after # must be 1-5", f.name, s)
		}
		return cronItem{special: "#", lo: v, hi: v, nthOrWeek: n}, nil
	case lastOrWeekdayRE.MatchString(s):
		return cronItem{}, fmt.Errorf("%s field %q: this use of L or W is not allowed here (AWS: L and nW in day-of-month, L, nL and n#k in day-of-week)", f.name, s)
	}
	it := cronItem{lo: f.min, hi: f.max, step: 1}
	base, step, hasStep := strings.Cut(s, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > f.max-f.min {
			return cronItem{}, fmt.Errorf("%s field %q: step %q is not a whole number 1-%d", f.name, s, step, f.max-f.min)
		}
		it.step = n
	}
	if base == "*" {
		it.star = true
		return it, nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	var err error
	if it.lo, err = f.value(lo); err != nil {
		return cronItem{}, err
	}
	it.hi = it.lo
	if hasStep {
		it.hi = f.max // "5/15" means from 5 on
	}
	if isRange {
		if it.hi, err = f.value(hi); err != nil {
			return cronItem{}, err
		}
		if it.hi < it.lo {
			return cronItem{}, fmt.Errorf("%s field %q: range runs backwards", f.name, s)
		}
	}
	return it, nil
}

// value reads one number or name and checks its range.
func (f *cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if s == n {
			return f.nameBase + i, nil
		}
	}
	want := fmt.Sprintf("%d-%d", f.min, f.max)
	if len(f.names) > 0 {
		want += " or " + f.names[0] + "-" + f.names[len(f.names)-1]
	}
	if s == "" || !f.digits.MatchString(s) {
		return 0, fmt.Errorf("%s field %q is not valid: want %s", f.name, s, want)
	}
	v, _ := strconv.Atoi(s)
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%s field %q out of range %s", f.name, s, want)
	}
	return v, nil
}

// checkCron checks a cron pattern's fields (AWS when aws is true, else
// standard) and returns the equivalent github.com/hashicorp/cronexpr line
// (seconds first, day-of-week 0-6 with SUN=0, year last). never is true
// when the pattern only names years beyond cronexpr's last year (2099).
func checkCron(fields []string, aws bool) (line string, never bool, err error) {
	spec := standardCronFields
	if aws {
		spec = awsCronFields
	}
	items := make([][]cronItem, len(fields))
	for i, s := range fields {
		if !aws && s == "?" && (spec[i].name == "day-of-month" || spec[i].name == "day-of-week") {
			return "", false, fmt.Errorf(`%s field (field %d of %d) %q: a %d-field pattern is standard cron, which has no "?"; `+
				`an AWS pattern has 6 fields (minutes hours day-of-month month day-of-week year), e.g. %q`,
				spec[i].name, i+1, len(fields), s, len(fields), awsExample(fields))
		}
		if items[i], err = spec[i].parse(s); err != nil {
			return "", false, err
		}
	}
	out := []string{"0", fields[0], fields[1], fields[2], fields[3], cronexprDOW(items[4], aws, fields[4])}
	if aws {
		dom, dow := fields[2], fields[4]
		switch {
		case dom == "?" && dow == "?":
			return "", false, fmt.Errorf(`day-of-month and day-of-week are both "?": set one of them`)
		case dom != "?" && dow != "?":
			return "", false, fmt.Errorf(`day-of-month %q and day-of-week %q are both set: AWS cron needs "?" in one of them`, dom, dow)
		}
		year, none := cronexprYear(items[5], fields[5])
		out = append(out, year)
		never = none
	} else {
		out = append(out, "*")
	}
	return strings.Join(out, " "), never, nil
}

// cronexprDOW rewrites a day-of-week field for cronexpr: every day as a
// number 0-6 (AWS counts SUN=1..SAT=7, standard cron SUN=0 or 7), so that
// ranges that end on Sunday or use names stay exact.
func cronexprDOW(items []cronItem, aws bool, written string) string {
	if written == "*" || written == "?" {
		return written
	}
	conv := func(v int) int {
		if aws {
			return v - 1
		}
		return v % 7
	}
	var parts []string
	days := map[int]bool{}
	for _, it := range items {
		switch it.special {
		case "L":
			if it.lo == 0 && it.hi == 0 { // "L" alone: the last day of the week, Saturday
				days[6] = true
			} else {
				parts = append(parts, strconv.Itoa(conv(it.lo))+"L")
			}
		case "#":
			parts = append(parts, fmt.Sprintf("%d#%d", conv(it.lo), it.nthOrWeek))
		default:
			for v := it.lo; v <= it.hi; v += it.step {
				days[conv(v)] = true
			}
		}
	}
	var list []int
	for d := range days {
		list = append(list, d)
	}
	sort.Ints(list)
	for i := len(list) - 1; i >= 0; i-- {
		parts = append([]string{strconv.Itoa(list[i])}, parts...)
	}
	return strings.Join(parts, ",")
}

// cronexprYear rewrites an AWS year field for cronexpr, whose years stop at
// 2099: the years up to 2099 as a list, and none=true if no year is left.
func cronexprYear(items []cronItem, written string) (field string, none bool) {
	if written == "*" {
		return "*", false
	}
	var years []string
	for _, it := range items {
		for v := it.lo; v <= it.hi && v <= 2099; v += it.step {
			years = append(years, strconv.Itoa(v))
		}
	}
	if len(years) == 0 {
		return "*", true
	}
	return strings.Join(years, ","), false
}

// awsExample is the 6-field AWS pattern a standard pattern written with "?"
// most likely meant: the same fields with every year, when that is valid.
func awsExample(fields []string) string {
	withYear := append(append([]string{}, fields...), "*")
	if _, _, err := checkCron(withYear, true); err == nil {
		return strings.Join(withYear, " ")
	}
	return "0 10 * * ? *"
}
