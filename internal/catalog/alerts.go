package catalog

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/suggest"
)

// Events that alert (the catalog's alerts.on).
const (
	AlertFailure      = "failure"       // a run failed for good (its last attempt)
	AlertFreshness    = "freshness"     // a workflow's data is older than its freshness_sla
	AlertSchemaChange = "schema_change" // a run landed a schema that differs from the previous one
)

// AlertEvents are every event, in the order messages list them.
var AlertEvents = []string{AlertFailure, AlertFreshness, AlertSchemaChange}

// Alerts says where wharf posts alerts and on which events (the catalog's
// alerts section). The zero value is "no alerts in the catalog".
type Alerts struct {
	// Webhook is a secret reference (env:VAR, file:PATH or a name) holding
	// a Slack-compatible webhook URL: the URL itself carries a token, so it
	// never goes in the catalog.
	Webhook string
	// On lists the events that alert, in AlertEvents order.
	On []string
}

// Wants reports whether a alerts on event.
func (a Alerts) Wants(event string) bool {
	return a.Webhook != "" && contains(a.On, event)
}

var wharfAlertKeys = []string{"webhook", "on"}

// rawAlerts is the alerts section as written.
type rawAlerts struct {
	key     field // where "alerts" is written
	webhook field
	onKey   field // where "on" is written (Set when it is)
	on      []field
}

func (d *decoder) wharfAlerts(doc *document, k, n *yaml.Node) {
	kpos := d.pos(k)
	a := &rawAlerts{key: field{Path: "alerts", Pos: kpos, Set: true}, webhook: unset("alerts.webhook", kpos)}
	pairs, ok := d.mapping(n, "alerts", "a mapping of alert settings (webhook, on)", wharfAlertKeys)
	if !ok {
		a.key.Bad = true
	}
	for _, p := range pairs {
		switch p.key {
		case "webhook":
			a.webhook = d.scalar(p.value, "alerts.webhook")
		case "on":
			a.onKey = field{Path: "alerts.on", Pos: d.pos(p.keyNode), Set: true}
			a.on = d.stringList(p.value, "alerts.on", "a list of events ("+strings.Join(AlertEvents, ", ")+")")
		}
	}
	doc.alerts = a
}

// alerts checks the alerts section; the zero Alerts when there is none.
func (v *validator) alerts() Alerts {
	a := v.doc.alerts
	if a == nil || a.key.Bad {
		return Alerts{}
	}
	out := Alerts{}
	switch f := a.webhook; {
	case f.Bad:
	case !f.Set || strings.TrimSpace(f.Value) == "":
		v.errorf(f, "required: a secret reference (env:VAR, file:PATH or a secret name) holding the webhook URL")
	case strings.Contains(f.Value, "://") && !strings.HasPrefix(f.Value, "file://"):
		v.errorf(f, "a webhook URL carries its token: keep it in a secret and write its reference here (env:VAR, file:PATH or a secret name)")
	default:
		if _, err := secret.ParseRef(f.Value); err != nil {
			v.errorf(f, "%v", err)
		}
		out.Webhook = f.Value
	}
	if !a.onKey.Set {
		out.On = AlertEvents
		return out
	}
	if len(a.on) == 0 {
		v.errorf(a.onKey, "no events: list some of %s, or leave on out for all of them", strings.Join(AlertEvents, ", "))
		return out
	}
	seen := map[string]bool{}
	for _, f := range a.on {
		switch {
		case !ok(f):
		case !contains(AlertEvents, f.Value):
			v.errorf(f, "%q is not an event: want %s%s", f.Value, orList(AlertEvents), suggest.DidYouMean(f.Value, AlertEvents))
		case seen[f.Value]:
			v.errorf(f, "%q is listed twice", f.Value)
		default:
			seen[f.Value] = true
		}
	}
	for _, e := range AlertEvents {
		if seen[e] {
			out.On = append(out.On, e)
		}
	}
	return out
}

// freshnessSLA checks a freshness_sla: a duration of at least a second.
func (v *validator) freshnessSLA(f field) time.Duration {
	d, good := v.duration(f)
	if good && ok(f) && d < time.Second {
		v.errorf(f, "%q: a freshness SLA must be at least 1s (e.g. 26h)", f.Value)
		return 0
	}
	return d
}

// String describes a for plans: "env:HOOK on failure, freshness".
func (a Alerts) String() string {
	if a.Webhook == "" {
		return "none"
	}
	return fmt.Sprintf("%s on %s", a.Webhook, strings.Join(a.On, ", "))
}
