package interrupt

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// codeModule is a module with one function [] → [] whose body is code
// (which ends with the function's end), one memory and one table.
func codeModule(code ...[]byte) []byte {
	return module(
		sec(1, vec(functype(nil, nil))),
		sec(3, vec(uleb(0))),
		sec(4, vec([]byte{tFunc, 0x00, 1})),
		sec(5, vec([]byte{0x00, 0x01})),
		sec(10, vec(body(nil, code...))),
	)
}

// TestRefusals: what plugins may not use, and what is not WebAssembly,
// is refused with an error of the right kind saying what it is; wazero
// (WebAssembly 2.0, as plugins run) refuses the same modules, but for the
// few it accepts and this package refuses on purpose (marked).
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, c := range []struct {
		name          string
		wasm          []byte
		kind          error
		says          string
		wazeroAccepts bool
	}{
		{"tail call", codeModule([]byte{0x12, 0}, end), ErrRefused, "tail-call proposal", false},
		{"tail call indirect", codeModule(i32c(0), []byte{0x13, 0, 0}, end), ErrRefused, "tail-call proposal", false},
		{"try", codeModule([]byte{0x06, bt0}, end, end), ErrRefused, "exception-handling proposal", false},
		{"throw", codeModule([]byte{0x08, 0}, end), ErrRefused, "exception-handling proposal", false},
		{"try_table", codeModule([]byte{0x1f, bt0, 0}, end, end), ErrRefused, "exception-handling proposal", false},
		{"tag section", module(sec(13, vec([]byte{0, 0}))), ErrRefused, "exception-handling proposal", false},
		{"atomics", codeModule(i32c(0), []byte{0xfe, 0x10, 2, 0}, []byte{0x1a}, end), ErrRefused, "threads proposal", false},
		{"shared memory", module(sec(2, vec(cat(str("env"), str("m"), []byte{2, 3, 1, 1})))), ErrRefused, "threads proposal", false},
		{"GC instruction", codeModule([]byte{0xfb, 0x00, 0}, end), ErrRefused, "GC proposal", false},
		{"ref.eq", codeModule([]byte{0xd0, tFunc, 0xd0, tFunc, 0xd5, 0x1a}, end), ErrRefused, "GC proposal", false},
		{"GC struct type", module(sec(1, vec([]byte{0x5f, 0}))), ErrRefused, "GC proposal", false},
		{"call_ref", codeModule([]byte{0x14, 0}, end), ErrRefused, "typed function references proposal", false},
		{"typed reference local", module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, vec(body([][2]byte{{1, 0x64}}, end)))), ErrRefused, "typed function references proposal", false},
		{"ref.null of a concrete type", codeModule([]byte{0xd0, 0x00, 0x1a}, end), ErrRefused, "GC proposal", false},
		{"relaxed SIMD", codeModule(i32c(0), []byte{0xfd, 0x00, 4, 0}, []byte{0xfd, 0x80, 0x02}, []byte{0x1a}, end), ErrRefused, "relaxed SIMD proposal", false},
		{"extended const", module(sec(6, vec(global(tI32, false, cat(i32c(1), i32c(2), []byte{0x6a})...)))), ErrRefused, "extended-const proposal", false},
		{"memory64", module(sec(2, vec(cat(str("env"), str("m"), []byte{2, 4, 1})))), ErrRefused, "memory64 proposal", false},
		{"multi-memory", codeModule([]byte{0x3f, 1, 0x1a}, end), ErrRefused, "multi-memory proposal", false},
		{"component", []byte("\x00asm\x0d\x00\x01\x00"), ErrRefused, "components", false},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), ErrRefused, "version", false},
		// Accepted by wazero, refused here:
		{"SIMD sub-opcode read two ways", codeModule(i32c(0), []byte{0xfd, 0x00, 4, 0}, []byte{0xfd, 0x80, 0x1a}, end), ErrRefused, "read different instructions", true}, // wazero: i16x8.abs, drop
		{"sections out of order", module(sec(3, vec()), sec(1, vec())), ErrRefused, "out of order", true},
		{"import section twice", module(sec(2, vec()), sec(2, vec(importGlobal("env", "g", tI32, false)))), ErrRefused, "repeated", true},
		{"imports the check", module(sec(1, vec(functype(nil, nil))), sec(2, vec(importFunc(ModuleName, FieldName, 0)))), ErrInstrumented, "only the host may provide", true},
		{"imports from the host's module", module(sec(2, vec(importGlobal(ModuleName, "stop", tI32, true)))), ErrInstrumented, "only the host may provide", true},
		// Not WebAssembly:
		{"no header", []byte("hello world"), ErrMalformed, "header", false},
		{"empty", nil, ErrMalformed, "header", false},
		{"unknown opcode", codeModule([]byte{0x27}, end), ErrMalformed, "unknown opcode 0x27", false},
		{"unknown 0xfc", codeModule([]byte{0xfc, 18}, end), ErrMalformed, "0xfc 18", false},
		{"unknown vector instruction", codeModule([]byte{0xfd, 0x9a, 0x01}, end), ErrMalformed, "vector instruction 0x9a", false},
		{"unknown section", module([]byte{14, 0}), ErrMalformed, "section id 14", false},
		{"typed select of two", codeModule(i32c(1), i32c(2), i32c(0), []byte{0x1c, 2, tI32, tI32, 0x1a}, end), ErrMalformed, "exactly one type", false},
		{"body without end", codeModule([]byte{0x01}), ErrMalformed, "without the end", false},
		{"code after the end", codeModule(end, []byte{0x01}), ErrMalformed, "before its declared size", false},
		{"section longer than the module", []byte("\x00asm\x01\x00\x00\x00\x01\x10\x00"), ErrMalformed, "claims 16 bytes", false},
		{"LEB128 too long", []byte("\x00asm\x01\x00\x00\x00\x01\x80\x80\x80\x80\x80\x00"), ErrMalformed, "longer than 5 bytes", false},
		{"call past the functions", codeModule(call(1), end), ErrMalformed, "function index 1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Instrument(c.wasm)
			if !errors.Is(err, c.kind) {
				t.Fatalf("%v, want %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Fatalf("%q does not say %q", err, c.says)
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(c.wasm) {
				t.Fatalf("%v: not an *Error with an offset in the module", err)
			}
			_, werr := rt.CompileModule(ctx, c.wasm)
			if (werr == nil) != c.wazeroAccepts {
				t.Fatalf("wazero's compile: %v; the test expects it to accept: %v", werr, c.wazeroAccepts)
			}
		})
	}
}

// TestModuleCannotNameTheCounter: the counter takes the index after the
// module's globals, so an index the module does not have would name it,
// and setting it would starve the checks. Every place a global index
// appears refuses it (wazero would refuse the original module too).
func TestModuleCannotNameTheCounter(t *testing.T) {
	for name, in := range map[string][]byte{
		"global.set":            codeModule(i32c(0), globalSet(0), end),
		"global.get":            codeModule(globalGet(0), []byte{0x1a}, end),
		"global.set after own":  module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(6, vec(global(tI32, true, i32c(0)...))), sec(10, vec(body(nil, i32c(9), globalSet(1), end)))),
		"export":                module(sec(6, vec(global(tI32, true, i32c(0)...))), sec(7, vec(export("budget", 3, 1)))),
		"global initialiser":    module(sec(6, vec(global(tI32, true, globalGet(2)...), global(tI32, true, i32c(0)...)))),
		"element offset":        module(sec(4, vec([]byte{tFunc, 0, 1})), sec(9, vec(cat(uleb(0), globalGet(0), end, vec())))),
		"data offset":           module(sec(5, vec([]byte{0, 1})), sec(11, vec(cat(uleb(0), globalGet(0), end, str("x"))))),
		"padded index":          codeModule(i32c(0), []byte{0x24, 0x80, 0x80, 0x00}, end),
		"imported, then one on": module(sec(1, vec(functype(nil, nil))), sec(2, vec(importGlobal("env", "g", tI32, true))), sec(3, vec(uleb(0))), sec(10, vec(body(nil, i32c(9), globalSet(1), end)))),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Instrument(in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "global index") {
				t.Fatalf("%v, want ErrMalformed naming the global index", err)
			}
		})
	}

	// The module's own last global is its own: setting it in a loop
	// leaves the checks counting, and a cancellation stops the loop.
	in := module(
		sec(1, vec(functype(nil, nil))),
		sec(3, vec(uleb(0))),
		sec(6, vec(global(tI32, true, i32c(0)...))),
		sec(7, vec(export("spin", 0, 0))),
		sec(10, vec(body(nil, []byte{0x03, bt0}, i32c(Budget), globalSet(0), []byte{0x0c, 0}, end, end))),
	)
	m := instantiate(t, newRuntime(t, wazero.NewRuntimeConfig()), instrument(t, in))
	stopsWhenCancelled(t, func(ctx context.Context) error {
		_, err := m.ExportedFunction("spin").Call(ctx)
		return err
	})
}

// allocated is the bytes the Go heap handed out while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileLengths: lengths and counts that claim far more than the
// input holds are refused before anything is sized on them: a small
// input costs a small allocation.
func TestHostileLengths(t *testing.T) {
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f} // 2^32-1
	for name, in := range map[string][]byte{
		"section size":      cat([]byte("\x00asm\x01\x00\x00\x00\x01"), huge),
		"type count":        module(sec(1, huge)),
		"import count":      module(sec(2, huge)),
		"import name":       module(sec(2, uleb(1), huge, []byte("env"))),
		"function count":    module(sec(3, huge)),
		"global count":      module(sec(6, huge)),
		"export count":      module(sec(7, huge)),
		"element count":     module(sec(9, huge)),
		"element functions": module(sec(9, uleb(1), uleb(0), i32c(0), end, huge)),
		"code count":        module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, huge)),
		"body size":         module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, uleb(1), huge, []byte{0, 0x0b})),
		"local count":       module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, vec(cat(uleb(6), huge, []byte{0x0b})))),
		"br_table count":    codeModule([]byte{0x02, bt0}, i32c(0), []byte{0x0e}, huge, []byte{0}, end, end),
		"data count":        module(sec(11, huge)),
		"data size":         module(sec(5, vec([]byte{0, 1})), sec(11, uleb(1), uleb(1), huge, []byte("x"))),
		"custom name":       module(sec(0, huge, []byte("name"))),
		"locals in total": module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, vec(func() []byte {
			c := cat(uleb(2), uleb(1<<31), []byte{tI32}, uleb(1<<31), []byte{tI64}, end) // 2^32 locals in 13 bytes
			return cat(uleb(uint64(len(c))), c)
		}()))),
		"name map count": module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, vec(body(nil, end))), sec(0, str("name"), []byte{1, 5}, huge)),
	} {
		t.Run(name, func(t *testing.T) {
			var out []byte
			var err error
			n := allocated(func() { out, err = Instrument(in) })
			switch {
			case name == "name map count": // a name section that does not parse is dropped
				if err != nil || bytes.Contains(out, []byte("\x04name")) {
					t.Fatalf("%v; the name section should be dropped, and the module kept", err)
				}
			case err == nil:
				t.Fatal("accepted")
			}
			if n > 64<<10 {
				t.Fatalf("%d bytes allocated for a %d-byte input", n, len(in))
			}
		})
	}

	// Over the cap: refused by its length, before anything is read.
	var err error
	big := make([]byte, MaxModuleBytes+1)
	copy(big, "\x00asm\x01\x00\x00\x00")
	if n := allocated(func() { _, err = Instrument(big) }); n > 64<<10 {
		t.Fatalf("%d bytes allocated refusing an oversized module", n)
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("%v, want ErrRefused for the size", err)
	}
}

// TestDeepNesting: a million nested blocks and loops are walked without
// recursion; each loop gains its check and nothing else grows.
func TestDeepNesting(t *testing.T) {
	const depth = 1 << 20
	code := bytes.Repeat([]byte{0x02, bt0, 0x03, bt0}, depth/2)
	code = append(code, bytes.Repeat([]byte{0x0b}, depth+1)...)
	in := codeModule(code)
	var out []byte
	var err error
	n := allocated(func() { out, err = Instrument(in) })
	if err != nil {
		t.Fatal(err)
	}
	r, err := check(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.loops != depth/2 || r.loopChecks != depth/2 {
		t.Fatalf("%d loops, %d checked; want %d", r.loops, r.loopChecks, depth/2)
	}
	if n > 4*uint64(len(out)) {
		t.Fatalf("%d bytes allocated for a %d-byte output", n, len(out))
	}
}

// TestTruncationsAndFlips: every prefix of a valid module, and the
// module with each byte changed, is refused or instrumented; never a
// panic (a panic fails the test).
func TestTruncationsAndFlips(t *testing.T) {
	for _, in := range seeds() {
		for i := 0; i < len(in); i++ {
			_, _ = Instrument(in[:i])
			for _, v := range []byte{0x00, 0x7f, 0x80, 0xff, in[i] + 1} {
				mutated := append([]byte(nil), in...)
				mutated[i] = v
				_, _ = Instrument(mutated)
			}
		}
	}
}
