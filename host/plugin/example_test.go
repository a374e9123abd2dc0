package plugin_test

import (
	"fmt"

	"github.com/iammcp/iam-mcp-server/host/plugin"
)

// A plugin's memory limit is written as a size and runs as Wasm pages of
// 64 KiB; fewer than 16 cannot start.
func ExampleLimits_Pages() {
	for _, m := range []string{"", "128MiB", "1MiB", "512KiB"} {
		pages, err := plugin.Limits{Memory: m}.Pages()
		fmt.Println(pages, err)
	}
	// Output:
	// 1024 <nil>
	// 2048 <nil>
	// 16 <nil>
	// 0 memory "512KiB" is less than the 1MiB (16 pages of 64KiB) a plugin needs to start
}
