package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// glueListKey is the top-level key of an AWS Glue blueprint workflow catalog.
const glueListKey = "WorkflowList"

// Keys of one Glue workflow entry, as AWS writes them.
var glueKeys = []string{
	"WorkflowName", "SourceTable", "SecretName", "DestinationBucketName",
	"DeltaColumnName", "TransactionTimestampColumnName",
	"DestinationFileFormat", "DestinationFileCount", "S3PartitionColumnName",
	"JobScheduleType", "ScheduleCronPattern",
	"GlueExecutionRole", "NetworkConnectionName", "NumberOfWorkers",
	// wharf's extensions of the format (docs/catalog.md).
	"WharfLookback", "WharfSettle", "WharfIngestionColumn", "WharfAttempts",
	"WharfColumns", "WharfExcludeColumns", "WharfCast", "WharfOnSchemaChange",
}

// glueChoices are the Glue extension keys of column choices, with the key
// of wharf's format each stands for. mask is not among them: its sha256
// needs a connection's mask_salt, which a Glue catalog has no place for.
var glueChoices = map[string]string{
	"WharfColumns":        "columns",
	"WharfExcludeColumns": "exclude_columns",
	"WharfCast":           "cast",
	"WharfOnSchemaChange": "on_schema_change",
}

// glueIgnored are Glue keys wharf accepts but does not need, with the
// notice given once per key.
var glueIgnored = map[string]string{
	"GlueExecutionRole":     "GlueExecutionRole is not needed by wharf (ignored): no IAM role runs the job",
	"NetworkConnectionName": "NetworkConnectionName is not needed by wharf (ignored): wharf connects to the database directly",
}

const (
	glueDefaultCursor = "updated_at"
	glueDefaultCron   = "10 21 * * ? *"
)

// s3BucketRE is the S3 bucket naming rule (3-63 of a-z 0-9 . -, starting
// and ending with a letter or digit).
var s3BucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// isGlue reports whether the top-level mapping is a Glue workflow catalog.
func isGlue(top *yaml.Node) bool {
	top = deref(top)
	if top.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if strings.EqualFold(top.Content[i].Value, glueListKey) {
			return true
		}
	}
	return false
}

// glue reads an AWS Glue blueprint workflow catalog: {"WorkflowList": [...]}.
// Each entry becomes a workflow, each SecretName a connection (engine from
// the secret) and each DestinationBucketName a lake.
func (d *decoder) glue(top *yaml.Node) *document {
	doc := &document{file: d.file, format: FormatGlue, workflowsPos: d.pos(top)}
	pairs, _ := d.mapping(top, "", "a mapping", []string{glueListKey})
	g := &glueState{doc: doc, noticed: map[string]bool{}}
	for _, p := range pairs {
		doc.workflowsPos = d.pos(p.keyNode)
		items, _ := d.sequence(p.value, glueListKey, "a list of workflow entries")
		for i, item := range items {
			d.glueEntry(g, i, item)
		}
	}
	if len(g.onDemandPatterns) > 0 {
		doc.notices = append(doc.notices, fmt.Sprintf(
			"ScheduleCronPattern is ignored where JobScheduleType is OnDemand (%s)", strings.Join(g.onDemandPatterns, ", ")))
	}
	return doc
}

// glueState is what one Glue document's entries share.
type glueState struct {
	doc              *document
	noticed          map[string]bool
	onDemandPatterns []string // workflows with a pattern but no Cron schedule
}

func (g *glueState) notice(key, msg string) {
	if !g.noticed[key] {
		g.noticed[key] = true
		g.doc.notices = append(g.doc.notices, msg)
	}
}

func (d *decoder) glueEntry(g *glueState, i int, n *yaml.Node) {
	path := fmt.Sprintf("%s[%d]", glueListKey, i)
	pos := d.pos(deref(n))
	pairs, ok := d.mapping(n, path, "a workflow entry (a JSON object)", glueKeys)
	if !ok {
		return
	}
	f := map[string]field{}
	for _, k := range glueKeys {
		f[k] = unset(path+"."+k, pos)
	}
	var choices rawChoices
	for _, p := range pairs {
		if msg, ignored := glueIgnored[p.key]; ignored {
			g.notice(p.key, msg)
			continue
		}
		if key, ok := glueChoices[p.key]; ok {
			d.choiceAs(&choices, path, p.key, key, p.keyNode, p.value)
			continue
		}
		f[p.key] = d.scalar(p.value, path+"."+p.key)
	}
	w := &rawWorkflow{
		path: path, pos: pos,
		name:            f["WorkflowName"],
		table:           f["SourceTable"],
		partitionBy:     f["S3PartitionColumnName"],
		format:          f["DestinationFileFormat"],
		fileCount:       f["DestinationFileCount"],
		lookback:        f["WharfLookback"],
		settle:          f["WharfSettle"],
		parallel:        f["NumberOfWorkers"],
		attempts:        f["WharfAttempts"],
		ingestionColumn: f["WharfIngestionColumn"],
		timezone:        unset(path+".timezone", pos),
		blueprint:       unset(path+".blueprint", pos),
		choices:         choices,
	}
	if w.fileCount.Set && !w.fileCount.Bad {
		g.notice("DestinationFileCount", "DestinationFileCount is kept as a hint only: wharf rolls files by size (lake file_size, default 256MiB)")
	}
	d.glueConnection(g, w, f["SecretName"])
	d.glueLake(g, w, f["DestinationBucketName"])
	d.glueCursor(w, f["DeltaColumnName"], f["TransactionTimestampColumnName"])
	d.glueSchedule(g, w, f["JobScheduleType"], f["ScheduleCronPattern"])
	g.doc.workflows = append(g.doc.workflows, w)
}

// glueConnection makes the secret a connection named after it; its engine
// comes from the secret at run time.
func (d *decoder) glueConnection(g *glueState, w *rawWorkflow, secret field) {
	w.connection = secret
	if !secret.Set || secret.Bad || strings.TrimSpace(secret.Value) == "" {
		if !secret.Bad {
			d.errs.add(secret.Pos, secret.Path, "required: the name of the secret holding the database connection")
		}
		w.connection.Bad = true
		return
	}
	if g.doc.connection(secret.Value) == nil {
		g.doc.connections = append(g.doc.connections, &rawConnection{
			name:   secret,
			engine: unset(secret.Path, secret.Pos),
			secret: secret,
		})
	}
}

// glueLake makes the bucket a lake named after it: a full URL is used as
// is, a bare bucket name means s3://NAME.
func (d *decoder) glueLake(g *glueState, w *rawWorkflow, bucket field) {
	w.lake = bucket
	if !bucket.Set || bucket.Bad || strings.TrimSpace(bucket.Value) == "" {
		if !bucket.Bad {
			d.errs.add(bucket.Pos, bucket.Path, "required: an S3 bucket name or a lake URL (s3://, gs://, azblob://, file:///)")
		}
		w.lake.Bad = true
		return
	}
	if g.doc.lake(bucket.Value) != nil {
		return
	}
	url := bucket
	if !strings.Contains(bucket.Value, "://") {
		if !s3BucketRE.MatchString(bucket.Value) || strings.Contains(bucket.Value, "..") {
			d.errs.add(bucket.Pos, bucket.Path, "%q is neither an S3 bucket name (3-63 of a-z 0-9 . -) nor a URL (s3://..., gs://..., azblob://..., file:///...)", bucket.Value)
			w.lake.Bad = true
			return
		}
		url.Value = "s3://" + bucket.Value
	}
	pos := bucket.Pos
	g.doc.lakes = append(g.doc.lakes, &rawLake{
		name:         bucket,
		url:          url,
		compression:  unset(bucket.Path, pos),
		rowGroupRows: unset(bucket.Path, pos),
		fileSize:     unset(bucket.Path, pos),
		secret:       unset(bucket.Path, pos),
		format:       unset(bucket.Path, pos),
		icebergCat:   unset(bucket.Path, pos),
		icebergSec:   unset(bucket.Path, pos),
	})
}

// glueCursor reads DeltaColumnName and its synonym
// TransactionTimestampColumnName; with neither, updated_at is used when the
// table has it.
func (d *decoder) glueCursor(w *rawWorkflow, delta, txts field) {
	switch {
	case delta.Bad || txts.Bad:
		w.cursor = delta
		w.cursor.Bad = true
	case delta.Set && txts.Set && delta.Value != txts.Value:
		d.errs.add(txts.Pos, txts.Path, "%q differs from DeltaColumnName %q (line %d): they name the same cursor column, keep one",
			txts.Value, delta.Value, delta.Pos.Line)
		w.cursor = delta
		w.cursor.Bad = true
	case delta.Set:
		w.cursor = delta
	case txts.Set:
		w.cursor = txts
	default:
		w.cursor = field{Path: delta.Path, Pos: delta.Pos, Value: glueDefaultCursor, Set: true}
		w.cursorAuto = true
	}
}

// glueSchedule reads JobScheduleType (OnDemand or Cron) and
// ScheduleCronPattern (an AWS 6-field pattern, default "10 21 * * ? *").
func (d *decoder) glueSchedule(g *glueState, w *rawWorkflow, kind, pattern field) {
	switch {
	case kind.Bad:
		w.schedule = kind
	case !kind.Set || strings.EqualFold(kind.Value, "OnDemand") || kind.Value == "":
		w.schedule = field{Path: kind.Path, Pos: kind.Pos, Value: string(OnDemand), Set: true}
		if pattern.Set && pattern.Value != "" {
			name := w.name.Value
			if name == "" {
				name = w.path
			}
			g.onDemandPatterns = append(g.onDemandPatterns, name)
		}
	case strings.EqualFold(kind.Value, "Cron"):
		w.awsCron = true
		w.schedule = pattern
		if !pattern.Set || (pattern.Value == "" && !pattern.Bad) {
			w.schedule = field{Path: pattern.Path, Pos: pattern.Pos, Value: glueDefaultCron, Set: true}
		}
	default:
		d.errs.add(kind.Pos, kind.Path, "%q: want OnDemand or Cron", kind.Value)
		w.schedule = kind
		w.schedule.Bad = true
	}
}
