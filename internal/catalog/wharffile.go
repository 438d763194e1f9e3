package catalog

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Keys of wharf's own format, per section.
var (
	wharfTopKeys        = []string{"version", "connections", "lakes", "defaults", "workflows", "alerts"}
	wharfConnectionKeys = []string{"engine", "secret", "mask_salt", "statement_timeout", "max_parallel"}
	wharfLakeKeys       = []string{"url", "compression", "row_group_rows", "file_size", "secret", "format", "iceberg_catalog", "iceberg_catalog_secret"}
	wharfDefaultsKeys   = append([]string{"connection", "lake", "schedule", "cursor", "lookback", "settle", "timezone", "mask_salt", "ingestion_column", "freshness_sla", "parallel", "attempts"}, choiceKeys...)
	wharfWorkflowKeys   = append([]string{"name", "table", "connection", "lake", "cursor", "schedule",
		"timezone", "lookback", "settle", "partition_by", "blueprint", "format", "exclude", "ingestion_column", "freshness_sla", "parallel", "attempts", "namespace"}, choiceKeys...)
)

// wharf reads wharf's own format (YAML or JSON).
func (d *decoder) wharf(top *yaml.Node) *document {
	doc := &document{file: d.file, format: FormatWharf, workflowsPos: d.pos(top)}
	pairs, _ := d.mapping(top, "", "a mapping", wharfTopKeys)
	for _, p := range pairs {
		switch p.key {
		case "version":
			doc.version = d.scalar(p.value, "version")
		case "connections":
			d.wharfConnections(doc, p.value)
		case "lakes":
			d.wharfLakes(doc, p.value)
		case "defaults":
			d.wharfDefaults(doc, p.value)
		case "alerts":
			d.wharfAlerts(doc, p.keyNode, p.value)
		case "workflows":
			doc.workflowsPos = d.pos(p.keyNode)
			items, _ := d.sequence(p.value, "workflows", "a list of workflows")
			for i, item := range items {
				d.wharfWorkflow(doc, i, item)
			}
		}
	}
	return doc
}

func (d *decoder) wharfConnections(doc *document, n *yaml.Node) {
	pairs, _ := d.mapping(n, "connections", "a mapping of connection names to settings", nil)
	for _, p := range pairs {
		path := "connections." + p.key
		kpos := d.pos(p.keyNode)
		c := &rawConnection{name: field{Path: "connections", Value: p.key, Pos: kpos, Set: true},
			engine: unset(path+".engine", kpos), secret: unset(path+".secret", kpos), maskSalt: unset(path+".mask_salt", kpos),
			statementTimeout: unset(path+".statement_timeout", kpos), maxParallel: unset(path+".max_parallel", kpos)}
		settings, _ := d.mapping(p.value, path, "a mapping of connection settings (engine, secret)", wharfConnectionKeys)
		for _, s := range settings {
			f := d.scalar(s.value, path+"."+s.key)
			switch s.key {
			case "engine":
				c.engine = f
			case "secret":
				c.secret = f
			case "mask_salt":
				c.maskSalt = f
			case "statement_timeout":
				c.statementTimeout = f
			case "max_parallel":
				c.maxParallel = f
			}
		}
		doc.connections = append(doc.connections, c)
	}
}

func (d *decoder) wharfLakes(doc *document, n *yaml.Node) {
	pairs, _ := d.mapping(n, "lakes", "a mapping of lake names to settings", nil)
	for _, p := range pairs {
		path := "lakes." + p.key
		kpos := d.pos(p.keyNode)
		l := &rawLake{name: field{Path: "lakes", Value: p.key, Pos: kpos, Set: true},
			url: unset(path+".url", kpos), compression: unset(path+".compression", kpos),
			rowGroupRows: unset(path+".row_group_rows", kpos), fileSize: unset(path+".file_size", kpos),
			secret: unset(path+".secret", kpos), format: unset(path+".format", kpos),
			icebergCat: unset(path+".iceberg_catalog", kpos), icebergSec: unset(path+".iceberg_catalog_secret", kpos)}
		settings, _ := d.mapping(p.value, path, "a mapping of lake settings (url, compression, row_group_rows, file_size, secret, format, iceberg_catalog, iceberg_catalog_secret)", wharfLakeKeys)
		for _, s := range settings {
			f := d.scalar(s.value, path+"."+s.key)
			switch s.key {
			case "url":
				l.url = f
			case "compression":
				l.compression = f
			case "row_group_rows":
				l.rowGroupRows = f
			case "file_size":
				l.fileSize = f
			case "secret":
				l.secret = f
			case "format":
				l.format = f
			case "iceberg_catalog":
				l.icebergCat = f
			case "iceberg_catalog_secret":
				l.icebergSec = f
			}
		}
		doc.lakes = append(doc.lakes, l)
	}
}

func (d *decoder) wharfDefaults(doc *document, n *yaml.Node) {
	pairs, _ := d.mapping(n, "defaults", "a mapping of default workflow settings", wharfDefaultsKeys)
	for _, p := range pairs {
		if d.choice(&doc.defaults.choices, "defaults", p.key, p.keyNode, p.value) {
			continue
		}
		f := d.scalar(p.value, "defaults."+p.key)
		switch p.key {
		case "mask_salt":
			doc.defaults.maskSalt = f
		case "connection":
			doc.defaults.connection = f
		case "lake":
			doc.defaults.lake = f
		case "schedule":
			doc.defaults.schedule = f
		case "cursor":
			doc.defaults.cursor = f
		case "lookback":
			doc.defaults.lookback = f
		case "settle":
			doc.defaults.settle = f
		case "freshness_sla":
			doc.defaults.freshnessSLA = f
		case "parallel":
			doc.defaults.parallel = f
		case "attempts":
			doc.defaults.attempts = f
		case "timezone":
			doc.defaults.timezone = f
		case "ingestion_column":
			doc.defaults.ingestionColumn = f
		}
	}
}

func (d *decoder) wharfWorkflow(doc *document, i int, n *yaml.Node) {
	path := fmt.Sprintf("workflows[%d]", i)
	pos := d.pos(deref(n))
	w := &rawWorkflow{path: path, pos: pos,
		name: unset(path+".name", pos), table: unset(path+".table", pos),
		connection: unset(path+".connection", pos), lake: unset(path+".lake", pos),
		cursor: unset(path+".cursor", pos), lookback: unset(path+".lookback", pos), settle: unset(path+".settle", pos),
		parallel: unset(path+".parallel", pos), attempts: unset(path+".attempts", pos),
		timezone: unset(path+".timezone", pos), schedule: unset(path+".schedule", pos),
		partitionBy: unset(path+".partition_by", pos), blueprint: unset(path+".blueprint", pos),
		namespace: unset(path+".namespace", pos),
		format:    unset(path+".format", pos), fileCount: unset(path+".file_count", pos),
		ingestionColumn: unset(path+".ingestion_column", pos),
		freshnessSLA:    unset(path+".freshness_sla", pos),
	}
	pairs, ok := d.mapping(n, path, "a mapping of workflow settings", wharfWorkflowKeys)
	if !ok {
		return
	}
	for _, p := range pairs {
		if p.key == "exclude" {
			w.excludeKey = field{Path: path + ".exclude", Pos: d.pos(p.keyNode), Set: true}
			w.exclude = d.stringList(p.value, path+".exclude", "a list of table names or globs")
			continue
		}
		if d.choice(&w.choices, path, p.key, p.keyNode, p.value) {
			continue
		}
		f := d.scalar(p.value, path+"."+p.key)
		switch p.key {
		case "name":
			w.name = f
		case "table":
			w.table = f
		case "connection":
			w.connection = f
		case "lake":
			w.lake = f
		case "cursor":
			w.cursor = f
		case "schedule":
			w.schedule = f
		case "timezone":
			w.timezone = f
		case "lookback":
			w.lookback = f
		case "settle":
			w.settle = f
		case "parallel":
			w.parallel = f
		case "attempts":
			w.attempts = f
		case "ingestion_column":
			w.ingestionColumn = f
		case "freshness_sla":
			w.freshnessSLA = f
		case "partition_by":
			w.partitionBy = f
		case "namespace":
			w.namespace = f
		case "blueprint":
			w.blueprint = f
		case "format":
			w.format = f
		}
	}
	doc.workflows = append(doc.workflows, w)
}
