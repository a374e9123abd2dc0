package interrupt

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"
)

// seeds are the hand-written modules of the tests.
func seeds() [][]byte {
	return [][]byte{
		spinModule(),
		countModule(),
		recursionModule(),
		functionsModule(),
		envModule(),
		featuresModule(),
		codeModule([]byte{0x02, bt0, 0x03, bt0}, i32c(0), []byte{0x0e, 1, 1, 0, 0x0b, 0x0b}, end),
		module(sec(2, vec(importGlobal("env", "g", tI32, false))), sec(6, vec(global(tI32, false, globalGet(0)...))), sec(7, vec(export("g", 3, 1)))),
	}
}

// agree is the property that joins the instrumenter to wazero, for any
// input: Instrument never panics and never returns more than a few times
// the input; if wazero (WebAssembly 2.0) compiles the input, Instrument
// succeeds, or refuses it on purpose (ErrRefused, ErrInstrumented); and
// what it returns for a module wazero compiles, wazero compiles too, and
// the checker finds every loop checked and nothing of the module's own
// naming what was added.
//
// wazero 1.9 is given an input only once Instrument has checked its
// lengths and counts (it succeeded, or failed in the code, after the
// survey): wazero sizes its tables on the counts it reads, so a few
// bytes claiming 2^32-1 entries would make it allocate hundreds of
// gigabytes (FuzzInstrument found that first). Instrument, in front of
// wazero, is what keeps such a module from the plugin runtime.
// compileRecovered compiles b, and reports a panic of wazero's as an
// error: wazero 1.9's validation panics on some malformed functions (the
// fuzzer found one indexing past a function's locals); the runtime
// recovers it the same way (host/plugin's compile), so for this property
// it is wazero refusing the module.
func compileRecovered(ctx context.Context, rt wazero.Runtime, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("wazero panicked: %v", r)
		}
	}()
	c, err := rt.CompileModule(ctx, b)
	if err == nil {
		_ = c.Close(ctx)
	}
	return err
}

func agree(t testing.TB, rt wazero.Runtime, in []byte) {
	ctx := context.Background()
	out, err := Instrument(in)
	var e *Error
	if err != nil && !(errors.As(err, &e) && e.sized) {
		if !errors.As(err, &e) {
			t.Fatalf("Instrument returned %T, not an *Error: %v", err, err)
		}
		return
	}
	werr := compileRecovered(ctx, rt, in)
	if err != nil {
		if werr == nil && !errors.Is(err, ErrRefused) && !errors.Is(err, ErrInstrumented) {
			t.Fatalf("wazero compiles the module, but Instrument says: %v", err)
		}
		return
	}
	if len(out) > 4*len(in)+256 {
		t.Fatalf("%d bytes out of %d in", len(out), len(in))
	}
	if werr != nil {
		return
	}
	if err := compileRecovered(ctx, rt, out); err != nil {
		t.Fatalf("wazero compiles the module, but not its instrumented copy: %v", err)
	}
	before, err := check(in)
	if err != nil {
		return // the checker reads by the specification; wazero is more lenient here and there
	}
	after, err := check(out)
	if err != nil {
		t.Fatalf("the instrumented module fails the checker: %v", err)
	}
	if after.loops != before.loops || after.loopChecks != after.loops || after.checkFunc < 0 {
		t.Fatalf("%d loops in, %d out, %d checked", before.loops, after.loops, after.loopChecks)
	}
}

// TestWazeroAgrees runs the property over the seeds, every prefix of
// each, and each with every byte changed to a few values.
func TestWazeroAgrees(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, in := range seeds() {
		agree(t, rt, in)
		for i := 0; i < len(in); i++ {
			agree(t, rt, in[:i])
			for _, v := range []byte{0x00, 0x01, 0x0b, 0x40, 0x7f, 0x80, in[i] + 1, in[i] - 1} {
				mutated := append([]byte(nil), in...)
				mutated[i] = v
				agree(t, rt, mutated)
			}
		}
	}
}

// FuzzInstrument is the property over arbitrary bytes.
func FuzzInstrument(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, in []byte) {
		agree(t, rt, in)
	})
}
