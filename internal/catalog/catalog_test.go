package catalog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// badFixtures maps each testdata/*.bad.* file to the exact text of the
// error Load returns: every problem of the file, one per line, in file
// order, each with its line and column.
var badFixtures = map[string]string{
	"tables.bad.yaml": `testdata/tables.bad.yaml:6:22: workflows[0].table: 'my "odd" schema.t': write a name that holds quotes in double quotes, each " doubled: "my ""odd"" name"
testdata/tables.bad.yaml:7:22: workflows[1].table: '"unterminated.t': unterminated quoted name (write a " inside a quoted name as "")
testdata/tables.bad.yaml:8:22: workflows[2].table: '"s"x.t': unexpected "x.t" after the quoted name "s" (want "schema"."table")
testdata/tables.bad.yaml:9:22: workflows[3].table: "public.t.able": want schema.table or table (one dot at most; write a name that holds dots in double quotes: schema."t.able")
testdata/tables.bad.yaml:10:22: workflows[4].table: '"".t': want schema.table or table (empty part)
testdata/tables.bad.yaml:14:22: workflows[8].table: public.regions is the table workflow h (line 13) already lands from connection hr into lake raw: its rows would land twice; keep one workflow
testdata/tables.bad.yaml:16:22: workflows[10].table: "sales*.t": the schema must be written out; patterns (* ? [) apply to table names only`,
	"alerts.bad.yaml": `testdata/alerts.bad.yaml:9:18: defaults.freshness_sla: "soon" is not a duration: want e.g. 0s, 10m, 1h30m
testdata/alerts.bad.yaml:11:12: alerts.webhook: a webhook URL carries its token: keep it in a secret and write its reference here (env:VAR, file:PATH or a secret name)
testdata/alerts.bad.yaml:12:17: alerts.on[1]: "freshnes" is not an event: want failure, freshness or schema_change (did you mean "freshness"?)
testdata/alerts.bad.yaml:12:27: alerts.on[2]: "failure" is listed twice
testdata/alerts.bad.yaml:13:3: alerts: unknown key "channel" (known keys: on, webhook)
testdata/alerts.bad.yaml:17:20: workflows[0].freshness_sla: "500ms": a freshness SLA must be at least 1s (e.g. 26h)`,
	"alerts_empty.bad.yaml": `testdata/alerts_empty.bad.yaml:8:1: alerts.webhook: required: a secret reference (env:VAR, file:PATH or a secret name) holding the webhook URL
testdata/alerts_empty.bad.yaml:9:3: alerts.on: no events: list some of failure, freshness, schema_change, or leave on out for all of them`,
	"same_table.bad.yaml": `testdata/same_table.bad.yaml:10:38: workflows[1].table: public.regions is the table workflow a (line 9) already lands from connection hr into lake raw: its rows would land twice; keep one workflow
testdata/same_table.bad.yaml:14:39: workflows[5].table: main.regions is the table workflow e (line 13) already lands from connection app into lake raw: its rows would land twice; keep one workflow
testdata/same_table.bad.yaml:15:38: workflows[6].table: other.regions is the table workflow c (line 11) already lands from connection hr into lake raw: its rows would land twice; keep one workflow`,
	"columns.bad.yaml": `testdata/columns.bad.yaml:6:3: defaults.columns: columns is a choice per workflow: tables differ; use exclude_columns in defaults
testdata/columns.bad.yaml:7:17: defaults.mask.phone: "md5" is not a mask: want sha256, redact or null
testdata/columns.bad.yaml:8:21: defaults.on_schema_change: "strict" is not a policy: want evolve, freeze or ignore_new
testdata/columns.bad.yaml:12:27: workflows[0].columns[2]: column "id" is listed twice
testdata/columns.bad.yaml:13:5: workflows[0].exclude_columns: set columns or exclude_columns, not both
testdata/columns.bad.yaml:14:12: workflows[0].cast.n_plain: column "n_plain" is not in columns: it does not land
testdata/columns.bad.yaml:14:21: workflows[0].cast.n_plain: "int" is not a cast: want string, json, float64 or decimal(P,S)
testdata/columns.bad.yaml:14:26: workflows[0].cast.ia: column "ia" is not in columns: it does not land
testdata/columns.bad.yaml:14:36: workflows[0].cast.wide: column "wide" is not in columns: it does not land
testdata/columns.bad.yaml:14:42: workflows[0].cast.wide: "decimal(40,2)": precision must be 1 to 38 and scale 0 to the precision
testdata/columns.bad.yaml:14:74: workflows[0].cast.notes: column "notes" is not in columns: it does not land
testdata/columns.bad.yaml:14:81: workflows[0].cast.notes: "decimal(5,7)": precision must be 1 to 38 and scale 0 to the precision
testdata/columns.bad.yaml:15:12: workflows[0].mask.email: column "email" is both cast and masked: a mask lands a hash or placeholder, not the value; remove the cast
testdata/columns.bad.yaml:15:12: workflows[0].mask.email: sha256 needs a salt: set mask_salt (a secret reference) on connection db or in defaults, so that hashes cannot be reversed by a dictionary
testdata/columns.bad.yaml:15:27: workflows[0].mask.phone: column "phone" is not in columns: it does not land
testdata/columns.bad.yaml:15:42: workflows[0].mask.ssn: column "ssn" is not in columns: it does not land
testdata/columns.bad.yaml:15:55: workflows[0].mask.notes: column "notes" is both cast and masked: a mask lands a hash or placeholder, not the value; remove the cast
testdata/columns.bad.yaml:15:55: workflows[0].mask.notes: column "notes" is not in columns: it does not land
testdata/columns.bad.yaml:15:62: workflows[0].mask.notes: "hash" is not a mask: want sha256, redact or null
testdata/columns.bad.yaml:16:23: workflows[0].on_schema_change: "evolv" is not a policy: want evolve, freeze or ignore_new (did you mean "evolve"?)
testdata/columns.bad.yaml:19:5: workflows[1].columns: an empty list lands no column: leave columns out to land them all
testdata/columns.bad.yaml:20:12: workflows[1].cast."quoted": column "\"quoted\"": write the name without quotes; wharf quotes identifiers itself`,
	"duplicate_keys.bad.yaml": `testdata/duplicate_keys.bad.yaml:8:5: workflows[0]: duplicate key "table" (first at line 7)
testdata/duplicate_keys.bad.yaml:9:13: workflows[0].cursor: want a string, got boolean true (quote it if you mean the text)
testdata/duplicate_keys.bad.yaml:10:1: duplicate key "connections" (first at line 1)`,
	"empty.bad.yaml": `testdata/empty.bad.yaml: the catalog is empty`,
	"glue.bad.json": `testdata/glue.bad.json:9:41: WorkflowList[0].TransactionTimestampColumnName: "modified_at" differs from DeltaColumnName "updated_at" (line 8): they name the same cursor column, keep one
testdata/glue.bad.json:10:32: WorkflowList[0].DestinationFileFormat: "csv": only parquet is supported for now
testdata/glue.bad.json:11:31: WorkflowList[0].DestinationFileCount: "0" is not a whole number of at least 1
testdata/glue.bad.json:12:26: WorkflowList[0].JobScheduleType: "Weekly": want OnDemand or Cron
testdata/glue.bad.json:14:5: WorkflowList[1].SecretName: required: the name of the secret holding the database connection
testdata/glue.bad.json:15:23: WorkflowList[1].WorkflowName: duplicate workflow name "rds_to_s3_public_regions" (first at line 4)
testdata/glue.bad.json:17:32: WorkflowList[1].DestinationBucketName: "Data_Lake" is neither an S3 bucket name (3-63 of a-z 0-9 . -) nor a URL (s3://..., gs://..., azblob://..., file:///...)
testdata/glue.bad.json:19:30: WorkflowList[1].ScheduleCronPattern: "10 21 * * *": want an AWS cron pattern of 6 fields (minutes hours day-of-month month day-of-week year), e.g. "10 21 * * ? *"
testdata/glue.bad.json:20:7: WorkflowList[1]: unknown key "Schedule" (known keys: DeltaColumnName, DestinationBucketName, DestinationFileCount, DestinationFileFormat, GlueExecutionRole, JobScheduleType, NetworkConnectionName, NumberOfWorkers, S3PartitionColumnName, ScheduleCronPattern, SecretName, SourceTable, TransactionTimestampColumnName, WharfAttempts, WharfCast, WharfColumns, WharfExcludeColumns, WharfIngestionColumn, WharfLookback, WharfOnSchemaChange, WharfSettle, WorkflowName)
testdata/glue.bad.json:22:5: WorkflowList[2].DestinationBucketName: required: an S3 bucket name or a lake URL (s3://, gs://, azblob://, file:///)
testdata/glue.bad.json:28:31: WorkflowList[2].DestinationFileCount: "1.5" is not a whole number of at least 1
testdata/glue.bad.json:29:7: WorkflowList[2]: unknown key "workflowName" (did you mean "WorkflowName"?)
testdata/glue.bad.json:31:5: WorkflowList[3]: want a workflow entry (a JSON object), got string "rds_to_s3_public_employees"`,
	"lake_format.bad.yaml": `testdata/lake_format.bad.yaml:6:13: lakes.delta.format: "delta" is not supported: want parquet or iceberg
testdata/lake_format.bad.yaml:9:22: lakes.plain.iceberg_catalog: only an iceberg lake has a catalog: set format: iceberg, or remove iceberg_catalog
testdata/lake_format.bad.yaml:13:22: lakes.rest.iceberg_catalog: "thrift://hive:9083" is not supported: want sql:sqlite:PATH, sql:postgres://... or rest:https://... (leave it out for a catalog in the state store)
testdata/lake_format.bad.yaml:17:22: lakes.pgcat.iceberg_catalog: sql:postgres://wharf:xxxxx@db/iceberg: credentials never go in the catalog: give the password through PGPASSWORD or ~/.pgpass
testdata/lake_format.bad.yaml:21:55: workflows[2].namespace: "a.b": an Iceberg namespace is one non-empty name without dots`,
	"rest_catalog.bad.yaml": `testdata/rest_catalog.bad.yaml:7:22: lakes.ftp.iceberg_catalog: rest:ftp://catalog.example/api: want rest:https://HOST/PATH, the catalog's base URI (rest:http:// for a server without TLS)
testdata/rest_catalog.bad.yaml:11:22: lakes.userinfo.iceberg_catalog: rest:https://me:xxxxx@catalog.example/api: the URL carries a user name or password: credentials never go in the catalog: put the token (or OAuth2 client credentials) in a secret and name it in iceberg_catalog_secret
testdata/rest_catalog.bad.yaml:15:22: lakes.token.iceberg_catalog: rest:https://catalog.example/api?token=xxxxx: parameter token: credentials never go in the catalog: put the token (or OAuth2 client credentials) in a secret and name it in iceberg_catalog_secret
testdata/rest_catalog.bad.yaml:19:22: lakes.region.iceberg_catalog: rest:https://glue.eu-west-1.amazonaws.com/iceberg?aws_region=eu-west-1: aws_region needs aws_service (the AWS service to sign requests for: glue, s3tables)
testdata/rest_catalog.bad.yaml:24:29: lakes.sqlsecret.iceberg_catalog_secret: only a REST catalog (iceberg_catalog: rest:https://...) takes a secret; a SQL catalog's PostgreSQL password comes from PGPASSWORD or ~/.pgpass
testdata/rest_catalog.bad.yaml:29:29: lakes.pasted.iceberg_catalog_secret: not a secret reference (value not shown): want env:VAR, file:PATH or a secret name of letters, digits and / _ + = . @ -
testdata/rest_catalog.bad.yaml:33:22: lakes.unknown.iceberg_catalog: rest:https://catalog.example/api?prefix=p: unknown parameter "prefix": a rest: catalog takes warehouse, scope, aws_service, aws_region, timeout`,
	"lake_secret.bad.yaml": `testdata/lake_secret.bad.yaml:6:13: lakes.local.secret: a local directory takes no secret: lake secrets hold object store keys (s3://, gs://, azblob://)
testdata/lake_secret.bad.yaml:9:13: lakes.pasted.secret: not a secret reference (value not shown): want env:VAR, file:PATH or a secret name of letters, digits and / _ + = . @ -`,
	"no_connections.bad.yaml": `testdata/no_connections.bad.yaml:6:1: connections: none defined: every workflow needs a connection
testdata/no_connections.bad.yaml:7:5: workflows[0].lake: required: 2 lakes are defined (raw, cold): set lake here or in defaults`,
	"patterns.bad.yaml": `testdata/patterns.bad.yaml:10:12: workflows[0].table: "public.[abc": malformed table pattern (want e.g. public.* or sales.order_?; [ opens a class that ] must close)
testdata/patterns.bad.yaml:11:11: workflows[1].name: workflow name "hr {table}" of a table pattern is not safe: use letters, digits, _ . - and {table} (names become file names)
testdata/patterns.bad.yaml:14:12: workflows[2].table: "*.orders": the schema must be written out; patterns (* ? [) apply to table names only
testdata/patterns.bad.yaml:17:5: workflows[3].exclude: applies to table patterns only (e.g. table: "public.*"); "public.orders" is one table
testdata/patterns.bad.yaml:20:15: workflows[4].exclude[0]: "sales.orders": schema "sales" is not the pattern's schema "public"
testdata/patterns.bad.yaml:20:29: workflows[4].exclude[1]: empty table name
testdata/patterns.bad.yaml:20:33: workflows[4].exclude[2]: "x[": malformed table pattern ([ opens a class that ] must close)
testdata/patterns.bad.yaml:20:39: workflows[4].exclude[3]: want a single value, got a mapping
testdata/patterns.bad.yaml:23:14: workflows[5].exclude: "public.orders": write the table name only (the pattern "*" has no schema)
testdata/patterns.bad.yaml:26:14: workflows[6].exclude: want a list of table names or globs, got a mapping`,
	"references.bad.yaml": `testdata/references.bad.yaml:8:3: connections: connection name "bad name" is not safe: use letters, digits, _ . - (names become file names and log fields)
testdata/references.bad.yaml:17:9: defaults.lake: unknown lake "rawx" (did you mean "raw"?); defined: raw, archive
testdata/references.bad.yaml:20:17: workflows[0].connection: unknown connection "hrr" (did you mean "hr"?); defined: hr, sales, bad name
testdata/references.bad.yaml:22:11: workflows[1].name: duplicate workflow name "hr_regions" (first at line 19)
testdata/references.bad.yaml:25:11: workflows[2].name: workflow name "HR_Regions" differs from "hr_regions" (line 19) only in case: names become file names
testdata/references.bad.yaml:28:11: workflows[3].name: workflow name "../../etc/passwd" is not safe: use letters, digits, _ . - (names become file names and log fields)
testdata/references.bad.yaml:31:11: workflows[4].name: workflow name ".hidden" must not start with "." (names become file names)
testdata/references.bad.yaml:34:5: workflows[5].name: required: a unique workflow name
testdata/references.bad.yaml:34:5: workflows[5].connection: required: 3 connections are defined (hr, sales, bad name): set connection here or in defaults
testdata/references.bad.yaml:35:5: workflows[6].connection: required: 3 connections are defined (hr, sales, bad name): set connection here or in defaults`,
	"scalar.bad.yaml": `testdata/scalar.bad.yaml:1:1: want a mapping at the top (connections, lakes, workflows, ...) or a Glue catalog {"WorkflowList": [...]}, got a list`,
	"schedules.bad.yaml": `testdata/schedules.bad.yaml:6:37: workflows[0].schedule: cron(10 25 * * ? *): hours field "25" out of range 0-23
testdata/schedules.bad.yaml:7:37: workflows[1].schedule: cron(10 21 * * *): AWS cron has 6 fields (minutes hours day-of-month month day-of-week year), got 5
testdata/schedules.bad.yaml:8:37: workflows[2].schedule: cron(10 21 1 * MON *): day-of-month "1" and day-of-week "MON" are both set: AWS cron needs "?" in one of them
testdata/schedules.bad.yaml:9:37: workflows[3].schedule: cron(10 21 ? * ? *): day-of-month and day-of-week are both "?": set one of them
testdata/schedules.bad.yaml:10:37: workflows[4].schedule: cron(0 12 ? * 0 *): day-of-week field "0" out of range 1-7 or SUN-SAT
testdata/schedules.bad.yaml:11:37: workflows[5].schedule: cron(0 12 ? * 8 *): day-of-week field "8" out of range 1-7 or SUN-SAT
testdata/schedules.bad.yaml:12:37: workflows[6].schedule: cron(60 * * * ? *): minutes field "60" out of range 0-59
testdata/schedules.bad.yaml:13:37: workflows[7].schedule: cron(0 12 * 13 ? *): month field "13" out of range 1-12 or JAN-DEC
testdata/schedules.bad.yaml:14:37: workflows[8].schedule: cron(0 12 * * ? 2200): year field "2200" out of range 1970-2199
testdata/schedules.bad.yaml:15:37: workflows[9].schedule: cron(0 12 ? * MON#6 *): day-of-week field "MON#6": the week after # must be 1-5
testdata/schedules.bad.yaml:16:37: workflows[10].schedule: cron(*/0 * * * ? *): minutes field "*/0": step "0" is not a whole number 1-59
testdata/schedules.bad.yaml:17:37: workflows[11].schedule: cron(0 18-9 * * ? *): hours field "18-9": range runs backwards
testdata/schedules.bad.yaml:18:37: workflows[12].schedule: cron(0 12 32W * ? *): day-of-month field "32" out of range 1-31
testdata/schedules.bad.yaml:19:37: workflows[13].schedule: cron(0 12 * JANUARY ? *): month field "JANUARY" is not valid: want 1-12 or JAN-DEC
testdata/schedules.bad.yaml:20:37: workflows[14].schedule: "* * ? * *": day-of-month field (field 3 of 5) "?": a 5-field pattern is standard cron, which has no "?"; an AWS pattern has 6 fields (minutes hours day-of-month month day-of-week year), e.g. "* * ? * * *"
testdata/schedules.bad.yaml:21:37: workflows[15].schedule: "0 0 L * *": day-of-month field "L": this use of L or W is not allowed here (AWS: L and nW in day-of-month, L, nL and n#k in day-of-week)
testdata/schedules.bad.yaml:22:37: workflows[16].schedule: "0 0 * * 8": day-of-week field "8" out of range 0-7 or SUN-SAT
testdata/schedules.bad.yaml:23:37: workflows[17].schedule: "0 0 * *": want on_demand, cron(M H DOM MON DOW Y), a 6-field AWS or 5-field standard cron pattern, @hourly/@daily/@weekly/@monthly/@yearly or rate(N minutes|hours|days)
testdata/schedules.bad.yaml:24:37: workflows[18].schedule: "@every 5m": unknown shortcut: want @hourly, @daily, @weekly, @monthly or @yearly
testdata/schedules.bad.yaml:25:37: workflows[19].schedule: rate(1 minutes): use "minute" for a value of 1
testdata/schedules.bad.yaml:26:37: workflows[20].schedule: rate(5 minute): use "minutes" for a value above 1
testdata/schedules.bad.yaml:27:37: workflows[21].schedule: rate(0 hours): value "0" is not a whole number of at least 1
testdata/schedules.bad.yaml:28:37: workflows[22].schedule: rate(2 weeks): unit "weeks": want minute(s), hour(s) or day(s)
testdata/schedules.bad.yaml:29:37: workflows[23].schedule: "daily": want on_demand, cron(M H DOM MON DOW Y), a 6-field AWS or 5-field standard cron pattern, @hourly/@daily/@weekly/@monthly/@yearly or rate(N minutes|hours|days)
testdata/schedules.bad.yaml:30:78: workflows[24].timezone: time zone "Europe/Pariss" is not a known IANA name (e.g. UTC, Europe/Paris)`,
	"secrets.bad.yaml": `testdata/secrets.bad.yaml:4:13: connections.inline_url.secret: inline connection URL with a password (postgres://app:xxxxx@db.example:5432/hr): put it in a secret and write env:VAR, file:PATH or a secret name here
testdata/secrets.bad.yaml:7:13: connections.inline_dsn.secret: looks like an inline connection string with a password (value not shown): put it in a secret and write env:VAR, file:PATH or a secret name here
testdata/secrets.bad.yaml:10:13: connections.pasted_password.secret: not a secret reference (value not shown): want env:VAR, file:PATH or a secret name of letters, digits and / _ + = . @ -
testdata/secrets.bad.yaml:13:13: connections.bad_env.secret: env:"HR-DB-URL": not an environment variable name (want letters, digits and _, not starting with a digit)
testdata/secrets.bad.yaml:16:13: connections.empty.secret: required: a secret reference (env:VAR, file:PATH or a secret name); credentials never go in the catalog
testdata/secrets.bad.yaml:19:10: lakes.raw.url: URL s3://AKIAEXAMPLE:xxxxx@bucket/raw carries a password: credentials never go in the catalog (use the cloud's own credentials)
testdata/secrets.bad.yaml:21:10: lakes.keyid.url: URL carries a user name before @ (value not shown): credentials never go in the catalog; name a secret on the lake (secret: env:VAR) or use the store's standard credentials
testdata/secrets.bad.yaml:23:10: lakes.query.url: URL s3://bucket/raw?access_key_id=xxxxx&region=eu-west-1&secret_access_key=xxxxx carries credentials in its query (access_key_id, secret_access_key): credentials never go in the catalog; name a secret on the lake (secret: env:VAR) or use the store's standard credentials
testdata/secrets.bad.yaml:25:10: lakes.sas.url: URL azblob://container?sig=xxxxx&sv=2024-01-01 carries credentials in its query (sig): credentials never go in the catalog; name a secret on the lake (secret: env:VAR) or use the store's standard credentials`,
	"syntax.bad.json": `testdata/syntax.bad.json:3:46: JSON syntax error: invalid character '}' looking for beginning of object key string`,
	"glue_choices.bad.json": `testdata/glue_choices.bad.json:3:18: WorkflowList[0].WharfCast.total: column "total" is not in columns: it does not land
testdata/glue_choices.bad.json:3:27: WorkflowList[0].WharfCast.total: "int" is not a cast: want string, json, float64 or decimal(P,S)
testdata/glue_choices.bad.json:3:80: WorkflowList[0].WharfOnSchemaChange: "never" is not a policy: want evolve, freeze or ignore_new`,
	// YAML takes a trailing comma; a Glue catalog must stay JSON.
	"trailing_comma.bad.json": `testdata/trailing_comma.bad.json:3:77: JSON syntax error: invalid character '}' looking for beginning of object key string`,
	"syntax.bad.yaml":         `testdata/syntax.bad.yaml:4: YAML syntax error: did not find expected key`,
	"control.bad.json":        `testdata/control.bad.json:2:15: character U+007F is not allowed raw in a catalog: write it as the escape \u007F inside a double-quoted string`,
	"utf8.bad.yaml":           `testdata/utf8.bad.yaml:2:40: byte 0xff is not UTF-8: a catalog is UTF-8 text`,
	"max_parallel.bad.yaml": `testdata/max_parallel.bad.yaml:2:54: connections.a.max_parallel: "0" is not a whole number from 1 to 64 (streams reading from this connection at once)
testdata/max_parallel.bad.yaml:3:51: connections.b.max_parallel: "65" is not a whole number from 1 to 64 (streams reading from this connection at once)
testdata/max_parallel.bad.yaml:4:54: connections.c.max_parallel: "two" is not a whole number from 1 to 64 (streams reading from this connection at once)`,
	"merge_cycle.bad.yaml": `testdata/merge_cycle.bad.yaml:10:9: workflows[0]: the merge key (<<) names the mapping it is part of (*hourly, anchored at line 7): a cycle`,
	"timeouts.bad.yaml": `testdata/timeouts.bad.yaml:2:59: connections.a.statement_timeout: "-1s": a statement_timeout cannot be negative
testdata/timeouts.bad.yaml:3:56: connections.b.statement_timeout: "500us": a statement timeout is at least 1ms (0s: none)
testdata/timeouts.bad.yaml:4:56: connections.c.statement_timeout: "5 minutes" is not a duration: want e.g. 0s, 10m, 1h30m`,
	"two_docs.bad.yaml": `testdata/two_docs.bad.yaml:3:1: more than one YAML document (---): a catalog is one document`,
	"types.bad.yaml": `testdata/types.bad.yaml:2:3: connections: want a mapping of connection names to settings, got a list
testdata/types.bad.yaml:5:10: lakes.raw.url: want a single value, got a list
testdata/types.bad.yaml:6:21: lakes.raw.row_group_rows: "1.5" is not a whole number of rows of at least 1
testdata/types.bad.yaml:7:11: defaults: want a mapping of default workflow settings, got string "none"
testdata/types.bad.yaml:9:3: workflows: want a list of workflows, got a mapping`,
	"unknown_keys.bad.yaml": `testdata/unknown_keys.bad.yaml:2:1: unknown key "conections" (did you mean "connections"?)
testdata/unknown_keys.bad.yaml:6:3: connections.hr.secret: required: a secret reference (env:VAR, file:PATH or a secret name); credentials never go in the catalog
testdata/unknown_keys.bad.yaml:8:5: connections.hr: unknown key "secrett" (did you mean "secret"?)
testdata/unknown_keys.bad.yaml:10:3: lakes.raw.url: required: the lake's URL (file:///PATH, s3://BUCKET/PREFIX, gs://BUCKET, azblob://CONTAINER)
testdata/unknown_keys.bad.yaml:11:5: lakes.raw: unknown key "URL" (did you mean "url"?)
testdata/unknown_keys.bad.yaml:12:5: lakes.raw: unknown key "compresion" (did you mean "compression"?)
testdata/unknown_keys.bad.yaml:14:3: defaults: unknown key "schedul" (did you mean "schedule"?)
testdata/unknown_keys.bad.yaml:18:5: workflows[0]: unknown key "partitionBy" (did you mean "partition_by"?)
testdata/unknown_keys.bad.yaml:19:5: workflows[0]: unknown key "shedule" (did you mean "schedule"?)
testdata/unknown_keys.bad.yaml:20:5: workflows[0]: unknown key "color" (known keys: attempts, blueprint, cast, columns, connection, cursor, exclude, exclude_columns, format, freshness_sla, ingestion_column, lake, lookback, mask, name, namespace, on_schema_change, parallel, partition_by, schedule, settle, table, timezone)`,
	"values.bad.yaml": `testdata/values.bad.yaml:1:10: version: "2" is not supported: only version 1
testdata/values.bad.yaml:4:13: connections.hr.engine: "postgresql" is not supported: want postgres, mysql or sqlite (did you mean "postgres"?)
testdata/values.bad.yaml:6:3: connections.nosecret.secret: required: a secret reference (env:VAR, file:PATH or a secret name); credentials never go in the catalog
testdata/values.bad.yaml:10:10: lakes.raw.url: "file://data/lake": a file URL needs an absolute path, as in file:///data/lake
testdata/values.bad.yaml:11:18: lakes.raw.compression: "brotli" is not supported: want zstd, snappy, gzip, lz4 or none
testdata/values.bad.yaml:12:21: lakes.raw.row_group_rows: "0" is not a whole number of rows of at least 1
testdata/values.bad.yaml:13:16: lakes.raw.file_size: "256MB2": unknown unit "MB2": want KiB, MiB, GiB, TiB, KB, MB, GB or TB
testdata/values.bad.yaml:15:10: lakes.web.url: scheme "http" is not supported: want file, s3, gs or azblob
testdata/values.bad.yaml:16:16: lakes.web.file_size: "12 PiB": unknown unit "PiB": want KiB, MiB, GiB, TiB, KB, MB, GB or TB
testdata/values.bad.yaml:18:10: lakes.nobucket.url: "s3:///prefix" has no bucket: want s3://BUCKET/PREFIX
testdata/values.bad.yaml:19:3: lakes.nourl.url: required: the lake's URL (file:///PATH, s3://BUCKET/PREFIX, gs://BUCKET, azblob://CONTAINER)
testdata/values.bad.yaml:24:13: defaults.lookback: "ten minutes" is not a duration: want e.g. 0s, 10m, 1h30m
testdata/values.bad.yaml:25:13: defaults.timezone: time zone "Mars/Olympus" is not a known IANA name (e.g. UTC, Europe/Paris)
testdata/values.bad.yaml:26:13: defaults.parallel: "0" is not a whole number from 1 to 64 (streams reading one run at once)
testdata/values.bad.yaml:29:12: workflows[0].table: "public.a.b": want schema.table or table (one dot at most; write a name that holds dots in double quotes: schema."t.able")
testdata/values.bad.yaml:30:15: workflows[0].lookback: 10m needs a cursor: without one every run is a full load
testdata/values.bad.yaml:32:12: workflows[1].table: ".b": want schema.table or table (empty part)
testdata/values.bad.yaml:33:13: workflows[1].cursor: column "\"updated_at\"": write the name without quotes; wharf quotes identifiers itself
testdata/values.bad.yaml:34:15: workflows[1].lookback: "-5m": a lookback cannot be negative
testdata/values.bad.yaml:35:16: workflows[1].blueprint: "copy" is not supported: only "landing" for now
testdata/values.bad.yaml:36:13: workflows[1].format: "csv": only parquet is supported for now
testdata/values.bad.yaml:37:15: workflows[1].parallel: "65" is not a whole number from 1 to 64 (streams reading one run at once)
testdata/values.bad.yaml:39:12: workflows[2].table: " public.c": leading or trailing spaces around a name (write the name in double quotes to keep them)
testdata/values.bad.yaml:40:15: workflows[2].timezone: time zone "Local" depends on the machine: want an IANA name such as UTC or Europe/Paris
testdata/values.bad.yaml:43:12: workflows[3].table: required: the source table, as schema.table or table
testdata/values.bad.yaml:44:15: workflows[3].schedule: "yes": want on_demand, cron(M H DOM MON DOW Y), a 6-field AWS or 5-field standard cron pattern, @hourly/@daily/@weekly/@monthly/@yearly or rate(N minutes|hours|days)
testdata/values.bad.yaml:47:23: workflows[4].ingestion_column: column "\"landed\"": write the name without quotes; wharf quotes identifiers itself`,
}

func TestBadFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badFixtures) {
		t.Errorf("%d bad fixtures in testdata, %d expectations: every fixture needs one", len(files), len(badFixtures))
	}
	for _, path := range files {
		want, ok := badFixtures[filepath.Base(path)]
		if !ok {
			t.Errorf("%s: no expected error in badFixtures", path)
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			cat, err := Load(path)
			if err == nil {
				t.Fatalf("loaded without error: %d workflows", len(cat.Workflows))
			}
			if cat != nil {
				t.Errorf("a catalog was returned with the error")
			}
			if err.Error() != want {
				t.Errorf("errors differ\n--- got\n%s\n--- want\n%s", err, want)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want catalog.Errors", err)
			}
			if n := strings.Count(want, "\n") + 1; len(es) != n {
				t.Errorf("%d errors, want %d (all reported at once)", len(es), n)
			}
			for _, e := range es {
				if e.Pos.File != path {
					t.Errorf("error %q names file %q, want %q", e, e.Pos.File, path)
				}
			}
		})
	}
}

func TestGoodFixturesLoad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no good fixtures")
	}
	for _, path := range files {
		cat, err := Load(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if cat.Path != path || len(cat.Workflows) == 0 {
			t.Errorf("%s: path %q, %d workflows", path, cat.Path, len(cat.Workflows))
		}
		for _, w := range cat.Workflows {
			if cat.Connections[w.Connection] == nil || cat.Lakes[w.Lake] == nil {
				t.Errorf("%s: workflow %s refers to connection %q / lake %q that are not in the catalog", path, w.Name, w.Connection, w.Lake)
			}
		}
	}
}

func mustLoad(t *testing.T, path string) *Catalog {
	t.Helper()
	cat, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

var glueNotices = []string{
	"GlueExecutionRole is not needed by wharf (ignored): no IAM role runs the job",
	"NetworkConnectionName is not needed by wharf (ignored): wharf connects to the database directly",
}

const seedBucket = "data-lake-raw-layer-123456789012-eu-west-1"

// TestGlueSeedEntry loads the example entry of the seed article verbatim.
func TestGlueSeedEntry(t *testing.T) {
	path := "testdata/glue_seed_entry.good.json"
	cat := mustLoad(t, path)
	want := &Catalog{
		Path:   path,
		Format: FormatGlue,
		Connections: map[string]*Connection{
			"DemoDBSecret": {Name: "DemoDBSecret", Engine: "", Secret: "DemoDBSecret"},
		},
		Lakes: map[string]*Lake{
			seedBucket: {Name: seedBucket, URL: "s3://" + seedBucket, Compression: "zstd", RowGroupRows: 262144, FileBytes: 256 << 20, Format: "parquet"},
		},
		Workflows: []*Workflow{{
			Name: "rds_to_s3_public_regions", Connection: "DemoDBSecret", Table: "public.regions", Lake: seedBucket,
			Blueprint: "landing", Cursor: "updated_at", Format: "parquet",
			Schedule: Schedule{Kind: Cron, Expr: "10 21 * * ? *", Dialect: "aws"},
			Pos:      Pos{File: path, Line: 3, Column: 5},
		}},
		Notices: glueNotices,
	}
	if !reflect.DeepEqual(cat, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(cat), dump(want))
	}
}

// TestGlueHRCatalog loads a full seven-table Glue catalog as in the seed.
func TestGlueHRCatalog(t *testing.T) {
	cat := mustLoad(t, "testdata/glue_hr.good.json")
	tables := []string{"regions", "countries", "locations", "departments", "jobs", "employees", "job_history"}
	if len(cat.Workflows) != len(tables) {
		t.Fatalf("%d workflows, want %d", len(cat.Workflows), len(tables))
	}
	for i, tbl := range tables {
		w := cat.Workflows[i]
		if w.Name != "rds_to_s3_public_"+tbl || w.Table != "public."+tbl || w.Connection != "DemoDBSecret" ||
			w.Lake != seedBucket || w.Cursor != "updated_at" || w.CursorAuto ||
			w.Schedule != (Schedule{Kind: Cron, Expr: "10 21 * * ? *", Dialect: "aws"}) {
			t.Errorf("workflow %d: %s", i, dump(w))
		}
		if cat.Workflow(w.Name) != w {
			t.Errorf("Catalog.Workflow(%q) does not find it", w.Name)
		}
	}
	if len(cat.Connections) != 1 || len(cat.Lakes) != 1 {
		t.Errorf("%d connections, %d lakes: want one of each, shared", len(cat.Connections), len(cat.Lakes))
	}
	if !reflect.DeepEqual(cat.Notices, glueNotices) {
		t.Errorf("notices (one per key, not per workflow): %q", cat.Notices)
	}
	if cat.Workflow("nope") != nil {
		t.Error("Catalog.Workflow found a missing workflow")
	}
}

func TestGlueVariants(t *testing.T) {
	path := "testdata/glue_variants.good.json"
	cat := mustLoad(t, path)
	want := []*Workflow{
		{Name: "hr_employees", Connection: "prod/hr/postgres", Table: "public.employees", Lake: "s3://lake-raw/hr?region=eu-west-1",
			Blueprint: "landing", Cursor: "last_modified", PartitionBy: "department_id", Format: "parquet", FileCountHint: 4, Parallel: 10,
			Schedule: Schedule{Kind: Cron, Expr: "cron(0/15 8-18 ? * MON-FRI *)", Dialect: "aws"}, Pos: Pos{path, 3, 5}},
		{Name: "hr_jobs", Connection: "prod/hr/postgres", Table: "jobs", Lake: "file:///var/lib/wharf/lake",
			Blueprint: "landing", Cursor: "updated_at", CursorAuto: true, Format: "parquet", FileCountHint: 2, Parallel: 2,
			Schedule: Schedule{Kind: Cron, Expr: "10 21 * * ? *", Dialect: "aws"}, Pos: Pos{path, 16, 5}},
		{Name: "hr_job_history", Connection: "prod/hr/postgres", Table: "public.job_history", Lake: "lake-raw",
			Blueprint: "landing", Format: "parquet", Schedule: Schedule{Kind: OnDemand, Expr: "on_demand"}, Pos: Pos{path, 25, 5}},
		{Name: "sales_orders", Connection: "sales-mysql", Table: "shop.orders", Lake: "lake-raw",
			Blueprint: "landing", Cursor: "updated", IngestionColumn: "wharf_ingested_at", Format: "parquet", Schedule: Schedule{Kind: OnDemand, Expr: "on_demand"}, Pos: Pos{path, 34, 5},
			Choices: ColumnChoices{ExcludeColumns: []string{"card_number"}, Cast: map[string]string{"total": "string"}, OnSchemaChange: "freeze"}},
	}
	if !reflect.DeepEqual(cat.Workflows, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(cat.Workflows), dump(want))
	}
	lakes := map[string]string{
		"s3://lake-raw/hr?region=eu-west-1": "s3://lake-raw/hr?region=eu-west-1",
		"file:///var/lib/wharf/lake":        "file:///var/lib/wharf/lake",
		"lake-raw":                          "s3://lake-raw",
	}
	for name, url := range lakes {
		if l := cat.Lakes[name]; l == nil || l.URL != url {
			t.Errorf("lake %q: %s, want URL %s", name, dump(l), url)
		}
	}
	if len(cat.Lakes) != 3 || len(cat.Connections) != 2 {
		t.Errorf("%d lakes, %d connections; want 3 and 2", len(cat.Lakes), len(cat.Connections))
	}
	wantNotices := []string{
		"DestinationFileCount is kept as a hint only: wharf rolls files by size (lake file_size, default 256MiB)",
		"ScheduleCronPattern is ignored where JobScheduleType is OnDemand (hr_job_history)",
	}
	if !reflect.DeepEqual(cat.Notices, wantNotices) {
		t.Errorf("notices\n got %q\nwant %q", cat.Notices, wantNotices)
	}
}

func TestWharfFull(t *testing.T) {
	path := "testdata/full.good.yaml"
	cat := mustLoad(t, path)
	paris := "Europe/Paris"
	want := []*Workflow{
		{Name: "hr_regions", Connection: "hr", Table: "public.regions", Lake: "raw", Blueprint: "landing",
			Cursor: "updated_at", CursorAuto: true, Lookback: 10 * time.Minute, PartitionBy: "region_id", Format: "parquet",
			Schedule: Schedule{Kind: OnDemand, Expr: "on_demand", TimeZone: paris}, Pos: Pos{path, 33, 5}},
		{Name: "hr_countries", Connection: "hr", Table: "countries", Lake: "raw", Blueprint: "landing",
			Cursor: "updated_at", CursorAuto: true, Lookback: 5 * time.Minute, Format: "parquet",
			Schedule: Schedule{Kind: Cron, Expr: "cron(10 21 * * ? *)", Dialect: "aws", TimeZone: paris}, Pos: Pos{path, 39, 5}},
		{Name: "hr.jobs-v2", Connection: "hr", Table: "public.jobs", Lake: "raw", Blueprint: "landing", Format: "parquet",
			Schedule: Schedule{Kind: Cron, Expr: "*/30 * * * *", Dialect: "standard", TimeZone: "UTC"}, Pos: Pos{path, 41, 5}},
		{Name: "sales_orders", Connection: "sales", Table: "shop.orders", Lake: "archive", Blueprint: "landing",
			Cursor: "modified_at", Lookback: 5 * time.Minute, Format: "parquet",
			Schedule: Schedule{Kind: Rate, Expr: "rate(15 minutes)", Every: 15 * time.Minute, TimeZone: paris}, Pos: Pos{path, 46, 5}},
		{Name: "sales_customers", Connection: "sales", Table: "shop.customers", Lake: "archive", Blueprint: "landing",
			Cursor: "updated_at", CursorAuto: true, Lookback: 5 * time.Minute, IngestionColumn: "landed_at", Format: "parquet",
			Schedule: Schedule{Kind: Cron, Expr: "@daily", Dialect: "standard", TimeZone: paris}, Pos: Pos{path, 53, 5}},
		{Name: "local_events", Connection: "local", Table: "events", Lake: "cold", Blueprint: "landing",
			Cursor: "id", Format: "parquet",
			Schedule: Schedule{Kind: Cron, Expr: "0 6 L * ? 2026-2030", Dialect: "aws", TimeZone: paris}, Pos: Pos{path, 59, 5}},
	}
	if !reflect.DeepEqual(cat.Workflows, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(cat.Workflows), dump(want))
	}
	wantConns := map[string]*Connection{
		"hr":    {Name: "hr", Engine: "postgres", Secret: "env:HR_DB_URL"},
		"sales": {Name: "sales", Engine: "mysql", Secret: "prod/sales/mysql"},
		"local": {Name: "local", Engine: "", Secret: "file:/etc/wharf/secrets/local.json"},
	}
	if !reflect.DeepEqual(cat.Connections, wantConns) {
		t.Errorf("connections: %s", dump(cat.Connections))
	}
	wantLakes := map[string]*Lake{
		"raw":     {Name: "raw", URL: "file:///data/lake", Compression: "zstd", RowGroupRows: 262144, FileBytes: 256 << 20, Format: "parquet"},
		"archive": {Name: "archive", URL: "s3://acme-archive/raw?region=eu-west-1", Compression: "snappy", RowGroupRows: 100000, FileBytes: 1 << 30, Format: "parquet"},
		"cold":    {Name: "cold", URL: "gs://acme-cold/wharf", Compression: "none", RowGroupRows: 50000, FileBytes: 536870912, Format: "parquet"},
	}
	if !reflect.DeepEqual(cat.Lakes, wantLakes) {
		t.Errorf("lakes: %s", dump(cat.Lakes))
	}
	if cat.Format != FormatWharf || len(cat.Notices) != 0 {
		t.Errorf("format %q, notices %q", cat.Format, cat.Notices)
	}
}

func TestWharfSmallCatalogs(t *testing.T) {
	minimal := mustLoad(t, "testdata/minimal.good.yaml")
	w := minimal.Workflows[0]
	// The only connection and lake are the defaults; no cursor = full load.
	if w.Connection != "hr" || w.Lake != "raw" || w.Cursor != "" || w.Schedule.Kind != OnDemand || w.Blueprint != "landing" {
		t.Errorf("minimal: %s", dump(w))
	}

	js := mustLoad(t, "testdata/wharf.good.json")
	if l := js.Lakes["raw"]; l.FileBytes != 64<<20 || l.Compression != "lz4" || l.URL != "azblob://landing/hr" {
		t.Errorf("json lake: %s", dump(l))
	}
	if w := js.Workflows[0]; w.Schedule.Every != time.Hour || w.Cursor != "updated_at" || !w.CursorAuto {
		t.Errorf("json workflow 0: %s", dump(w))
	}
	// "cursor": null overrides the default cursor: a full load.
	if w := js.Workflows[1]; w.Cursor != "" || w.CursorAuto || w.Schedule.Dialect != "aws" {
		t.Errorf("json workflow 1: %s", dump(w))
	}

	anchors := mustLoad(t, "testdata/anchors.good.yaml")
	a, b := anchors.Workflows[0], anchors.Workflows[1]
	if b.Name != "hr_countries" || b.Table != "public.countries" || b.Cursor != a.Cursor || b.Schedule != a.Schedule {
		t.Errorf("merge key: %s", dump(b))
	}
}

func TestUnusedNotices(t *testing.T) {
	cat, err := Parse("c.yaml", []byte(`
connections:
  hr: {engine: postgres, secret: env:A}
  spare: {engine: postgres, secret: env:B}
lakes:
  raw: {url: "file:///l"}
  other: {url: "file:///o"}
defaults: {connection: hr, lake: raw}
workflows:
  - {name: a, table: t}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`connection "spare" is not used by any workflow`, `lake "other" is not used by any workflow`}
	if !reflect.DeepEqual(cat.Notices, want) {
		t.Errorf("notices %q", cat.Notices)
	}
}

// TestDefaultErrorReportedOnce checks that a bad value in defaults is
// reported once, where it is written, not once per workflow.
func TestDefaultErrorReportedOnce(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`connections:
  hr: {engine: postgres, secret: env:A}
lakes:
  raw: {url: "file:///l"}
defaults:
  schedule: "cron(0 12 * * * *)"
  cursor: updated_at
  lookback: 5x
workflows:
  - {name: a, table: t}
  - {name: b, table: u}
  - {name: c, table: v}
`))
	want := `c.yaml:6:13: defaults.schedule: cron(0 12 * * * *): day-of-month "*" and day-of-week "*" are both set: AWS cron needs "?" in one of them
c.yaml:8:13: defaults.lookback: "5x" is not a duration: want e.g. 0s, 10m, 1h30m`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestSecretsNeverEchoed(t *testing.T) {
	_, err := Load("testdata/secrets.bad.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "S3cretPass") || strings.Contains(err.Error(), "S3cret Pass") {
		t.Errorf("an error repeats a password:\n%s", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	want := "testdata/does-not-exist.yaml: cannot read the catalog: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir+": cannot read the catalog: ") {
		t.Errorf("loading a directory: %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Pos{"c.yaml", 3, 7}, "workflows[0].table", "required"}, "c.yaml:3:7: workflows[0].table: required"},
		{Error{Pos{"c.yaml", 3, 0}, "", "YAML syntax error: x"}, "c.yaml:3: YAML syntax error: x"},
		{Error{Pos{"c.yaml", 0, 0}, "", "the catalog is empty"}, "c.yaml: the catalog is empty"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	es := Errors{{Pos{"a", 1, 1}, "f", "one"}, {Pos{"a", 2, 1}, "", "two"}}
	if es.Error() != "a:1:1: f: one\na:2:1: two" {
		t.Errorf("Errors.Error() = %q", es.Error())
	}
	var e *Error
	if !errors.As(error(es), &e) || e.Msg != "one" {
		t.Errorf("errors.As(Errors, *Error) = %v", e)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"268435456": 268435456, "256MiB": 256 << 20, "256 MiB": 256 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10,
		"1GB": 1e9, "10MB": 10e6, "3KB": 3000, "2TiB": 2 << 40, "100B": 100, "64mib": 64 << 20,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                  `"" is not a size: want bytes or a number with KiB, MiB, GiB (or KB, MB, GB), e.g. 256MiB`,
		"MiB":               `"MiB" is not a size: want bytes or a number with KiB, MiB, GiB (or KB, MB, GB), e.g. 256MiB`,
		"1.5GiB":            `"1.5GiB": unknown unit ".5GiB": want KiB, MiB, GiB, TiB, KB, MB, GB or TB`,
		"-1":                `"-1" is not a size: want bytes or a number with KiB, MiB, GiB (or KB, MB, GB), e.g. 256MiB`,
		"99999999999999TiB": `"99999999999999TiB" is too large`,
	} {
		_, err := ParseSize(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseSize(%q) error = %v, want %s", in, err, want)
		}
	}
}

func TestLoadFromDisk(t *testing.T) {
	// Load reads the file and detects the format by content, not extension.
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/glue_seed_entry.good.json")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "catalog.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cat := mustLoad(t, p)
	if cat.Format != FormatGlue || cat.Workflows[0].Pos.File != p {
		t.Errorf("format %q, pos %v", cat.Format, cat.Workflows[0].Pos)
	}
}

func TestAlertsAndFreshnessSLA(t *testing.T) {
	cat := mustLoad(t, "testdata/alerts.good.yaml")
	want := Alerts{Webhook: "env:SLACK_URL", On: []string{AlertFailure, AlertSchemaChange}}
	if !reflect.DeepEqual(cat.Alerts, want) {
		t.Errorf("alerts = %+v, want %+v", cat.Alerts, want)
	}
	if !cat.Alerts.Wants(AlertFailure) || cat.Alerts.Wants(AlertFreshness) {
		t.Errorf("Wants: %+v", cat.Alerts)
	}
	if a, b := cat.Workflow("regions").FreshnessSLA, cat.Workflow("jobs").FreshnessSLA; a != 26*time.Hour || b != 90*time.Minute {
		t.Errorf("freshness_sla: regions %s (defaults), jobs %s", a, b)
	}
	// Deployed with every workflow: serve reads it from the spec.
	r := cat.Resolve("jobs")
	got, err := DecodeSpec("jobs", EncodeSpec(*r))
	if err != nil || !reflect.DeepEqual(got.Alerts, want) || got.Workflow.FreshnessSLA != 90*time.Minute {
		t.Errorf("spec round trip: %+v, %v", got, err)
	}
	// on left out: every event.
	all, err := Parse("all.yaml", []byte("connections: {hr: {engine: sqlite, secret: env:X}}\nlakes: {raw: {url: file:///l}}\n"+
		"alerts: {webhook: env:HOOK}\nworkflows: [{name: a, table: a}]\n"))
	if err != nil || !reflect.DeepEqual(all.Alerts.On, AlertEvents) {
		t.Errorf("alerts without on: %+v, %v", all.Alerts, err)
	}
	// No alerts section: the spec is what it was before alerts existed.
	if spec := EncodeSpec(*mustLoad(t, "testdata/minimal.good.yaml").Resolve("regions")); bytes.Contains(spec, []byte("alerts")) || bytes.Contains(spec, []byte("freshness")) {
		t.Errorf("spec without alerts: %s", spec)
	}
}

// parallel is set per workflow or under defaults; a workflow's own value wins.
func TestParallel(t *testing.T) {
	cat, err := Parse("p.yaml", []byte(`
connections: {hr: {engine: postgres, secret: env:HR}}
lakes: {raw: {url: "file:///tmp/lake"}}
defaults: {parallel: 4}
workflows:
  - {name: a, table: public.a}
  - {name: b, table: public.b, parallel: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := cat.Workflows[0].Parallel, cat.Workflows[1].Parallel; a != 4 || b != 1 {
		t.Errorf("parallel a=%d b=%d, want 4 and 1", a, b)
	}
	r := Resolved{Workflow: *cat.Workflows[0]}
	back, err := DecodeSpec("a", EncodeSpec(r))
	if err != nil || back.Workflow.Parallel != 4 {
		t.Errorf("spec round trip: parallel %d, %v", back.Workflow.Parallel, err)
	}
}

// max_parallel caps a connection's streams: it survives the deployed spec
// (and is left out of a spec without it, whose hash stays), a workflow
// asking for more streams gets a notice, and StreamCap takes the smaller of
// it and --per-connection.
func TestConnectionMaxParallel(t *testing.T) {
	cat, err := Parse("p.yaml", []byte(`
connections:
  hr: {engine: postgres, secret: env:HR, max_parallel: 2}
  crm: {engine: postgres, secret: env:CRM}
lakes: {raw: {url: "file:///tmp/lake"}}
defaults: {lake: raw}
workflows:
  - {name: a, connection: hr, table: public.a, parallel: 4}
  - {name: b, connection: hr, table: public.b, parallel: 2}
  - {name: c, connection: crm, table: public.c, parallel: 4}
`))
	if err != nil {
		t.Fatal(err)
	}
	hr, crm := cat.Connections["hr"], cat.Connections["crm"]
	if hr.MaxParallel != 2 || crm.MaxParallel != 0 {
		t.Errorf("max_parallel hr=%d crm=%d, want 2 and 0", hr.MaxParallel, crm.MaxParallel)
	}
	want := []string{`workflow "a": parallel 4 is above connection "hr"'s max_parallel 2: it reads with at most 2 streams`}
	if !reflect.DeepEqual(cat.Notices, want) {
		t.Errorf("notices %q, want %q", cat.Notices, want)
	}
	back, err := DecodeSpec("a", EncodeSpec(Resolved{Workflow: *cat.Workflows[0], Connection: *hr}))
	if err != nil || back.Connection.MaxParallel != 2 {
		t.Errorf("spec round trip: max_parallel %d, %v", back.Connection.MaxParallel, err)
	}
	if spec := EncodeSpec(Resolved{Workflow: *cat.Workflows[2], Connection: *crm}); bytes.Contains(spec, []byte("max_parallel")) {
		t.Errorf("a connection without max_parallel changed its spec: %s", spec)
	}
	for _, c := range []struct{ own, flag, want int }{{0, 0, 0}, {2, 0, 2}, {0, 3, 3}, {2, 3, 2}, {5, 3, 3}} {
		if got := (&Connection{MaxParallel: c.own}).StreamCap(c.flag); got != c.want {
			t.Errorf("StreamCap: max_parallel %d, --per-connection %d: %d, want %d", c.own, c.flag, got, c.want)
		}
	}
}

// attempts is set per workflow or under defaults (Glue: WharfAttempts); a
// workflow's own value wins, unset means DefaultAttempts, and it survives
// the deployed spec.
func TestAttempts(t *testing.T) {
	cat, err := Parse("a.yaml", []byte(`
connections: {hr: {engine: postgres, secret: env:HR}}
lakes: {raw: {url: "file:///tmp/lake"}}
defaults: {attempts: 5}
workflows:
  - {name: a, table: public.a}
  - {name: b, table: public.b, attempts: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := cat.Workflows[0].Tries(), cat.Workflows[1].Tries(); a != 5 || b != 1 {
		t.Errorf("tries a=%d b=%d, want 5 and 1", a, b)
	}
	back, err := DecodeSpec("a", EncodeSpec(Resolved{Workflow: *cat.Workflows[0]}))
	if err != nil || back.Workflow.Tries() != 5 {
		t.Errorf("spec round trip: tries %d, %v", back.Workflow.Tries(), err)
	}
	if got := (Workflow{}).Tries(); got != DefaultAttempts {
		t.Errorf("unset: tries %d, want %d", got, DefaultAttempts)
	}
	if spec := string(EncodeSpec(Resolved{Workflow: Workflow{Name: "x"}})); strings.Contains(spec, "attempts") {
		t.Errorf("unset attempts should leave the spec (and its hash) as before: %s", spec)
	}

	glue, err := Parse("g.json", []byte(`{"WorkflowList": [{"WorkflowName": "g", "SourceTable": "public.g", "SecretName": "hr",
		"DestinationBucketName": "file:///tmp/lake", "WharfAttempts": "7"}]}`))
	if err != nil || glue.Workflows[0].Tries() != 7 {
		t.Errorf("Glue WharfAttempts: %v", err)
	}

	_, err = Parse("bad.yaml", []byte(`
connections: {hr: {engine: postgres, secret: env:HR}}
lakes: {raw: {url: "file:///tmp/lake"}}
defaults: {attempts: 0}
workflows:
  - {name: a, table: public.a, attempts: 101}
  - {name: b, table: public.b, attempts: three}
`))
	want := `bad.yaml:4:22: defaults.attempts: "0" is not a whole number from 1 to 100 (tries per run, the first included)
bad.yaml:6:42: workflows[0].attempts: "101" is not a whole number from 1 to 100 (tries per run, the first included)
bad.yaml:7:42: workflows[1].attempts: "three" is not a whole number from 1 to 100 (tries per run, the first included)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("bad attempts: %v\nwant\n%s", err, want)
	}
}
