package status

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond:                "850ms",
		12*time.Second + 340*time.Millisecond: "12.3s",
		4*time.Minute + 10*time.Second:        "4m10s",
		3*time.Hour + 5*time.Minute:           "3h5m",
		26 * time.Hour:                        "26h",
		25195*time.Hour + 10*time.Minute:      "1049d19h",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
