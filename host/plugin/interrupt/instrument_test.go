package interrupt

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// hangGuard only guards against a hang: a cancelled call stops within
// microseconds; minutes leave room for the busiest machine.
const hangGuard = 3 * time.Minute

// instrument instruments in and checks the output with the independent
// checker: the check function imported, every loop checked, as many loops
// and functions as in the input, nothing of the module's own naming what
// was added.
func instrument(t testing.TB, in []byte) []byte {
	t.Helper()
	out, err := Instrument(in)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	before, err := check(in)
	if err != nil {
		t.Fatalf("the checker cannot read the input: %v", err)
	}
	after, err := check(out)
	if err != nil {
		t.Fatalf("the output fails the checker: %v", err)
	}
	if after.checkFunc < 0 || after.counter < 0 {
		t.Fatal("the output does not import the check function or lacks the counter")
	}
	if after.loops != before.loops || after.loopChecks != before.loops || after.functions != before.functions {
		t.Fatalf("input: %d loops in %d functions; output: %d loops, %d checked, in %d functions",
			before.loops, before.functions, after.loops, after.loopChecks, after.functions)
	}
	return out
}

// engines are the runtimes a test runs a module in: wazero's compiler,
// as plugins run, and its interpreter, as they run where wazero has no
// compiler.
var engines = map[string]func() wazero.RuntimeConfig{
	"compiler":    wazero.NewRuntimeConfigCompiler,
	"interpreter": wazero.NewRuntimeConfigInterpreter,
}

// newRuntime is a runtime with the check's host module.
func newRuntime(t testing.TB, cfg wazero.RuntimeConfig) wazero.Runtime {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	if _, err := Instantiate(ctx, rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

func instantiate(t testing.TB, rt wazero.Runtime, wasm []byte) api.Module {
	t.Helper()
	m, err := rt.InstantiateWithConfig(context.Background(), wasm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatalf("instantiating: %v", err)
	}
	return m
}

// stopsWhenCancelled runs call in a goroutine, checks that it is still
// running a while later (it never returns by itself), makes Go's garbage
// collector stop the world meanwhile, cancels the call's context and
// checks that the call stops with ErrStopped.
//
// The collections are the point: compiled Wasm cannot be preempted, so a
// module that never returned to Go would make runtime.GC wait for ever,
// with every other goroutine stopped, this test's timers included; the
// test binary's own timeout would then end it, with every goroutine's
// stack.
func stopsWhenCancelled(t *testing.T, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	for i := 0; i < 3; i++ {
		runtime.GC()
		select {
		case err := <-done:
			t.Fatalf("the call returned before it was cancelled: %v", err)
		case <-time.After(30 * time.Millisecond):
		}
	}
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) {
			t.Fatalf("the call ended with %v, want ErrStopped and context.Canceled", err)
		}
		t.Logf("stopped %v after the cancellation", time.Since(cancelled))
	case <-time.After(hangGuard):
		t.Fatalf("the call still runs %v after its cancellation", hangGuard)
	}
}

func TestCancelStopsALoop(t *testing.T) {
	wasm := instrument(t, spinModule())
	for name, cfg := range engines {
		t.Run(name, func(t *testing.T) {
			m := instantiate(t, newRuntime(t, cfg()), wasm)
			stopsWhenCancelled(t, func(ctx context.Context) error {
				_, err := m.ExportedFunction("spin").Call(ctx)
				return err
			})
		})
	}
}

func TestCancelStopsRecursionWithoutLoops(t *testing.T) {
	wasm := instrument(t, recursionModule())
	for name, cfg := range engines {
		t.Run(name, func(t *testing.T) {
			m := instantiate(t, newRuntime(t, cfg()), wasm)
			res, err := m.ExportedFunction("twice").Call(context.Background(), 10)
			if err != nil || res[0] != 1024 {
				t.Fatalf("twice(10) = %v, %v; want 1024", res, err)
			}
			stopsWhenCancelled(t, func(ctx context.Context) error {
				_, err := m.ExportedFunction("twice").Call(ctx, 60)
				return err
			})
		})
	}
}

// TestTimeoutStops: a deadline stops the call as a cancellation does,
// and says it was the deadline.
func TestTimeoutStops(t *testing.T) {
	m := instantiate(t, newRuntime(t, wazero.NewRuntimeConfig()), instrument(t, spinModule()))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := m.ExportedFunction("spin").Call(ctx)
	if !errors.Is(err, ErrStopped) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want ErrStopped and context.DeadlineExceeded", err)
	}
}

// TestInstancesStopAlone: the check reads each call's own context;
// stopping one call leaves the others of the same module running.
func TestInstancesStopAlone(t *testing.T) {
	rt := newRuntime(t, wazero.NewRuntimeConfig())
	wasm := instrument(t, countModule())
	a, b := instantiate(t, rt, wasm), instantiate(t, rt, wasm)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.ExportedFunction("count").Call(ctx, 1<<30); !errors.Is(err, ErrStopped) {
		t.Fatalf("the cancelled call: %v, want ErrStopped", err)
	}
	res, err := b.ExportedFunction("count").Call(context.Background(), 3*Budget+7)
	if err != nil || res[0] != 3*Budget+7 {
		t.Fatalf("the other instance: %v, %v; want %d", res, err, 3*Budget+7)
	}
}

// functionsModule has a start function, functions reached through a
// table (by index and by ref.func), exported functions and globals, a
// global initialised from an import, segments at global offsets, and
// names for its functions. Its imports come from envModule. Its exports:
//
//	sum() = g0+g1+g2+g3 + mem[10] + mem[100] + table[10]() + table[12]() + started = 3077
//	spin(n) = the counter after n iterations adding 1 to it
//	set2(v) sets g2
//	env() = env.f(), an imported function = 7
func functionsModule() []byte {
	funcNames := vec(cat(uleb(1), str("sum")), cat(uleb(2), str("spin")), cat(uleb(5), str("start")))
	localNames := vec(cat(uleb(2), vec(cat(uleb(0), str("n")))))
	return module(
		sec(1, vec(functype(nil, []byte{tI32}), functype([]byte{tI32}, []byte{tI32}), functype([]byte{tI32}, nil), functype(nil, nil))),
		sec(2, vec(importFunc("env", "f", 0), importGlobal("env", "g0", tI32, false), importGlobal("env", "g1", tI32, true))),
		sec(3, vec(uleb(0), uleb(1), uleb(2), uleb(0), uleb(0), uleb(3))), // functions 1…6
		sec(4, vec([]byte{tFunc, 0x00, 20})),
		sec(5, vec([]byte{0x00, 0x01})),
		sec(6, vec(global(tI32, true, globalGet(0)...), global(tI32, false, i32c(5)...), global(tI32, true, i32c(0)...), global(tI32, true, i32c(0)...))),
		sec(7, vec(export("g0", 3, 0), export("g2", 3, 2), export("g3", 3, 3), export("counter", 3, 4),
			export("sum", 0, 1), export("spin", 0, 2), export("set2", 0, 3), export("env", 0, 0))),
		sec(8, uleb(6)),
		sec(9, vec(
			cat(uleb(0), globalGet(0), end, vec(uleb(4))),                                       // table[g0] = f4
			cat(uleb(6), uleb(0), i32c(12), end, []byte{tFunc}, vec(cat([]byte{0xd2, 5}, end))), // table[12] = ref.func f5
		)),
		sec(10, vec(
			body(nil, globalGet(0), globalGet(1), []byte{0x6a}, globalGet(2), []byte{0x6a}, globalGet(3), []byte{0x6a},
				i32c(10), []byte{0x2d, 0, 0}, []byte{0x6a}, // i32.load8_u
				i32c(100), []byte{0x2d, 0, 0}, []byte{0x6a},
				i32c(10), []byte{0x11, 0, 0}, []byte{0x6a}, // call_indirect type 0 table 0
				i32c(12), []byte{0x11, 0, 0}, []byte{0x6a},
				globalGet(5), []byte{0x6a},
				end),
			body(nil, []byte{0x03, bt0},
				globalGet(4), i32c(1), []byte{0x6a}, globalSet(4),
				localGet(0), i32c(1), []byte{0x6b}, []byte{0x22, 0}, []byte{0x0d, 0},
				end, globalGet(4), end),
			body(nil, localGet(0), globalSet(2), end),
			body(nil, i32c(1000), end),
			body(nil, i32c(900), call(4), []byte{0x6a}, end),
			body(nil, i32c(100), globalSet(5), end), // the start function
		)),
		sec(11, vec(
			cat(uleb(0), globalGet(0), end, str("\x2a")),
			cat(uleb(2), uleb(0), i32c(100), end, str("\x03")),
		)),
		sec(0, str("name"),
			[]byte{1}, uleb(uint64(len(funcNames))), funcNames,
			[]byte{2}, uleb(uint64(len(localNames))), localNames),
	)
}

// envModule provides functionsModule's imports.
func envModule() []byte {
	return module(
		sec(1, vec(functype(nil, []byte{tI32}))),
		sec(3, vec(uleb(0))),
		sec(6, vec(global(tI32, false, i32c(10)...), global(tI32, true, i32c(7)...))),
		sec(7, vec(export("f", 0, 0), export("g0", 3, 0), export("g1", 3, 1))),
		sec(10, vec(body(nil, i32c(7), end))),
	)
}

// TestIndicesFollowTheShift runs the same calls on functionsModule and
// on its instrumented copy: every function, global, segment, export and
// the start function must still be the one the module meant.
func TestIndicesFollowTheShift(t *testing.T) {
	ctx := context.Background()
	in := functionsModule()
	out := instrument(t, in)
	r, err := check(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.checkFunc != 1 || r.counter != 6 {
		t.Fatalf("the check function is %d and the counter %d, want 1 (after the imported function) and 6 (after the 6 globals)", r.checkFunc, r.counter)
	}
	wantNames := map[uint32]string{2: "sum", 3: "spin", 6: "start"}
	if len(r.funcNames) != len(wantNames) {
		t.Fatalf("function names %v, want %v", r.funcNames, wantNames)
	}
	for i, n := range wantNames {
		if r.funcNames[i] != n {
			t.Fatalf("function names %v, want %v", r.funcNames, wantNames)
		}
	}

	run := func(t *testing.T, cfg wazero.RuntimeConfig, wasm []byte) []uint64 {
		rt := newRuntime(t, cfg)
		if _, err := rt.InstantiateWithConfig(ctx, envModule(), wazero.NewModuleConfig().WithName("env")); err != nil {
			t.Fatal(err)
		}
		m := instantiate(t, rt, wasm)
		call := func(name string, args ...uint64) uint64 {
			res, err := m.ExportedFunction(name).Call(ctx, args...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(res) == 0 {
				return 0
			}
			return res[0]
		}
		got := []uint64{call("sum"), call("spin", 5), call("spin", 3), call("env")}
		call("set2", 99)
		for _, g := range []string{"g0", "g2", "g3", "counter"} {
			got = append(got, m.ExportedGlobal(g).Get())
		}
		return append(got, call("sum"))
	}
	for name, cfg := range engines {
		t.Run(name, func(t *testing.T) {
			want := run(t, cfg(), in)
			if want[0] != 3077 {
				t.Fatalf("the original module's sum is %d, want 3077: the test module is wrong", want[0])
			}
			got := run(t, cfg(), out)
			if !equal(got, want) {
				t.Fatalf("instrumented: %v, original: %v", got, want)
			}
		})
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIndicesCrossingAByte: with 130 imported functions the check's call
// takes two bytes; calls of functions 126 and 127 become 127 and 128 (one
// byte to two), and a call written in a padded five-byte LEB128, as
// linkers write them, keeps its five bytes.
func TestIndicesCrossingAByte(t *testing.T) {
	ctx := context.Background()
	for _, imported := range []int{0, 130} {
		var envFuncs, envBodies, envExports, imports [][]byte
		for i := 0; i < imported; i++ {
			envFuncs = append(envFuncs, uleb(0))
			envBodies = append(envBodies, body(nil, i32c(int32(i)), end))
			envExports = append(envExports, export("f"+itoa(i), 0, uint64(i)))
			imports = append(imports, importFunc("env", "f"+itoa(i), 0))
		}
		env := module(sec(1, vec(functype(nil, []byte{tI32}))), sec(3, vec(envFuncs...)), sec(7, vec(envExports...)), sec(10, vec(envBodies...)))
		// The module's own functions: "get" and 199 returning their own
		// index; get sums a few, one through a padded call.
		own := 200
		var funcs, bodies [][]byte
		for i := 0; i < own; i++ {
			funcs = append(funcs, uleb(0))
			bodies = append(bodies, body(nil, i32c(int32(imported+i)), end))
		}
		padded := []byte{0x10, 0x80 | byte(imported+3)&0x7f, 0x80 | byte((imported+3)>>7), 0x80, 0x80, 0x00} // call 3 in five bytes
		get := uint64(imported)                                                                              // the first own function
		bodies[0] = body(nil, call(uint64(imported+126)), call(uint64(imported+127)), []byte{0x6a}, padded, []byte{0x6a}, []byte{0x03, bt0}, end, end)
		sections := [][]byte{sec(1, vec(functype(nil, []byte{tI32})))}
		if imported > 0 {
			sections = append(sections, sec(2, vec(imports...)))
		}
		sections = append(sections, sec(3, vec(funcs...)), sec(7, vec(export("get", 0, get))), sec(10, vec(bodies...)))
		in := module(sections...)
		out := instrument(t, in)
		if !bytes.Contains(out, []byte{0x10, 0x80 | byte(imported+4)&0x7f, 0x80 | byte((imported+4)>>7), 0x80, 0x80, 0x00}) {
			t.Fatalf("%d imports: the padded call did not stay five bytes", imported)
		}
		rt := newRuntime(t, wazero.NewRuntimeConfig())
		if imported > 0 {
			if _, err := rt.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
				t.Fatal(err)
			}
		}
		m := instantiate(t, rt, out)
		want := uint64(3*imported + 126 + 127 + 3)
		if res, err := m.ExportedFunction("get").Call(ctx); err != nil || res[0] != want {
			t.Fatalf("%d imports: get() = %v, %v; want %d", imported, res, err, want)
		}
	}
}

// TestModulesMissingSections: the type, import and global sections are
// made where the order wants them when the module has none.
func TestModulesMissingSections(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":             module(),
		"types only":        module(sec(1, vec(functype([]byte{tI32}, nil)))),
		"custom first":      module(sec(0, str("x"), []byte("y")), sec(3, vec()), sec(10, vec())),
		"globals only":      module(sec(6, vec(global(tI32, false, i32c(3)...))), sec(7, vec(export("g", 3, 0)))),
		"imports, no types": module(sec(2, vec(importGlobal("env", "g", tI32, false))), sec(7, vec(export("g", 3, 0)))),
		"code, no globals":  module(sec(1, vec(functype(nil, nil))), sec(3, vec(uleb(0))), sec(10, vec(body(nil, []byte{0x03, bt0}, end, end)))),
	} {
		t.Run(name, func(t *testing.T) {
			out := instrument(t, in)
			rt := newRuntime(t, wazero.NewRuntimeConfig())
			env := module(sec(6, vec(global(tI32, false, i32c(3)...))), sec(7, vec(export("g", 3, 0))))
			if _, err := rt.InstantiateWithConfig(context.Background(), env, wazero.NewModuleConfig().WithName("env")); err != nil {
				t.Fatal(err)
			}
			m := instantiate(t, rt, out)
			if g := m.ExportedGlobal("g"); g != nil && g.Get() != 3 {
				t.Fatalf("the exported global reads %d, want 3", g.Get())
			}
		})
	}
}

// TestUnchangedSectionsKeepTheirBytes: what the rewrite does not touch
// is the input's own bytes (custom sections, the function, table,
// memory and data sections).
func TestUnchangedSectionsKeepTheirBytes(t *testing.T) {
	custom := sec(0, str("producers"), []byte("any bytes \x00\xff at all"))
	funcs := sec(3, vec(uleb(0)))
	table := sec(4, vec([]byte{tFunc, 0x00, 2}))
	memory := sec(5, vec([]byte{0x00, 0x01}))
	data := sec(11, vec(cat(uleb(0), i32c(8), end, str("data"))))
	in := module(custom, sec(1, vec(functype(nil, nil))), funcs, table, memory, sec(10, vec(body(nil, end))), data, custom)
	out := instrument(t, in)
	for _, part := range [][]byte{custom, funcs, table, memory, data} {
		if !bytes.Contains(out, part) {
			t.Fatalf("the section % x is not in the output as it was", part)
		}
	}
	if !bytes.HasSuffix(out, custom) {
		t.Fatal("the last custom section is not the output's end")
	}
}

// TestBodyWithoutCallsOrLoopsIsLeftAlone: a function that neither calls
// nor loops runs in bounded time; it gets no check, and its bytes stay.
func TestBodyWithoutCallsOrLoopsIsLeftAlone(t *testing.T) {
	leaf := body(nil, localGet(0), i32c(3), []byte{0x6c}, end)
	in := module(
		sec(1, vec(functype([]byte{tI32}, []byte{tI32}))),
		sec(3, vec(uleb(0), uleb(0))),
		sec(7, vec(export("triple", 0, 0), export("viaCall", 0, 1))),
		sec(10, vec(leaf, body(nil, localGet(0), call(0), end))),
	)
	out := instrument(t, in)
	r, _ := check(out)
	if r.entryChecks != 1 {
		t.Fatalf("%d functions start with the check, want 1 (the one that calls)", r.entryChecks)
	}
	if !bytes.Contains(out, leaf) {
		t.Fatal("the leaf function's body changed")
	}
	m := instantiate(t, newRuntime(t, wazero.NewRuntimeConfig()), out)
	if res, err := m.ExportedFunction("viaCall").Call(context.Background(), 5); err != nil || res[0] != 15 {
		t.Fatalf("viaCall(5) = %v, %v; want 15", res, err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	in := module(
		sec(1, vec(functype(nil, nil))),
		sec(3, vec(uleb(0), uleb(0))),
		sec(10, vec(body(nil, end), body(nil, []byte{0x12, 0x00}, end))),
	)
	_, err := Instrument(in)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRefused) {
		t.Fatalf("%v, want an *Error of kind ErrRefused", err)
	}
	if e.Func != 1 {
		t.Fatalf("the error names function %d, want 1", e.Func)
	}
	msg := err.Error()
	for _, want := range []string{"function 1", "return_call", "tail-call proposal", "plugins may not use", "build the plugin"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("%q does not say %q", msg, want)
		}
	}
	if in[e.Offset] != 0x12 {
		t.Fatalf("the error's offset %#x is not the return_call's", e.Offset)
	}
}
