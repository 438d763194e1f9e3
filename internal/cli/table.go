package cli

import (
	"bufio"
	"text/tabwriter"
)

// table starts a table on stdout, its columns aligned by tabwriter and
// written out in one go by flush: tabwriter writes each cell on its own,
// a system call apiece on an unbuffered stdout (~80,000 for the status of
// 10,000 workflows).
func (a *app) table() (tw *tabwriter.Writer, flush func() error) {
	bw := bufio.NewWriter(a.stdout)
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	return tw, func() error {
		if err := tw.Flush(); err != nil {
			return err
		}
		return bw.Flush()
	}
}
