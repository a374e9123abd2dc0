//go:build !linux

package plugin

import "context"

// withLinearMemory leaves linear memory to wazero (a Go slice) where the
// mapping of memory_linux.go is not written for.
func withLinearMemory(ctx context.Context) context.Context { return ctx }
