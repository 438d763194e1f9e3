package catalog

// document is a catalog as read from the file, before defaults and
// validation: every value keeps its position. Both formats are read into it.
type document struct {
	file   string
	format Format
	// version is wharf's "version" key.
	version     field
	connections []*rawConnection
	lakes       []*rawLake
	defaults    rawDefaults
	workflows   []*rawWorkflow
	alerts      *rawAlerts // nil when the file has no alerts section
	// workflowsPos is where the list of workflows starts, for messages
	// about the catalog as a whole.
	workflowsPos Pos
	notices      []string
}

type rawConnection struct {
	name     field // the key, e.g. connections.hr
	engine   field
	secret   field
	maskSalt field
	// statementTimeout bounds each statement wharf runs on the source.
	statementTimeout field
	// maxParallel caps the streams reading from the source at once.
	maxParallel field
}

type rawLake struct {
	name         field
	url          field
	compression  field
	rowGroupRows field
	fileSize     field
	secret       field
	format       field
	icebergCat   field
	icebergSec   field // iceberg_catalog_secret
}

type rawDefaults struct {
	connection, lake, schedule, cursor, lookback, settle, timezone field
	maskSalt, freshnessSLA, parallel, attempts                     field
	ingestionColumn                                                field
	choices                                                        rawChoices
}

type rawWorkflow struct {
	path string // "workflows[2]" or "WorkflowList[2]"
	pos  Pos

	name, table, connection, lake field
	cursor, lookback, timezone    field
	settle, parallel, attempts    field
	ingestionColumn               field
	schedule                      field
	partitionBy, blueprint        field
	namespace                     field
	format, fileCount             field
	freshnessSLA                  field
	choices                       rawChoices

	// exclude lists a pattern's excluded tables; excludeKey is where the
	// exclude key is written (Set when it is).
	exclude    []field
	excludeKey field

	// cursorAuto marks a cursor filled in by a default (see
	// Workflow.CursorAuto).
	cursorAuto bool
	// awsCron requires an AWS 6-field cron pattern (Glue's
	// ScheduleCronPattern).
	awsCron bool
}

func (doc *document) connection(name string) *rawConnection {
	for _, c := range doc.connections {
		if c.name.Value == name {
			return c
		}
	}
	return nil
}

func (doc *document) lake(name string) *rawLake {
	for _, l := range doc.lakes {
		if l.name.Value == name {
			return l
		}
	}
	return nil
}

func (doc *document) connectionNames() []string {
	out := make([]string, len(doc.connections))
	for i, c := range doc.connections {
		out[i] = c.name.Value
	}
	return out
}

func (doc *document) lakeNames() []string {
	out := make([]string, len(doc.lakes))
	for i, l := range doc.lakes {
		out[i] = l.name.Value
	}
	return out
}
