//go:build linux

package plugin

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withLinearMemory has wazero keep an instance's linear memories (the
// plugin's and the Extism kernel's) outside the Go heap: each reserves its
// whole limit of address space once, with mmap and MAP_NORESERVE, so that
// no memory is committed before the plugin touches a page, and grows in
// place.
//
// wazero's own memory is a Go slice that grows by append: every
// memory.grow past its capacity copies the memory into a larger slice and
// leaves the old one to the garbage collector. A Go guest grows its memory
// many times on its way to a large heap (the access review of 10,000
// principals: to about 90 MB), and the garbage of all those copies, with
// the collector's headroom over it, was most of the process's peak. Here
// nothing is copied, nothing is garbage, and closing an instance returns
// its memory to the system at once.
func withLinearMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(allocateLinearMemory))
}

func allocateLinearMemory(_, max uint64) experimental.LinearMemory {
	if max == 0 || max > 1<<32 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		// No address space for it (a 32-bit process, a ulimit -v): the
		// Go heap, as wazero would do.
		return &heapMemory{}
	}
	return &mappedMemory{buf: b}
}

// mappedMemory is a linear memory in its own mapping of its whole limit.
type mappedMemory struct{ buf []byte }

// Reallocate grows the memory to size bytes, in place; nil past the limit
// (wazero then fails the plugin's memory.grow). Fresh pages of an
// anonymous mapping read as zeros, as Wasm requires of grown memory.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size:size]
}

// Free unmaps the memory; wazero calls it once the instance is closed.
func (m *mappedMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}

// heapMemory is wazero's own way, for when no mapping can be had.
type heapMemory struct{ buf []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		grown := make([]byte, size, max(size, 2*uint64(cap(m.buf))))
		copy(grown, m.buf)
		m.buf = grown
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }
