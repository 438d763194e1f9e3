package quickstart

import (
	"fmt"
	"strings"
	"time"
)

// The HR sample: the schema of the classic HR sample (regions, countries,
// locations, departments, jobs, employees, job_history) that the AWS Glue
// blueprint post lands, with the classic reference rows and generated
// people. Everything is computed here, deterministically: the same rows on
// every machine and every run.

// hrDDL creates the tables. Every table has an updated_at cursor column
// (text 'YYYY-MM-DD HH:MM:SS', as SQLite's datetime() writes it), indexed so
// max(updated_at) is cheap.
var hrDDL = []string{
	`CREATE TABLE regions (
	region_id   INTEGER PRIMARY KEY,
	region_name VARCHAR(25) NOT NULL,
	updated_at  TIMESTAMP NOT NULL)`,
	`CREATE TABLE countries (
	country_id   CHAR(2) NOT NULL PRIMARY KEY,
	country_name VARCHAR(40) NOT NULL,
	region_id    INTEGER NOT NULL REFERENCES regions (region_id),
	updated_at   TIMESTAMP NOT NULL)`,
	`CREATE TABLE locations (
	location_id    INTEGER PRIMARY KEY,
	street_address VARCHAR(40),
	postal_code    VARCHAR(12),
	city           VARCHAR(30) NOT NULL,
	state_province VARCHAR(25),
	country_id     CHAR(2) NOT NULL REFERENCES countries (country_id),
	updated_at     TIMESTAMP NOT NULL)`,
	`CREATE TABLE departments (
	department_id   INTEGER PRIMARY KEY,
	department_name VARCHAR(30) NOT NULL,
	manager_id      INTEGER,
	location_id     INTEGER REFERENCES locations (location_id),
	updated_at      TIMESTAMP NOT NULL)`,
	`CREATE TABLE jobs (
	job_id     VARCHAR(10) NOT NULL PRIMARY KEY,
	job_title  VARCHAR(35) NOT NULL,
	min_salary DECIMAL(8,2),
	max_salary DECIMAL(8,2),
	updated_at TIMESTAMP NOT NULL)`,
	`CREATE TABLE employees (
	employee_id    INTEGER PRIMARY KEY,
	first_name     VARCHAR(20),
	last_name      VARCHAR(25) NOT NULL,
	email          VARCHAR(25) NOT NULL UNIQUE,
	phone_number   VARCHAR(20),
	hire_date      DATE NOT NULL,
	job_id         VARCHAR(10) NOT NULL REFERENCES jobs (job_id),
	salary         DECIMAL(8,2) NOT NULL,
	commission_pct DECIMAL(2,2),
	manager_id     INTEGER REFERENCES employees (employee_id),
	department_id  INTEGER REFERENCES departments (department_id),
	updated_at     TIMESTAMP NOT NULL)`,
	`CREATE TABLE job_history (
	employee_id   INTEGER NOT NULL REFERENCES employees (employee_id),
	start_date    DATE NOT NULL,
	end_date      DATE NOT NULL,
	job_id        VARCHAR(10) NOT NULL REFERENCES jobs (job_id),
	department_id INTEGER REFERENCES departments (department_id),
	updated_at    TIMESTAMP NOT NULL,
	PRIMARY KEY (employee_id, start_date))`,
	`CREATE INDEX regions_updated_at ON regions (updated_at)`,
	`CREATE INDEX countries_updated_at ON countries (updated_at)`,
	`CREATE INDEX locations_updated_at ON locations (updated_at)`,
	`CREATE INDEX departments_updated_at ON departments (updated_at)`,
	`CREATE INDEX jobs_updated_at ON jobs (updated_at)`,
	`CREATE INDEX employees_updated_at ON employees (updated_at)`,
	`CREATE INDEX job_history_updated_at ON job_history (updated_at)`,
}

// tableRows is one table's rows: column names and values (nil = NULL).
type tableRows struct {
	table   string
	columns []string
	rows    [][]any
}

// TimeLayout is how updated_at is written.
const TimeLayout = "2006-01-02 15:04:05"

// seededAt is the first updated_at of the sample; rows follow minutes apart.
var seededAt = time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC)

// rng is splitmix64: tiny, and its sequence never changes with Go versions.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

var regions = [][]any{
	{1, "Europe"}, {2, "Americas"}, {3, "Asia"}, {4, "Middle East and Africa"},
}

var countries = [][]any{
	{"AR", "Argentina", 2}, {"AU", "Australia", 3}, {"BE", "Belgium", 1}, {"BR", "Brazil", 2},
	{"CA", "Canada", 2}, {"CH", "Switzerland", 1}, {"CN", "China", 3}, {"DE", "Germany", 1},
	{"DK", "Denmark", 1}, {"EG", "Egypt", 4}, {"FR", "France", 1}, {"IL", "Israel", 4},
	{"IN", "India", 3}, {"IT", "Italy", 1}, {"JP", "Japan", 3}, {"KW", "Kuwait", 4},
	{"ML", "Malaysia", 3}, {"MX", "Mexico", 2}, {"NG", "Nigeria", 4}, {"NL", "Netherlands", 1},
	{"SG", "Singapore", 3}, {"UK", "United Kingdom", 1}, {"US", "United States of America", 2},
	{"ZM", "Zambia", 4}, {"ZW", "Zimbabwe", 4},
}

var locations = [][]any{
	{1000, "1297 Via Cola di Rie", "00989", "Roma", nil, "IT"},
	{1100, "93091 Calle della Testa", "10934", "Venice", nil, "IT"},
	{1200, "2017 Shinjuku-ku", "1689", "Tokyo", "Tokyo Prefecture", "JP"},
	{1300, "9450 Kamiya-cho", "6823", "Hiroshima", nil, "JP"},
	{1400, "2014 Jabberwocky Rd", "26192", "Southlake", "Texas", "US"},
	{1500, "2011 Interiors Blvd", "99236", "South San Francisco", "California", "US"},
	{1600, "2007 Zagora St", "50090", "South Brunswick", "New Jersey", "US"},
	{1700, "2004 Charade Rd", "98199", "Seattle", "Washington", "US"},
	{1800, "147 Spadina Ave", "M5V 2L7", "Toronto", "Ontario", "CA"},
	{1900, "6092 Boxwood St", "YSW 9T2", "Whitehorse", "Yukon", "CA"},
	{2000, "40-5-12 Laogianggen", "190518", "Beijing", nil, "CN"},
	{2100, "1298 Vileparle (E)", "490231", "Bombay", "Maharashtra", "IN"},
	{2200, "12-98 Victoria Street", "2901", "Sydney", "New South Wales", "AU"},
	{2300, "198 Clementi North", "540198", "Singapore", nil, "SG"},
	{2400, "8204 Arthur St", nil, "London", nil, "UK"},
	{2500, "Magdalen Centre, The Oxford Science Park", "OX9 9ZB", "Oxford", "Oxford", "UK"},
	{2600, "9702 Chester Road", "09629850293", "Stretford", "Manchester", "UK"},
	{2700, "Schwanthalerstr. 7031", "80925", "Munich", "Bavaria", "DE"},
	{2800, "Rua Frei Caneca 1360", "01307-002", "Sao Paulo", "Sao Paulo", "BR"},
	{2900, "20 Rue des Corps-Saints", "1730", "Geneva", "Geneve", "CH"},
	{3000, "Murtenstrasse 921", "3095", "Bern", "BE", "CH"},
	{3100, "Pieter Breughelstraat 837", "3029SK", "Utrecht", "Utrecht", "NL"},
	{3200, "Mariano Escobedo 9991", "11932", "Mexico City", "Distrito Federal", "MX"},
}

var departments = [][]any{
	{10, "Administration", 200, 1700}, {20, "Marketing", 201, 1800}, {30, "Purchasing", 114, 1700},
	{40, "Human Resources", 203, 2400}, {50, "Shipping", 121, 1500}, {60, "IT", 103, 1400},
	{70, "Public Relations", 204, 2700}, {80, "Sales", 145, 2500}, {90, "Executive", 100, 1700},
	{100, "Finance", 108, 1700}, {110, "Accounting", 205, 1700}, {120, "Treasury", nil, 1700},
	{130, "Corporate Tax", nil, 1700}, {140, "Control And Credit", nil, 1700},
	{150, "Shareholder Services", nil, 1700}, {160, "Benefits", nil, 1700},
	{170, "Manufacturing", nil, 1700}, {180, "Construction", nil, 1700},
	{190, "Contracting", nil, 1700}, {200, "Operations", nil, 1700}, {210, "IT Support", nil, 1700},
	{220, "NOC", nil, 1700}, {230, "IT Helpdesk", nil, 1700}, {240, "Government Sales", nil, 1700},
	{250, "Retail Sales", nil, 1700}, {260, "Recruiting", nil, 1700}, {270, "Payroll", nil, 1700},
}

// jobs: id, title, min and max salary.
var jobs = [][]any{
	{"AD_PRES", "President", 20080, 40000},
	{"AD_VP", "Administration Vice President", 15000, 30000},
	{"AD_ASST", "Administration Assistant", 3000, 6000},
	{"FI_MGR", "Finance Manager", 8200, 16000},
	{"FI_ACCOUNT", "Accountant", 4200, 9000},
	{"AC_MGR", "Accounting Manager", 8200, 16000},
	{"AC_ACCOUNT", "Public Accountant", 4200, 9000},
	{"SA_MAN", "Sales Manager", 10000, 20080},
	{"SA_REP", "Sales Representative", 6000, 12008},
	{"PU_MAN", "Purchasing Manager", 8000, 15000},
	{"PU_CLERK", "Purchasing Clerk", 2500, 5500},
	{"ST_MAN", "Stock Manager", 5500, 8500},
	{"ST_CLERK", "Stock Clerk", 2008, 5000},
	{"SH_CLERK", "Shipping Clerk", 2500, 5500},
	{"IT_PROG", "Programmer", 4000, 10000},
	{"MK_MAN", "Marketing Manager", 9000, 15000},
	{"MK_REP", "Marketing Representative", 4000, 9000},
	{"HR_REP", "Human Resources Representative", 4000, 9000},
	{"PR_REP", "Public Relations Representative", 4500, 10500},
}

// staff describes the organisation: consecutive employee ids from 100, each
// group with one job and department and its managers (cycled through).
var staff = []struct {
	count    int
	job      string
	dept     any // department_id or nil
	managers []any
}{
	{1, "AD_PRES", 90, []any{nil}},
	{2, "AD_VP", 90, []any{100}},
	{1, "IT_PROG", 60, []any{102}},
	{4, "IT_PROG", 60, []any{103}},
	{1, "FI_MGR", 100, []any{101}},
	{5, "FI_ACCOUNT", 100, []any{108}},
	{1, "PU_MAN", 30, []any{100}},
	{5, "PU_CLERK", 30, []any{114}},
	{5, "ST_MAN", 50, []any{100}},
	{20, "ST_CLERK", 50, []any{120, 121, 122, 123, 124}},
	{5, "SA_MAN", 80, []any{100}},
	{28, "SA_REP", 80, []any{145, 146, 147, 148, 149}},
	{1, "SA_REP", nil, []any{149}}, // a sales rep without a department, as in the classic sample
	{1, "SA_REP", 80, []any{149}},
	{20, "SH_CLERK", 50, []any{120, 121, 122, 123, 124}},
	{1, "AD_ASST", 10, []any{101}},
	{1, "MK_MAN", 20, []any{100}},
	{1, "MK_REP", 20, []any{201}},
	{1, "HR_REP", 40, []any{101}},
	{1, "PR_REP", 70, []any{101}},
	{1, "AC_MGR", 110, []any{101}},
	{1, "AC_ACCOUNT", 110, []any{205}},
}

var firstNames = []string{
	"Steven", "Neena", "Lex", "Alexander", "Bruce", "David", "Valli", "Diana", "Nancy", "Daniel",
	"John", "Ismael", "Jose Manuel", "Luis", "Den", "Shelli", "Sigal", "Guy", "Karen", "Matthew",
	"Adam", "Payam", "Shanta", "Kevin", "Julia", "Irene", "James", "Laura", "Mozhe", "Jason",
	"Michael", "Ki", "Hazel", "Renske", "Stephen", "Joshua", "Trenna", "Curtis", "Randall", "Peter",
	"Alberto", "Gerald", "Eleni", "Christopher", "Nanette", "Oliver", "Janette", "Patrick", "Allan",
	"Lindsey", "Louise", "Sarath", "Clara", "Danielle", "Mattea", "Sundar", "Amit", "Lisa", "Harrison",
	"Tayler", "William", "Elizabeth", "Sundita", "Ellen", "Alyssa", "Jonathon", "Jack", "Kimberely",
	"Charles", "Winston", "Jean", "Martha", "Girard", "Nandita", "Alexis", "Anthony", "Kelly",
	"Jennifer", "Timothy", "Sarah", "Britney", "Samuel", "Vance", "Alana", "Donald", "Douglas", "Pat",
	"Susan", "Hermann", "Shelley", "Amara", "Kenji", "Ingrid", "Tomasz", "Aisha", "Mateo", "Priya",
}

var lastNames = []string{
	"King", "Kochhar", "De Haan", "Hunold", "Ernst", "Austin", "Pataballa", "Lorentz", "Greenberg",
	"Faviet", "Chen", "Sciarra", "Urman", "Popp", "Raphaely", "Khoo", "Baida", "Tobias", "Himuro",
	"Colmenares", "Weiss", "Fripp", "Kaufling", "Vollman", "Mourgos", "Nayer", "Mikkilineni", "Landry",
	"Markle", "Bissot", "Atkinson", "Marlow", "Olson", "Mallin", "Rogers", "Gee", "Philtanker",
	"Ladwig", "Stiles", "Seo", "Patel", "Rajs", "Davies", "Matos", "Vargas", "Russell", "Partners",
	"Errazuriz", "Cambrault", "Zlotkey", "Tucker", "Bernstein", "Hall", "Olsen", "Tuvault", "Sully",
	"McEwen", "Smith", "Doran", "Sewall", "Vishney", "Greene", "Marvins", "Lee", "Ande", "Banda",
	"Ozer", "Bloom", "Fox", "Bates", "Kumar", "Abel", "Hutton", "Taylor", "Livingston", "Grant",
	"Johnson", "Fleaur", "Sullivan", "Geoni", "Sarchand", "Bull", "Dellinger", "Cabrio", "Chung",
	"Dilly", "Gates", "Perkins", "Bell", "Everett", "McCain", "Jones", "Walsh", "Feeney", "OConnell",
	"Whalen", "Hartstein", "Fay", "Mavris", "Baer", "Higgins", "Gietz", "Okafor", "Nakamura",
}

// jobHistory: earlier jobs of some employees (employee, job, department);
// an employee's entries follow one another from the hire date on.
var jobHistory = [][3]any{
	{102, "IT_PROG", 60}, {101, "AC_ACCOUNT", 110}, {101, "AC_MGR", 110}, {201, "MK_REP", 20},
	{114, "ST_CLERK", 50}, {122, "ST_CLERK", 50}, {200, "AD_ASST", 90}, {176, "SA_REP", 80},
	{176, "SA_MAN", 80}, {200, "AC_ACCOUNT", 90},
}

// hrData builds every table's rows, in creation order.
func hrData() []tableRows {
	r := rng(20240115)
	stamp := seededAt
	// next returns the next updated_at: a few minutes after the previous one.
	next := func() string {
		stamp = stamp.Add(time.Duration(1+r.intn(7)) * time.Minute)
		return stamp.Format(TimeLayout)
	}
	withStamp := func(rows [][]any) [][]any {
		out := make([][]any, len(rows))
		for i, row := range rows {
			out[i] = append(append([]any{}, row...), next())
		}
		return out
	}
	out := []tableRows{
		{"regions", []string{"region_id", "region_name", "updated_at"}, withStamp(regions)},
		{"countries", []string{"country_id", "country_name", "region_id", "updated_at"}, withStamp(countries)},
		{"locations", []string{"location_id", "street_address", "postal_code", "city", "state_province", "country_id", "updated_at"}, withStamp(locations)},
		{"departments", []string{"department_id", "department_name", "manager_id", "location_id", "updated_at"}, withStamp(departments)},
		{"jobs", []string{"job_id", "job_title", "min_salary", "max_salary", "updated_at"}, withStamp(jobs)},
	}

	jobRange := map[string][2]int{}
	for _, j := range jobs {
		jobRange[j[0].(string)] = [2]int{j[2].(int), j[3].(int)}
	}
	emps := tableRows{table: "employees", columns: []string{"employee_id", "first_name", "last_name", "email",
		"phone_number", "hire_date", "job_id", "salary", "commission_pct", "manager_id", "department_id", "updated_at"}}
	hired := map[int]time.Time{}
	emails := map[string]bool{}
	id := 100
	firstDay := time.Date(2001, 1, 13, 0, 0, 0, 0, time.UTC)
	for _, g := range staff {
		for i := 0; i < g.count; i++ {
			first := firstNames[r.intn(len(firstNames))]
			last := lastNames[r.intn(len(lastNames))]
			email := uniqueEmail(emails, first, last)
			hire := firstDay.AddDate(0, 0, r.intn(2655)) // to 2008-04-21
			hired[id] = hire
			rg := jobRange[g.job]
			salary := rg[0] + r.intn((rg[1]-rg[0])/100+1)*100
			if g.job == "AD_PRES" {
				salary = 24000
			}
			var commission any
			phone := fmt.Sprintf("515.%03d.%04d", 100+r.intn(900), r.intn(10000))
			switch g.job {
			case "SA_MAN":
				commission = float64(30+5*r.intn(3)) / 100
				phone = fmt.Sprintf("011.44.1344.%06d", r.intn(1000000))
			case "SA_REP":
				commission = float64(10+5*r.intn(6)) / 100
				phone = fmt.Sprintf("011.44.1644.%06d", r.intn(1000000))
			}
			emps.rows = append(emps.rows, []any{id, first, last, email, phone, hire.Format("2006-01-02"),
				g.job, salary, commission, g.managers[i%len(g.managers)], g.dept, next()})
			id++
		}
	}
	out = append(out, emps)

	hist := tableRows{table: "job_history", columns: []string{"employee_id", "start_date", "end_date", "job_id", "department_id", "updated_at"}}
	// Each employee's earlier jobs follow one another and end the day
	// before the current hire date.
	days := make([]int, len(jobHistory))
	for i := range days {
		days[i] = 180 + r.intn(900)
	}
	start := make([]time.Time, len(jobHistory))
	end := make([]time.Time, len(jobHistory))
	nextStart := map[int]time.Time{} // start of the following job, per employee
	for i := len(jobHistory) - 1; i >= 0; i-- {
		emp := jobHistory[i][0].(int)
		following, ok := nextStart[emp]
		if !ok {
			following = hired[emp]
		}
		end[i] = following.AddDate(0, 0, -1)
		start[i] = end[i].AddDate(0, 0, -days[i])
		nextStart[emp] = start[i]
	}
	for i, h := range jobHistory {
		hist.rows = append(hist.rows, []any{h[0], start[i].Format("2006-01-02"), end[i].Format("2006-01-02"), h[1], h[2], next()})
	}
	return append(out, hist)
}

// uniqueEmail builds the classic upper-case e-mail name (SKING) and makes
// it unique with a number.
func uniqueEmail(used map[string]bool, first, last string) string {
	base := strings.ToUpper(first[:1] + strings.NewReplacer(" ", "", "'", "").Replace(last))
	if len(base) > 22 {
		base = base[:22]
	}
	e := base
	for n := 2; used[e]; n++ {
		e = fmt.Sprintf("%s%d", base, n)
	}
	used[e] = true
	return e
}
