package plugin

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/iammcp/iam-mcp-server/host/plugin/interrupt"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The direct host functions (api.HostDirectModule) read a request out of
// the plugin's memory and write the answer into it, instead of copying both
// through the Extism kernel's memory, which the guest reads eight bytes per
// host call (a 10 MB page of authorization details: 1.3 million calls).
//
// Extism's host functions are not handed the calling module, so these are
// defined in a small wazero runtime of the plugin's own and linked into each
// instance at instantiation, through wazero's import resolver (see link).
// wazero hands a Go function the module that called it, so the host reads
// and writes the plugin's memory directly. wazero links imports by the
// exporting module's instance, so the functions are re-exported by a
// three-line Wasm module (directRelay): the resolver must answer with a Wasm
// module, not a host module.

// directHostName is the name of the host module inside the plugin's own
// runtime (the relay imports from it).
const directHostName = "iam-mcp-direct-host"

// directRelay is (module
//
//	(import "iam-mcp-direct-host" "iam_call" (func (param i32 i32) (result i32)))
//	(import "iam-mcp-direct-host" "iam_batch" (func (param i32 i32) (result i32)))
//	(import "iam-mcp-direct-host" "answer" (func (param i32 i32)))
//	(export "iam_call" (func 0)) (export "iam_batch" (func 1)) (export "answer" (func 2)))
var directRelay = relayModule(directHostName, []relayFunc{
	{api.HostIAMCall, 0}, {api.HostIAMBatch, 0}, {api.HostDirectAnswer, 1},
})

// interruptRelay re-exports the check that interrupt.Instrument makes every
// module import (interrupt.ModuleName, interrupt.FieldName: [] -> []). It
// is linked here rather than as an Extism host function because a module's
// start section runs at instantiation, outside any Extism call, where
// Extism's host functions refuse to run.
var interruptRelay = relayModule(directHostName, []relayFunc{{interrupt.FieldName, 2}})

// relayFunc is one function of a relay module: its name and its type
// (0: (i32, i32) -> i32; 1: (i32, i32) -> (); 2: () -> ()).
type relayFunc struct {
	name string
	typ  byte
}

// relayModule encodes a Wasm module that imports fns from module and
// exports them under the same names.
func relayModule(module string, fns []relayFunc) []byte {
	name := func(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }
	section := func(b []byte, id byte, body []byte) []byte {
		return append(append(append(b, id), uleb(len(body))...), body...)
	}
	types := []byte{3, 0x60, 2, 0x7f, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 0, 0}
	imports, exports := []byte{byte(len(fns))}, []byte{byte(len(fns))}
	for i, f := range fns {
		imports = append(name(name(imports, module), f.name), 0, f.typ)
		exports = append(name(exports, f.name), 0, byte(i))
	}
	m := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	m = section(m, 1, types)
	m = section(m, 2, imports)
	return section(m, 7, exports)
}

// uleb is n in unsigned LEB128.
func uleb(n int) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// directLinks is a plugin's runtime for what its instances link to besides
// Extism's: the direct host functions and the interrupt check. Safe for
// concurrent use.
type directLinks struct {
	rt        wazero.Runtime
	relay     wapi.Module // api.HostDirectModule
	interrupt wapi.Module // interrupt.ModuleName
}

// newDirectLinks defines p's direct host functions.
func (p *loaded) newDirectLinks(ctx context.Context) (*directLinks, error) {
	rt := wazero.NewRuntime(ctx)
	b := rt.NewHostModuleBuilder(directHostName)
	call := func(f hostFunc) wapi.GoModuleFunc {
		return func(ctx context.Context, m wapi.Module, stack []uint64) {
			stack[0] = uint64(len(p.direct(ctx, m, f, uint32(stack[0]), uint32(stack[1]))))
		}
	}
	i32 := wapi.ValueTypeI32
	b.NewFunctionBuilder().WithGoModuleFunction(call(p.iamCallHostFunc()), []wapi.ValueType{i32, i32}, []wapi.ValueType{i32}).Export(api.HostIAMCall)
	b.NewFunctionBuilder().WithGoModuleFunction(call(p.iamBatchHostFunc()), []wapi.ValueType{i32, i32}, []wapi.ValueType{i32}).Export(api.HostIAMBatch)
	b.NewFunctionBuilder().WithGoModuleFunction(wapi.GoModuleFunc(p.directAnswer), []wapi.ValueType{i32, i32}, nil).Export(api.HostDirectAnswer)
	b.NewFunctionBuilder().WithGoFunction(wapi.GoFunc(func(ctx context.Context, _ []uint64) { interrupt.Check(ctx) }), nil, nil).Export(interrupt.FieldName)
	if _, err := b.Instantiate(ctx); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("plugin %s: the direct host functions: %w", p.name, err)
	}
	l := &directLinks{rt: rt}
	for _, r := range []struct {
		mod  *wapi.Module
		bin  []byte
		what string
	}{{&l.relay, directRelay, "the direct host functions' relay"}, {&l.interrupt, interruptRelay, "the interrupt check's relay"}} {
		m, err := rt.InstantiateWithConfig(ctx, r.bin, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("plugin %s: %s: %w", p.name, r.what, err)
		}
		*r.mod = m
	}
	return l, nil
}

// link is ctx with wazero's import resolver answering HostDirectModule
// and interrupt.ModuleName with the plugin's links (and any other name as
// usual):
// an instance made under it imports them.
func (l *directLinks) link(ctx context.Context) context.Context {
	return experimental.WithImportResolver(ctx, func(name string) wapi.Module {
		switch name {
		case api.HostDirectModule:
			return l.relay
		case interrupt.ModuleName:
			return l.interrupt
		}
		return nil
	})
}

func (l *directLinks) close(ctx context.Context) {
	if l != nil {
		_ = l.rt.Close(ctx)
	}
}

// direct runs f on the request at [ptr, ptr+n) of the calling plugin's
// memory, and keeps its answer in the call's state for directAnswer. A
// request over f.maxIn is refused unread, as through Extism. An offset
// outside the plugin's memory traps it.
func (p *loaded) direct(ctx context.Context, m wapi.Module, f hostFunc, ptr, n uint32) []byte {
	st := stateOf(ctx)
	var out []byte
	if uint64(n) > f.maxIn {
		out = f.tooBig(ctx, st, uint64(n))
	} else {
		in, ok := m.Memory().Read(ptr, n)
		if !ok {
			panic(fmt.Errorf("plugin %s: %s: its %d-byte request at offset %d is outside its memory", p.name, f.name, n, ptr))
		}
		// A copy: the answer is made while the plugin waits, but a batch's
		// requests keep pieces of it (their arguments) in goroutines and
		// audit lines.
		out = f.run(ctx, st, bytes.Clone(in))
	}
	st.answer = out
	return out
}

// directAnswer is answer(dst, n): copies the waiting answer to [dst, dst+n)
// of the plugin's memory, once.
func (p *loaded) directAnswer(ctx context.Context, m wapi.Module, stack []uint64) {
	st := stateOf(ctx)
	dst, n := uint32(stack[0]), uint32(stack[1])
	if st.answer == nil {
		panic(fmt.Errorf("plugin %s: %s: no answer is waiting (call iam_call or iam_batch of %s first)", p.name, api.HostDirectAnswer, api.HostDirectModule))
	}
	if int(n) != len(st.answer) {
		panic(fmt.Errorf("plugin %s: %s: asked for %d bytes, but the answer waiting has %d", p.name, api.HostDirectAnswer, n, len(st.answer)))
	}
	if !m.Memory().Write(dst, st.answer) {
		panic(fmt.Errorf("plugin %s: %s: cannot write its %d-byte answer at offset %d, outside its memory (limits.memory is %s)", p.name, api.HostDirectAnswer, n, dst, p.limits.Memory))
	}
	st.answer = nil
}
