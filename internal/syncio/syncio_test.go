package syncio

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWrites: lines written by many goroutines at once, while
// the buffer is read, all arrive whole and once (the race detector, under
// make test, checks the rest).
func TestConcurrentWrites(t *testing.T) {
	const writers, lines = 8, 200
	var buf Buffer
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(&buf, "writer %d line %d\n", g, i)
				if i%50 == 0 {
					_ = buf.String()
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer %d line %d", &g, &i); err != nil || seen[l] {
			t.Fatalf("a broken or repeated line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d lines, want %d", len(seen), writers*lines)
	}
}
