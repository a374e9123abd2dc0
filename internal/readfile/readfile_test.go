package readfile

import (
	"os"
	"strings"
	"testing"
)

// TestFileThatGrowsWhileReadIsRefused: a file whose size, when opened, is
// within the cap but that yields more than the cap (here a /proc file,
// which says it has 0 bytes) is refused once the cap is passed, not read
// to its end.
func TestFileThatGrowsWhileReadIsRefused(t *testing.T) {
	t.Parallel()
	const proc = "/proc/self/status"
	fi, err := os.Stat(proc)
	if err != nil || fi.Size() != 0 || !fi.Mode().IsRegular() {
		t.Skip("no /proc file that reports 0 bytes here")
	}
	_, err = Regular(proc, "module", 64)
	if err == nil || !strings.Contains(err.Error(), "grew past 64 bytes while it was read") {
		t.Errorf("a file yielding more than it said: %v", err)
	}
	if b, err := Regular(proc, "module", 1<<20); err != nil || len(b) == 0 {
		t.Errorf("the same file under a cap it fits: %d bytes, %v", len(b), err)
	}
}
