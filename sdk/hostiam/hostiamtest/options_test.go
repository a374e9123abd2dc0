package hostiamtest

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// TestOptionsRefused: options the kit cannot honour are refused (New
// fails the test with this message), saying what to do instead; those it
// can are not.
func TestOptionsRefused(t *testing.T) {
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		o    Options
		want string // "" for accepted
	}{
		{"throttle over 1", Options{Throttle: 1.5}, "from 0 to 1"},
		{"negative throttle", Options{Throttle: -0.1}, "from 0 to 1"},
		{"throttle on a given sandbox", Options{Sandbox: sb, Throttle: 0.5}, "sandbox.Faults"},
		{"seed on a given sandbox", Options{Sandbox: sb, Seed: "demo"}, "sandbox.Options{Seed"},
		{"negative attempts", Options{Attempts: -1}, "1 or more"},
		{"every request throttled", Options{Seed: "demo", Throttle: 1, Attempts: 1}, ""},
		{"a given sandbox", Options{Sandbox: sb, Attempts: 2}, ""},
	} {
		err := c.o.check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.want)
		}
	}
}
