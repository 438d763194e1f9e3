// Command wharf lands relational database tables into a data lake from one
// catalog file. See README.md.
package main

import (
	"os"
	_ "time/tzdata" // schedules name IANA zones; do not depend on the host's zone files

	"github.com/wharf-data/wharf/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
