// Command wharf lands relational database tables into a data lake from one
// catalog file. See README.md.
package main

import (
	"os"
	"runtime"
	_ "time/tzdata" // schedules name IANA zones; do not depend on the host's zone files

	"github.com/wharf-data/wharf/internal/cli"
)

func main() {
	// No allocation profile unless asked for (--memprofile, --pprof): Go
	// samples one allocation per 512 KiB by default and records its stack,
	// and a run allocates page-sized buffers all the time, so most of them
	// were sampled (runtime.profilealloc, ~1% of a 5M-row run's CPU).
	runtime.MemProfileRate = 0
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
