package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Build stamps, set by scripts/build.sh with -ldflags "-X
// github.com/wharf-data/wharf/internal/cli.Version=..." (and Commit,
// BuildDate). Unset, version reads what the Go toolchain records in every
// binary (debug.ReadBuildInfo): the module version (a tag, or a
// pseudo-version built from the commit) and the VCS commit and its time.
var (
	Version   = ""
	Commit    = ""
	BuildDate = ""
)

// versionModules are the libraries whose versions `wharf version` prints:
// the job engine and the Arrow/Parquet implementation decide most of
// wharf's behaviour.
var versionModules = []struct{ label, path string }{
	{"river", "github.com/riverqueue/river"},
	{"arrow-go", "github.com/apache/arrow-go/v18"},
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print wharf's version, commit, build date and the Go, River and arrow-go versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			printVersion(a.stdout, bi)
			return nil
		},
	}
}

// printVersion prints the version block from the build stamps and bi (nil
// when the binary carries no build information).
func printVersion(w io.Writer, bi *debug.BuildInfo) {
	version, commit, date := Version, Commit, BuildDate
	goVersion, modified := "unknown", false
	deps := map[string]string{}
	if bi != nil {
		goVersion = bi.GoVersion
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.time":
				if date == "" {
					date = s.Value + " (commit time)"
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			deps[d.Path] = d.Version
		}
	}
	if version == "" {
		version = "dev"
	}
	if commit == "" {
		commit = "unknown (no VCS stamp: built outside a git checkout or with -buildvcs=false; scripts/build.sh stamps it)"
	} else if modified && !strings.HasSuffix(commit, "+dirty") {
		commit += " (with uncommitted changes)"
	}
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(w, "wharf %s\n", version)
	fmt.Fprintf(w, "  commit    %s\n", commit)
	fmt.Fprintf(w, "  built     %s\n", date)
	fmt.Fprintf(w, "  go        %s\n", goVersion)
	for _, m := range versionModules {
		v := deps[m.path]
		if v == "" {
			v = "unknown"
		}
		fmt.Fprintf(w, "  %-9s %s\n", m.label, v)
	}
}
