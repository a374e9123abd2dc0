package plugin

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

// BenchmarkColdLoad loads the good plugin without a compilation cache:
// read, hash, compile, instantiate, describe.
func BenchmarkColdLoad(b *testing.B) {
	g, _, _ := sandboxGate(b, gate.Options{})
	for b.Loop() {
		h, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g})
		if err != nil {
			b.Fatal(err)
		}
		h.Close(ctx)
	}
}

// BenchmarkWarmLoad loads it with the compilation and describe caches
// warm: read and hash the module, list its tools from the cached describe
// answer; nothing is compiled or instantiated.
func BenchmarkWarmLoad(b *testing.B) {
	g, _, _ := sandboxGate(b, gate.Options{})
	for b.Loop() {
		h, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g, CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		h.Close(ctx)
	}
}

// BenchmarkWarmLoadFirstCall is a warm Load and the first call of one of
// its tools, which compiles the plugin (its machine code from the cache),
// makes its first instance and starts it: what a warm start defers to the
// first use.
func BenchmarkWarmLoadFirstCall(b *testing.B) {
	g, _, _ := sandboxGate(b, gate.Options{})
	for b.Loop() {
		h, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g, CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Call(ctx, "good_echo", json.RawMessage(`{}`), nil); err != nil {
			b.Fatal(err)
		}
		h.Close(ctx)
	}
}

// BenchmarkInstantiate makes a new instance and makes its first call
// (which starts the Go runtime in it): what a call pays after its
// instance was replaced.
func BenchmarkInstantiate(b *testing.B) {
	e := newEnv(b, gate.Options{}, spec("good"))
	p := e.h.plugins[0]
	startPlugin(b, p) // compiled, whether Load did it or found the describe cached
	input, _ := json.Marshal(map[string]any{"tool": "echo", "arguments": map[string]any{}})
	for b.Loop() {
		inst, err := p.newInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := inst.ext.CallWithContext(ctx, "call", input); err != nil {
			b.Fatal(err)
		}
		inst.close()
	}
}

// BenchmarkWarmCall is one call of a tool that makes no IAM call, on a
// warm instance.
func BenchmarkWarmCall(b *testing.B) {
	e := newEnv(b, gate.Options{}, spec("good"))
	args := json.RawMessage(`{}`)
	for b.Loop() {
		if _, err := e.h.Call(ctx, "good_echo", args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// iamBenchArgs are list_users arguments: one user (a small result), and
// the demo organisation's first page (about 5.6 KB of JSON).
var iamBenchArgs = map[string]json.RawMessage{
	"one":  json.RawMessage(`{"path_prefix":"/","max_items":1}`),
	"page": json.RawMessage(`{"path_prefix":"/"}`),
}

// BenchmarkPluginIAMCall is a plugin tool making one iam_call (list_users)
// on the in-process sandbox, decoding its result; BenchmarkGateIAMCall is
// the same operation called through the gate directly, as a built-in tool
// does. The difference is what the plugin adds.
func BenchmarkPluginIAMCall(b *testing.B) {
	e := newEnv(b, gate.Options{}, goodWithReads())
	for _, name := range []string{"one", "page"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.h.Call(ctx, "good_users", iamBenchArgs[name], nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGateIAMCall(b *testing.B) {
	g, _, _ := sandboxGate(b, gate.Options{})
	for _, name := range []string{"one", "page"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				out, err := g.Call(ctx, gate.Caller{Kind: gate.BuiltIn}, "list_users", iamBenchArgs[name])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallelCalls runs the warm call from many goroutines at once
// (the pool's bound, 8 instances, applies).
func BenchmarkParallelCalls(b *testing.B) {
	e := newEnv(b, gate.Options{}, spec("good"))
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.h.Call(ctx, "good_echo", json.RawMessage(`{}`), nil); err != nil {
				panic(fmt.Sprint(err))
			}
		}
	})
}
