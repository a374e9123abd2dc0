// Package layers holds no code: its test is the module's import graph
// written down. Each package may import only the layers below it (the
// policy engine and the wire contract at the bottom, plugins never reaching
// into the host, nothing importing a command or a test suite), and the
// packages plugins share build for wasip1. A change that imports upward
// fails `go test ./internal/layers` with the edge named, so the map in
// docs/RATIONALE.md stays true.
package layers
