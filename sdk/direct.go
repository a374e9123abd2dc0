//go:build wasip1

package sdk

import (
	"runtime"
	"unsafe"
)

// iam_call and iam_batch through api.HostDirectModule: the host reads the
// request straight out of this module's memory and writes the answer
// straight into it, two host calls per request whatever its size (through
// Extism's memory, a guest reads eight bytes per host call). See
// sdk/api/direct.go.

//go:wasmimport iam-mcp:host/direct iam_call
func directIAMCall(ptr, n uint32) uint32

//go:wasmimport iam-mcp:host/direct iam_batch
func directIAMBatch(ptr, n uint32) uint32

//go:wasmimport iam-mcp:host/direct answer
func directAnswer(ptr, n uint32)

// invokeDirect hands in to fn and returns its answer.
func invokeDirect(fn func(ptr, n uint32) uint32, in []byte) []byte {
	n := fn(offsetOf(in), uint32(len(in)))
	runtime.KeepAlive(in)
	if n == 0 {
		return nil
	}
	out := make([]byte, n)
	directAnswer(offsetOf(out), n)
	return out
}

// offsetOf is b's offset in the module's linear memory (Go's collector does
// not move objects); 0 for an empty b.
func offsetOf(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
