package quote

import (
	"strings"
	"testing"
)

func TestShort(t *testing.T) {
	if got := Short("alice", 64); got != `"alice"` {
		t.Fatal(got)
	}
	for _, s := range []string{
		strings.Repeat("é", 1000),
		strings.Repeat("\xa7", 1000),
		strings.Repeat("\x1b", 1000),
		strings.Repeat("\U0010FFFF", 1000),
	} {
		got := Short(s, 64)
		if len(got) > 64+30 || !strings.Contains(got, "characters)") || strings.ContainsAny(got, "\x1b\xa7") {
			t.Errorf("%d bytes: %q", len(got), got)
		}
	}
}
