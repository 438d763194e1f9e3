// Package quickstart creates the sample that `wharf quickstart` lands: a
// small SQLite HR database (the schema of the classic HR sample the AWS Glue
// blueprint post uses), a secret file pointing at it, and a catalog with
// one workflow per table. Everything is generated here, deterministically;
// nothing is downloaded.
//
// Layout under the quickstart directory:
//
//	source/hr.db       the HR database (SQLite)
//	secrets/hr.json    {"engine": "sqlite", "dbname": "<abs>/source/hr.db"}
//	wharf.yaml         the catalog: connection hr, lake local, workflows hr_<table>
//	lake/              the lake (file://), empty until a run lands files
package quickstart

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Table is one sample table and the number of rows Create puts in it.
type Table struct {
	Name string
	Rows int
}

// Tables lists the sample tables in creation order with their row counts.
func Tables() []Table {
	var out []Table
	for _, t := range hrData() {
		out = append(out, Table{Name: t.table, Rows: len(t.rows)})
	}
	return out
}

// Paths of the quickstart files, relative to its directory.
const (
	DatabaseFile = "source/hr.db"
	SecretFile   = "secrets/hr.json"
	CatalogFile  = "wharf.yaml"
	LakeDir      = "lake"
)

// Create writes the sample database, secret and catalog under dir and
// returns the catalog's path. Files that already exist are kept as they
// are, so running it again changes nothing (and a second quickstart run
// lands nothing new). Each file is written to a temporary name and renamed,
// so an interrupted Create leaves no half-written file behind.
func Create(ctx context.Context, dir string) (catalogPath string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("quickstart directory %s: %w", dir, err)
	}
	dbPath := filepath.Join(abs, filepath.FromSlash(DatabaseFile))
	secretPath := filepath.Join(abs, filepath.FromSlash(SecretFile))
	catalogPath = filepath.Join(abs, CatalogFile)
	for _, d := range []string{filepath.Dir(dbPath), filepath.Dir(secretPath), filepath.Join(abs, LakeDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("quickstart: create directory %s: %w", d, err)
		}
	}
	if err := os.Chmod(filepath.Dir(secretPath), 0o700); err != nil {
		return "", fmt.Errorf("quickstart: %s: %w", filepath.Dir(secretPath), err)
	}

	if !exists(dbPath) {
		if err := writeDatabase(ctx, dbPath); err != nil {
			return "", err
		}
	}
	if !exists(secretPath) {
		secret, err := json.MarshalIndent(struct {
			Engine string `json:"engine"`
			DBName string `json:"dbname"`
		}{"sqlite", dbPath}, "", "  ")
		if err != nil {
			return "", err
		}
		if err := writeFile(secretPath, append(secret, '\n'), 0o600); err != nil {
			return "", err
		}
	}
	if !exists(catalogPath) {
		cat, err := catalogYAML(secretPath, filepath.Join(abs, LakeDir))
		if err != nil {
			return "", err
		}
		if err := writeFile(catalogPath, cat, 0o644); err != nil {
			return "", err
		}
	}
	return catalogPath, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeFile writes data to path through a temporary file and a rename.
func writeFile(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("quickstart: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("quickstart: write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("quickstart: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("quickstart: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("quickstart: write %s: %w", path, err)
	}
	return nil
}

// writeDatabase builds the HR database in a temporary file, then renames it
// to path.
func writeDatabase(ctx context.Context, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("quickstart: create %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)
	if err := fillDatabase(ctx, tmpPath); err != nil {
		return fmt.Errorf("quickstart: create %s: %w", path, err)
	}
	if err := os.Chmod(tmpPath, 0o644); err != nil {
		return fmt.Errorf("quickstart: create %s: %w", path, err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("quickstart: create %s: %w", path, err)
	}
	return nil
}

func fillDatabase(ctx context.Context, path string) (err error) {
	db, err := openWritable(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // Commit reports errors
	for _, stmt := range hrDDL {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", firstLine(stmt), err)
		}
	}
	for _, t := range hrData() {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)), ", ")
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.table, strings.Join(t.columns, ", "), marks)
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.table, err)
		}
		for _, row := range t.rows {
			if _, err := stmt.ExecContext(ctx, row...); err != nil {
				stmt.Close()
				return fmt.Errorf("table %s row %v: %w", t.table, row[0], err)
			}
		}
		stmt.Close()
	}
	return tx.Commit()
}

func openWritable(path string) (*sql.DB, error) {
	dsn := (&url.URL{Scheme: "file", Path: path}).String() + "?mode=rw&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Touch raises the salary (by 100.00) of the n employees whose rows were
// updated longest ago and sets their updated_at to now (UTC), or to one
// second after the newest updated_at if that is later, so the next
// incremental run of hr_employees lands exactly those n rows. n larger
// than the table touches every row.
func Touch(ctx context.Context, dir string, n int) error {
	if n < 0 {
		return fmt.Errorf("quickstart touch: n = %d, want >= 0", n)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("quickstart directory %s: %w", dir, err)
	}
	path := filepath.Join(abs, filepath.FromSlash(DatabaseFile))
	if !exists(path) {
		return fmt.Errorf("quickstart touch: %s does not exist (run quickstart first)", path)
	}
	db, err := openWritable(path)
	if err != nil {
		return fmt.Errorf("quickstart touch %s: %w", path, err)
	}
	defer db.Close()
	if err := touch(ctx, db, n); err != nil {
		return fmt.Errorf("quickstart touch %s table employees: %w", path, err)
	}
	return nil
}

func touch(ctx context.Context, db *sql.DB, n int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // Commit reports errors
	var newest sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT max(updated_at) FROM employees").Scan(&newest); err != nil {
		return err
	}
	stamp := time.Now().UTC().Truncate(time.Second)
	if newest.Valid {
		last, err := time.Parse(TimeLayout, newest.String)
		if err != nil {
			return fmt.Errorf("updated_at %q is not %s: %w", newest.String, TimeLayout, err)
		}
		if !stamp.After(last) {
			stamp = last.Add(time.Second)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE employees SET salary = salary + 100, updated_at = ?
		WHERE employee_id IN (SELECT employee_id FROM employees ORDER BY updated_at, employee_id LIMIT ?)`,
		stamp.Format(TimeLayout), n)
	if err != nil {
		return err
	}
	return tx.Commit()
}

// catalogYAML writes the quickstart catalog in wharf's own format.
func catalogYAML(secretPath, lakeDir string) ([]byte, error) {
	type workflow struct {
		Name  string `yaml:"name"`
		Table string `yaml:"table"`
	}
	type connection struct {
		Engine string `yaml:"engine"`
		Secret string `yaml:"secret"`
	}
	type lake struct {
		URL string `yaml:"url"`
	}
	type defaults struct {
		Connection string `yaml:"connection"`
		Lake       string `yaml:"lake"`
		Schedule   string `yaml:"schedule"`
		Cursor     string `yaml:"cursor"`
	}
	doc := struct {
		Connections map[string]connection `yaml:"connections"`
		Lakes       map[string]lake       `yaml:"lakes"`
		Defaults    defaults              `yaml:"defaults"`
		Workflows   []workflow            `yaml:"workflows"`
	}{
		Connections: map[string]connection{"hr": {Engine: "sqlite", Secret: "file:" + secretPath}},
		Lakes:       map[string]lake{"local": {URL: (&url.URL{Scheme: "file", Path: lakeDir}).String()}},
		Defaults:    defaults{Connection: "hr", Lake: "local", Schedule: "on_demand", Cursor: "updated_at"},
	}
	for _, t := range Tables() {
		doc.Workflows = append(doc.Workflows, workflow{Name: "hr_" + t.Name, Table: t.Name})
	}
	var b bytes.Buffer
	b.WriteString("# wharf catalog created by `wharf quickstart`: one workflow per table of the\n" +
		"# sample HR database. Each run lands rows whose updated_at is newer than the\n" +
		"# last landed value. Edit freely; quickstart never overwrites this file.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("quickstart: catalog: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("quickstart: catalog: %w", err)
	}
	return b.Bytes(), nil
}
