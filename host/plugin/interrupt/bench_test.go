package interrupt

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// BenchmarkLoop is the price of stopping a tight loop, per iteration
// (ns/iter), in wazero's compiler: without any check (plain), with
// wazero's WithCloseOnContextDone (its compiled code leaves for Go at
// every iteration), and instrumented (a counter, and a trip to Go every
// Budget iterations).
func BenchmarkLoop(b *testing.B) {
	const iterations = 1 << 24
	ctx := context.Background()
	for _, mode := range []struct {
		name       string
		instrument bool
		closeOnCtx bool
	}{
		{"plain", false, false},
		{"closeOnContextDone", false, true},
		{"instrumented", true, false},
	} {
		b.Run(mode.name, func(b *testing.B) {
			wasm := countModule()
			if mode.instrument {
				wasm = instrument(b, wasm)
			}
			rt := newRuntime(b, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(mode.closeOnCtx))
			f := instantiate(b, rt, wasm).ExportedFunction("count")
			b.ResetTimer()
			for b.Loop() {
				if res, err := f.Call(ctx, iterations); err != nil || res[0] != iterations {
					b.Fatal(res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/iterations, "ns/iter")
		})
	}
}

// BenchmarkGoProgram runs testdata/loops (goroutines, maps, sorting,
// hashing, big numbers, recursion) to its end in wazero's compiler, in
// the three modes of BenchmarkLoop, taking turns so that a busy machine
// weighs on each alike: what the check costs real Go code, where calls
// are many and most get a check too. It reports each mode's median CPU
// time per run (the op is one run of each).
func BenchmarkGoProgram(b *testing.B) {
	ctx := context.Background()
	in := goWasm(b, "host/plugin/interrupt/testdata/loops", false)
	type mode struct {
		name string
		rt   wazero.Runtime
		c    wazero.CompiledModule
		cpu  []time.Duration
	}
	var modes []*mode
	for _, m := range []struct {
		name       string
		instrument bool
		closeOnCtx bool
	}{
		{"plain", false, false},
		{"closeOnContextDone", false, true},
		{"instrumented", true, false},
	} {
		wasm := in
		if m.instrument {
			wasm = instrument(b, in)
		}
		rt := wasiRuntime(b, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(m.closeOnCtx))
		modes = append(modes, &mode{name: m.name, rt: rt, c: compile(b, rt, wasm)})
	}
	b.ResetTimer()
	for b.Loop() {
		for _, m := range modes {
			start := cpuTime()
			if _, err := runCommand(ctx, b, m.rt, m.c, loopsInput); err != nil {
				b.Fatal(err)
			}
			m.cpu = append(m.cpu, cpuTime()-start)
		}
	}
	for _, m := range modes {
		slices.Sort(m.cpu)
		b.ReportMetric(float64(m.cpu[len(m.cpu)/2].Microseconds())/1e3, m.name+"-cpu-ms")
	}
}

// bigModule builds testdata/big, a Go program carrying the AWS SDK's IAM
// and STS clients and much of the standard library: the size of the
// largest plugins. It takes a minute the first time (then the build
// cache has it).
func bigModule(b *testing.B) []byte {
	b.Helper()
	out := filepath.Join(b.TempDir(), "big.wasm")
	buildGo(b, "host/plugin/interrupt/testdata/big", out, false)
	wasm, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

// BenchmarkInstrument instruments a Go module of some 20 MB; cpu-ms/op
// is the process's CPU time per instrumentation (wall time, ns/op, also
// counts what other processes take from a busy machine).
func BenchmarkInstrument(b *testing.B) {
	wasm := bigModule(b)
	b.SetBytes(int64(len(wasm)))
	b.ReportMetric(float64(len(wasm))/1e6, "MB-in")
	var out []byte
	start := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if out, err = Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(len(out))/1e6, "MB-out")
}
