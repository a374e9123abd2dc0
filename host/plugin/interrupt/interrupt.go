// Package interrupt makes a plugin's Wasm module stoppable without
// wazero's WithCloseOnContextDone, whose compiled code leaves for Go at
// every loop back-edge to look at the context (wazero 1.9 to 1.12,
// ensureTermination in its wazevo frontend): that exit costs a Go guest
// some 4-5x of all its CPU.
//
// Instrument rewrites a module before it is compiled. It adds a counter
// of its own (a mutable i32 global no instruction of the module's can
// name) and an import of one host function, ModuleName.FieldName, of
// type [] → []. At the start of every loop body, and at the start of
// every function that calls or loops, it inserts a check:
//
//	global.get $budget      ;; count down
//	i32.const 1
//	i32.sub
//	global.set $budget
//	global.get $budget
//	i32.eqz
//	if                      ;; every Budget checks:
//	  i32.const Budget
//	  global.set $budget
//	  call $check           ;; to Go: Check(ctx) stops the call when ctx is done
//	end
//
// Between two checks a module runs only straight-line code (no loop, no
// call), so every Budget short stretches it returns to Go. That trip
// does two things, both needed: Check stops the call when its context is
// done (a timeout, a cancelled MCP request); and the goroutine, in Go
// code for a moment, can be preempted. Compiled Wasm cannot be: a
// module that never left it would stall Go's garbage collector, whose
// stop-the-world waits for every goroutine, and with it every goroutine
// of the process, including the one that would cancel the call. A flag
// the compiled code reads without leaving for Go (the first design tried
// here) stops a loop only when no collection starts meanwhile; in a
// server that allocates, one always does.
//
// A function without loops or calls runs to its end, so loops and calls
// are the only ways to run long; tail calls, which would let recursion
// skip the checks, are refused with the other proposals beyond
// WebAssembly 2.0.
//
// Instrument also stands guard in front of wazero's decoder: it checks
// every length and count of a module against the bytes that hold it
// before wazero sees the module, which wazero 1.9 does not (it sizes its
// tables on the counts it reads: 38 bytes claiming 2^32-1 function
// bodies made it ask for 250 GB and kill the process).
package interrupt

import (
	"bytes"
	"errors"
	"fmt"
)

const (
	// ModuleName and FieldName name the host function an instrumented
	// module imports, of type [] → []; see Check.
	ModuleName = "iam-mcp:interrupt"
	FieldName  = "check"

	// Budget is how many checks (loop iterations and calls) a module
	// runs between two calls of the host function. A check costs a
	// load, a store and a branch; the trip to Go, once per Budget, is
	// lost in them; and the module returns to Go at least every Budget
	// short stretches of straight-line code: the tests see a cancelled
	// call stop within about a millisecond on a busy machine.
	Budget = 10000

	// MaxModuleBytes caps what Instrument reads; it is the plugin
	// runtime's cap on a module file (host/plugin.MaxModuleBytes), so a
	// module the runtime reads is never refused for its size here. The
	// output is at most a few times as large.
	MaxModuleBytes = 64 << 20
)

// The kinds of errors Instrument returns, for errors.Is.
var (
	// ErrMalformed: the bytes are not a valid WebAssembly module.
	ErrMalformed = errors.New("malformed module")
	// ErrRefused: the module may be valid WebAssembly, but it uses what
	// plugins may not (a proposal beyond WebAssembly 2.0, a size over
	// MaxModuleBytes) or what this instrumenter refuses to guess at
	// (sections out of order or repeated, encodings wazero and the
	// specification read differently).
	ErrRefused = errors.New("module refused")
	// ErrInstrumented: the module already imports from ModuleName
	// (instrumenting it twice, or a module naming the host's check
	// itself).
	ErrInstrumented = errors.New("module already instrumented")
)

// Error is an error of Instrument: what is wrong, where, and what to do.
type Error struct {
	Kind   error  // ErrMalformed, ErrRefused or ErrInstrumented
	Offset int    // byte offset in the module where the problem is
	Func   int    // index of the function whose body is at fault, or -1
	Reason string // what is wrong (and, for a refusal, what to do)
	// sized: every length and count of the module was checked before
	// this error (it is in the code), so a decoder can read the module
	// without allocating more than it holds.
	sized bool
}

func (e *Error) Error() string {
	where := fmt.Sprintf("at byte %#x", e.Offset)
	if e.Func >= 0 {
		where = fmt.Sprintf("in function %d, at byte %#x", e.Func, e.Offset)
	}
	var advice string
	switch e.Kind {
	case ErrMalformed:
		advice = "; the module is not valid WebAssembly: rebuild it with its toolchain"
	case ErrInstrumented:
		advice = "; give the plugin's own module, not one already instrumented"
	}
	return fmt.Sprintf("cannot make the module interruptible: %s (%s)%s", e.Reason, where, advice)
}

func (e *Error) Unwrap() error { return e.Kind }

// The sections of a module, by id. Custom sections (0) may appear
// anywhere; the others at most once each, in the order of sectionRank.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count", "tag"}

// sectionRank is a section's place in the order the specification fixes
// (the data count section comes before the code section).
var sectionRank = [...]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}

// writer rewrites a module lazily: out holds the rewritten module up to
// in[from:], which is not copied yet. What is left unchanged is copied in
// runs, only when something after it changes or at the end, so that the
// untouched sections are the input's own bytes.
type writer struct {
	in      []byte
	out     []byte
	from    int
	patches []patch

	types       uint32 // entries of the type section
	checkType   uint32 // index of the type [] → [], or types when it must be added
	imports     uint32 // entries of the import section
	importFuncs uint32 // imported functions: the new import's index
	funcs       uint64 // functions: imported and the module's own
	globals     uint32 // globals: imported and the module's own; the counter's index
	defined     uint32 // the module's own globals
	has         [len(sectionNames)]bool
	fn          int    // index of the function being rewritten, or -1
	check       []byte // the check (see the package documentation)
	// dry: the survey, which reads the sections as the rewrite does and
	// writes nothing.
	dry bool
}

// Instrument returns wasm with the check (see the package documentation)
// at the start of every loop body and of every function that calls or
// loops; wasm is not changed. It refuses input over MaxModuleBytes,
// malformed input, an instruction or section it does not know (it knows
// all of WebAssembly 2.0, as wazero's api.CoreFeaturesV2 accepts it), the
// proposals beyond it (tail calls, exceptions, threads, GC, …), a module
// that already imports from ModuleName, and one whose code names a
// global or function it does not have (that global would be the
// counter). It never allocates more than a few times the input, whatever
// lengths the input claims.
//
// The module's functions after the imported ones move up by one index
// (the new import takes its place after the imported functions); calls,
// references, tables, exports, the start function and the "name"
// section's function names follow. Every other custom section is kept
// byte for byte: byte offsets into the code that one may hold (DWARF)
// point a little off after the first check.
func Instrument(wasm []byte) ([]byte, error) {
	if len(wasm) > MaxModuleBytes {
		return nil, &Error{Kind: ErrRefused, Func: -1, Offset: MaxModuleBytes,
			Reason: fmt.Sprintf("the module is %d bytes, over the %d-byte limit for a plugin module", len(wasm), MaxModuleBytes)}
	}
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, &Error{Kind: ErrMalformed, Func: -1,
			Reason: "it does not start with the WebAssembly binary header \\0asm (a .wasm file from a compiler, not the text format, is expected)"}
	}
	if !bytes.Equal(wasm[4:8], []byte{1, 0, 0, 0}) {
		return nil, &Error{Kind: ErrRefused, Func: -1, Offset: 4,
			Reason: fmt.Sprintf("binary format version % x; only version 1 (core WebAssembly modules, not components) is supported", wasm[4:8])}
	}
	w := &writer{in: wasm, fn: -1}
	if err := w.survey(); err != nil {
		return nil, err
	}
	w.check = checkCode(w.globals, w.importFuncs)
	// An eighth more covers the checks of Go's and C's modules without
	// growing out.
	w.out = make([]byte, 0, len(wasm)+len(wasm)/8+64)
	if err := w.rewrite(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.sized = true
		}
		return nil, err
	}
	return w.out, nil
}

// checkCode is the check, for the counter global and the check function
// at these indices.
func checkCode(counter, check uint32) []byte {
	g := appendULEB(nil, counter)
	var c []byte
	for _, part := range [][]byte{
		{opGlobalGet}, g, {opI32Const, 1, opI32Sub, opGlobalSet}, g,
		{opGlobalGet}, g, {opI32Eqz, opIf, blockEmpty},
		{opI32Const}, appendSLEB(nil, Budget), {opGlobalSet}, g,
		{opCall}, appendULEB(nil, check),
		{opEnd},
	} {
		c = append(c, part...)
	}
	return c
}

// survey reads the whole module once, writing nothing: the framing and
// order of the sections, every length and count (wazero 1.9 allocates
// what a count claims before it reads the entries, so a module with a
// count of 2^32-1 in a few bytes would make it allocate hundreds of
// gigabytes: they are checked here, before it sees the module), every
// section but the code, and the code's bodies and locals. What the
// rewrite must know before it writes is found here too (the index of the
// type [] → [], of the new import and of the counter), since a custom
// section naming functions may come first. After the survey, only an
// instruction can be found wrong.
func (w *writer) survey() error {
	w.dry = true
	defer func() { w.dry, w.from, w.fn = false, 0, -1 }()
	in := w.in
	last := 0
	for p := 8; p < len(in); {
		id, content, end, err := w.section(p)
		if err != nil {
			return err
		}
		if id != secCustom {
			rank := sectionRank[id]
			if rank <= last {
				return &Error{Kind: ErrRefused, Func: -1, Offset: p,
					Reason: fmt.Sprintf("%s section out of order or repeated; a module has each section at most once, in the specification's order (wazero would read a repeated section as the last one alone)", sectionNames[id])}
			}
			last = rank
			w.has[id] = true
		}
		switch id {
		case secType:
			err = w.surveyTypes(content, end)
		case secImport:
			err = w.surveyImports(content, end)
		case secFunction:
			err = w.surveyFunctions(content, end)
		case secTable:
			err = w.surveyTables(content, end)
		case secGlobal:
			if w.defined, _, err = w.count(content, end, 4, "globals"); err == nil {
				if uint64(w.globals)+uint64(w.defined) >= 1<<32-1 {
					return w.malformed(content, "more globals than an index can name")
				}
				w.globals += w.defined
				err = w.globalSection(p, content, end)
			}
		default:
			err = w.indexedSection(id, p, content, end)
		}
		if err != nil {
			return err
		}
		p = end
	}
	if !w.has[secType] {
		w.checkType = 0
	}
	return nil
}

// surveyFunctions counts the module's own functions.
func (w *writer) surveyFunctions(p, end int) error {
	n, p, err := w.count(p, end, 1, "functions")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if _, p, err = w.u32(p, end, "function's type index"); err != nil {
			return err
		}
	}
	if p != end {
		return w.malformed(p, "the function section has %d bytes after its last function", end-p)
	}
	if w.funcs += uint64(n); w.funcs >= 1<<32-1 {
		return w.malformed(p, "more functions than an index can name")
	}
	return nil
}

// surveyTables reads the table section's entries.
func (w *writer) surveyTables(p, end int) error {
	n, p, err := w.count(p, end, 3, "tables")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if p, err = w.limits(p+1, end); err != nil { // after the reference type
			return err
		}
	}
	if p != end {
		return w.malformed(p, "the table section has %d bytes after its last table", end-p)
	}
	return nil
}

// section reads the header of the section at p: its id, where its
// content starts and where it ends.
func (w *writer) section(p int) (id byte, content, end int, err error) {
	id = w.in[p]
	if int(id) >= len(sectionNames) {
		return 0, 0, 0, w.malformed(p, "unknown section id %d", id)
	}
	if id == secTag {
		return 0, 0, 0, w.refused(p, "exception-handling", "a tag section")
	}
	size, content, err := w.u32(p+1, len(w.in), "section size")
	if err != nil {
		return 0, 0, 0, err
	}
	if uint64(size) > uint64(len(w.in)-content) {
		return 0, 0, 0, w.malformed(p, "the %s section claims %d bytes, but only %d remain in the module", sectionNames[id], size, len(w.in)-content)
	}
	return id, content, content + int(size), nil
}

// surveyTypes finds a function type [] → [] for the import, or notes
// that one must be added.
func (w *writer) surveyTypes(p, end int) error {
	n, p, err := w.count(p, end, 1, "types")
	if err != nil {
		return err
	}
	w.types, w.checkType = n, n
	for i := uint32(0); i < n; i++ {
		at := p
		if p >= end {
			return w.malformed(p, "the type section ends before type %d of its %d", i, n)
		}
		switch w.in[p] {
		case 0x60:
		case 0x4e, 0x50, 0x4f, 0x5f, 0x5e:
			return w.refused(p, "GC", fmt.Sprintf("the type form %#x", w.in[p]))
		default:
			return w.malformed(p, "type %d has the unknown form %#x", i, w.in[p])
		}
		p++
		for k := 0; k < 2; k++ { // parameters, then results
			var m uint32
			if m, p, err = w.count(p, end, 1, "value types"); err != nil {
				return err
			}
			p += int(m)
		}
		if p-at == 3 && w.checkType == n { // 0x60 0 0
			w.checkType = i
		}
	}
	if p != end {
		return w.malformed(p, "the type section has %d bytes after its last type", end-p)
	}
	return nil
}

// surveyImports counts the imports by kind and refuses one from
// ModuleName.
func (w *writer) surveyImports(p, end int) error {
	n, p, err := w.count(p, end, 4, "imports")
	if err != nil {
		return err
	}
	w.imports = n
	for i := uint32(0); i < n; i++ {
		at := p
		module, q, err := w.name(p, end, "import module name")
		if err != nil {
			return err
		}
		if _, p, err = w.name(q, end, "import field name"); err != nil {
			return err
		}
		if string(module) == ModuleName {
			return &Error{Kind: ErrInstrumented, Func: -1, Offset: at,
				Reason: fmt.Sprintf("import %d comes from %q, the module only the host may provide", i, ModuleName)}
		}
		if p >= end {
			return w.malformed(p, "import %d ends before its kind", i)
		}
		kind := w.in[p]
		p++
		switch kind {
		case 0: // function: its type index
			w.importFuncs++
			_, p, err = w.u32(p, end, "imported function's type index")
		case 1: // table: reference type and limits
			if p >= end {
				return w.malformed(p, "import %d ends before its table type", i)
			}
			p, err = w.limits(p+1, end)
		case 2: // memory: limits
			p, err = w.limits(p, end)
		case 3: // global: value type and mutability
			if end-p < 2 {
				return w.malformed(p, "import %d ends before its global type", i)
			}
			p += 2
			w.globals++
		case 4:
			return w.refused(p-1, "exception-handling", "an imported tag")
		default:
			return w.malformed(p-1, "import %d has the unknown kind %#x", i, kind)
		}
		if err != nil {
			return err
		}
	}
	if p != end {
		return w.malformed(p, "the import section has %d bytes after its last import", end-p)
	}
	w.funcs = uint64(w.importFuncs)
	return nil
}

// limits skips the limits of a table or memory type.
func (w *writer) limits(p, end int) (int, error) {
	if p >= end {
		return 0, w.malformed(p, "limits are missing")
	}
	flag := w.in[p]
	var err error
	switch flag {
	case 0:
		_, p, err = w.u32(p+1, end, "minimum size")
	case 1:
		if _, p, err = w.u32(p+1, end, "minimum size"); err == nil {
			_, p, err = w.u32(p, end, "maximum size")
		}
	case 2, 3:
		return 0, w.refused(p, "threads", "a shared memory")
	case 4, 5, 6, 7:
		return 0, w.refused(p, "memory64", "64-bit limits")
	default:
		return 0, w.malformed(p, "limits with the unknown flags %#x", flag)
	}
	return p, err
}

// indexedSection reads (survey, w.dry) or rewrites a section that names
// functions or globals by index and is read the same way in both passes;
// any other section is left as it is.
func (w *writer) indexedSection(id byte, p, content, end int) error {
	switch id {
	case secExport:
		return w.exportSection(p, content, end)
	case secStart:
		return w.startSection(p, content, end)
	case secElement:
		return w.elementSection(p, content, end)
	case secCode:
		return w.codeSection(p, content, end)
	case secData:
		return w.dataSection(p, content, end)
	}
	return nil
}

// rewrite writes the instrumented module into w.out.
func (w *writer) rewrite() error {
	in := w.in
	for p := 8; p < len(in); {
		id, content, end, _ := w.section(p) // framing checked by survey
		if id != secCustom {
			w.addMissing(p, sectionRank[id])
		}
		var err error
		switch id {
		case secCustom:
			err = w.custom(p, content, end)
		case secType:
			err = w.typeSection(p, content, end)
		case secImport:
			err = w.importSection(p, content, end)
		case secGlobal:
			err = w.globalSection(p, content, end)
		default:
			err = w.indexedSection(id, p, content, end)
		}
		if err != nil {
			return err
		}
		p = end
	}
	w.addMissing(len(in), len(sectionNames))
	w.flush(len(in))
	return nil
}

// addMissing writes, before in[at:], the sections the module lacks and
// the rewrite needs (type, import, global) whose place is before a
// section of rank.
func (w *writer) addMissing(at, rank int) {
	for _, id := range []byte{secType, secImport, secGlobal} {
		if w.has[id] || sectionRank[id] >= rank {
			continue
		}
		w.has[id] = true
		w.flush(at)
		var content []byte
		switch id {
		case secType:
			content = append([]byte{1}, checkFuncType...)
		case secImport:
			content = w.importEntry([]byte{1})
		case secGlobal:
			content = append([]byte{1}, counterGlobal...)
		}
		w.write(appendULEB([]byte{id}, uint32(len(content))))
		w.write(content)
	}
}

var (
	// checkFuncType is the type of the check function, [] → [].
	checkFuncType = []byte{0x60, 0, 0}
	// counterGlobal is the counter: a mutable i32, Budget at first.
	counterGlobal = append(append([]byte{valI32, 1, opI32Const}, appendSLEB(nil, Budget)...), opEnd)
)

// importEntry appends the new import: the function ModuleName.FieldName.
func (w *writer) importEntry(b []byte) []byte {
	b = appendULEB(b, uint32(len(ModuleName)))
	b = append(b, ModuleName...)
	b = appendULEB(b, uint32(len(FieldName)))
	b = append(b, FieldName...)
	b = append(b, 0)
	return appendULEB(b, w.checkType)
}

// appendEntry writes a vector's section with one more entry, at its end:
// the count goes up by one, the entries stay.
func (w *writer) appendEntry(p, content, end int, count uint32, entry []byte) {
	f := w.open(p+1, content)
	_, q, _ := w.u32(content, end, "") // checked by survey
	w.flush(content)
	w.write(appendULEB(nil, count+1))
	w.from = q
	w.flush(end)
	w.write(entry)
	w.close(f, end)
}

// typeSection adds the type [] → [] if the module has none.
func (w *writer) typeSection(p, content, end int) error {
	if w.checkType == w.types {
		w.appendEntry(p, content, end, w.types, checkFuncType)
	}
	return nil
}

// importSection adds the new import after the existing ones, so that
// their indices stay and the new function's is the number of imported
// functions.
func (w *writer) importSection(p, content, end int) error {
	w.appendEntry(p, content, end, w.imports, w.importEntry(nil))
	return nil
}

// globalSection checks the initialisers and adds the counter after the
// module's own globals, so that no index moves.
func (w *writer) globalSection(p, content, end int) error {
	f := w.open(p+1, content)
	n, q, err := w.count(content, end, 4, "globals")
	if err != nil {
		return err
	}
	w.write(appendULEB(nil, n+1)) // open copied up to content
	w.from = q
	for i := uint32(0); i < n; i++ {
		if end-q < 2 {
			return w.malformed(q, "global %d ends before its type", i)
		}
		if q, err = w.constExpr(q+2, end); err != nil {
			return err
		}
	}
	if q != end {
		return w.malformed(q, "the global section has %d bytes after its last global", end-q)
	}
	w.flush(end)
	w.write(counterGlobal)
	w.close(f, end)
	return nil
}

// exportSection shifts the indices of exported functions and checks
// those of exported globals.
func (w *writer) exportSection(p, content, end int) error {
	f := w.open(p+1, content)
	n, q, err := w.count(content, end, 3, "exports")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if _, q, err = w.name(q, end, "export name"); err != nil {
			return err
		}
		if q >= end {
			return w.malformed(q, "export %d ends before its kind", i)
		}
		kind := w.in[q]
		switch kind {
		case 0:
			q, err = w.funcIndex(q+1, end)
		case 1, 2:
			_, q, err = w.u32(q+1, end, "export index")
		case 3:
			q, err = w.globalIndex(q+1, end)
		case 4:
			return w.refused(q, "exception-handling", "an exported tag")
		default:
			return w.malformed(q, "export %d has the unknown kind %#x", i, kind)
		}
		if err != nil {
			return err
		}
	}
	if q != end {
		return w.malformed(q, "the export section has %d bytes after its last export", end-q)
	}
	w.close(f, end)
	return nil
}

// startSection shifts the start function's index.
func (w *writer) startSection(p, content, end int) error {
	f := w.open(p+1, content)
	q, err := w.funcIndex(content, end)
	if err != nil {
		return err
	}
	if q != end {
		return w.malformed(q, "the start section has %d bytes after its function index", end-q)
	}
	w.close(f, end)
	return nil
}

// elementSection shifts the function indices of the segments, in each of
// the eight encodings of a segment, and checks their expressions.
func (w *writer) elementSection(p, content, end int) error {
	f := w.open(p+1, content)
	n, q, err := w.count(content, end, 3, "element segments")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		at := q
		var flags uint32
		if flags, q, err = w.u32(q, end, "element segment flags"); err != nil {
			return err
		}
		if flags > 7 {
			return w.malformed(at, "element segment %d has the unknown flags %d", i, flags)
		}
		if flags == 2 || flags == 6 { // explicit table index
			if _, q, err = w.u32(q, end, "table index"); err != nil {
				return err
			}
		}
		if flags&1 == 0 { // active: an offset
			if q, err = w.constExpr(q, end); err != nil {
				return err
			}
		}
		if flags&3 != 0 { // an element kind (flags < 4) or reference type
			if q >= end {
				return w.malformed(q, "element segment %d ends before its element type", i)
			}
			q++
		}
		var m uint32
		if m, q, err = w.count(q, end, 1, "elements"); err != nil {
			return err
		}
		for j := uint32(0); j < m; j++ {
			if flags&4 == 0 { // function indices
				q, err = w.funcIndex(q, end)
			} else { // expressions
				q, err = w.constExpr(q, end)
			}
			if err != nil {
				return err
			}
		}
	}
	if q != end {
		return w.malformed(q, "the element section has %d bytes after its last segment", end-q)
	}
	w.close(f, end)
	return nil
}

// dataSection checks the offsets of the active segments.
func (w *writer) dataSection(p, content, end int) error {
	n, q, err := w.count(content, end, 2, "data segments")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		at := q
		var flags uint32
		if flags, q, err = w.u32(q, end, "data segment flags"); err != nil {
			return err
		}
		switch flags {
		case 0:
			q, err = w.constExpr(q, end)
		case 1:
		case 2:
			if _, q, err = w.u32(q, end, "memory index"); err == nil {
				q, err = w.constExpr(q, end)
			}
		default:
			return w.malformed(at, "data segment %d has the unknown flags %d", i, flags)
		}
		if err != nil {
			return err
		}
		var size uint32
		if size, q, err = w.u32(q, end, "data segment size"); err != nil {
			return err
		}
		if uint64(size) > uint64(end-q) {
			return w.malformed(q, "data segment %d claims %d bytes, but only %d remain in the section", i, size, end-q)
		}
		q += int(size)
	}
	if q != end {
		return w.malformed(q, "the data section has %d bytes after its last segment", end-q)
	}
	return nil
}

// constExpr rewrites a constant expression (its ref.func indices, and
// checks its global.get indices) and returns where it ends. It reads a
// sequence of instructions up to end, as wazero 1.12 does (1.9 reads
// one), so that both see the same boundaries.
func (w *writer) constExpr(p, end int) (int, error) {
	in := w.in
	for p < end {
		op := in[p]
		at := p
		p++
		var err error
		switch op {
		case opEnd:
			return p, nil
		case opI32Const:
			p, err = w.skipLEB(p, end, 5, "i32.const")
		case opI64Const:
			p, err = w.skipLEB(p, end, 10, "i64.const")
		case opF32Const:
			p, err = w.skipBytes(p, end, 4, "f32.const")
		case opF64Const:
			p, err = w.skipBytes(p, end, 8, "f64.const")
		case opGlobalGet:
			p, err = w.globalIndex(p, end)
		case opRefNull:
			p, err = w.refType(p, end)
		case opRefFunc:
			p, err = w.funcIndex(p, end)
		case prefixSIMD:
			// wazero reads the sub-opcode here as one byte: only
			// v128.const (12) is allowed.
			if p >= end || in[p] != simdV128Const {
				return 0, w.malformed(at, "a vector instruction other than v128.const in a constant expression")
			}
			p, err = w.skipBytes(p+1, end, 16, "v128.const")
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // i32/i64 add, sub, mul
			return 0, w.refused(at, "extended-const", "arithmetic in a constant expression")
		default:
			return 0, w.malformed(at, "opcode %#x may not appear in a constant expression", op)
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, w.malformed(p, "a constant expression runs past the end of its section")
}

// globalIndex checks a global index: one past the module's globals
// would name the counter.
func (w *writer) globalIndex(p, end int) (int, error) {
	idx, q, err := w.u32(p, end, "global index")
	if err != nil {
		return 0, err
	}
	if idx >= w.globals {
		return 0, w.malformed(p, "global index %d, but the module has %d globals", idx, w.globals)
	}
	return q, nil
}

// funcIndex shifts a function index past the new import.
func (w *writer) funcIndex(p, end int) (int, error) {
	idx, q, err := w.u32(p, end, "function index")
	if err != nil {
		return 0, err
	}
	if uint64(idx) >= w.funcs {
		return 0, w.malformed(p, "function index %d, but the module has %d functions", idx, w.funcs)
	}
	if idx >= w.importFuncs {
		w.replace(p, q, idx+1)
	}
	return q, nil
}

// replace writes v in place of the LEB128 at in[p:q]: in as many bytes
// when it fits (padded, as a linker may have written it; the code keeps
// its size), in as few as it takes otherwise.
func (w *writer) replace(p, q int, v uint32) {
	if w.dry {
		return
	}
	if lenULEB(v) <= q-p {
		w.patches = append(w.patches, patch{at: len(w.out) + p - w.from, n: q - p, v: v})
		return
	}
	w.flush(p)
	w.write(appendULEB(nil, v))
	w.from = q
}

// refType checks a reference type immediate (ref.null's): one byte,
// funcref or externref.
func (w *writer) refType(p, end int) (int, error) {
	if p >= end {
		return 0, w.malformed(p, "ref.null without its type")
	}
	switch w.in[p] {
	case valFuncref, valExternref:
		return p + 1, nil
	}
	return 0, w.refused(p, "typed function references or GC", fmt.Sprintf("the heap type %#x", w.in[p]))
}

// The subsections of the "name" section wazero reads (the module's name)
// or that are keyed by function index: the function names (a name map)
// and the local and label names (maps of name maps).
const (
	nameModule    = 0
	nameFunctions = 1
	nameLocals    = 2
	nameLabels    = 3
)

// custom shifts the function indices of the "name" section, if any; any
// other custom section is left as it is. A name section that does not
// parse is dropped: it only names things for debugging, and wazero 1.9
// would size maps on its counts before reading them.
func (w *writer) custom(p, content, end int) error {
	name, q, err := w.name(content, end, "custom section name")
	if err != nil || string(name) != "name" {
		return err
	}
	if !w.namesParse(q, end) {
		w.flush(p)
		w.from = end
		return nil
	}
	f := w.open(p+1, content)
	for q < end {
		id := w.in[q]
		size, c, _ := w.u32(q+1, end, "")
		if id == nameFunctions || id == nameLocals || id == nameLabels {
			sf := w.open(q+1, c)
			n, r, _ := w.u32(c, end, "")
			for i := uint32(0); i < n; i++ {
				r, _ = w.funcIndex(r, end)
				if id == nameFunctions {
					_, r, _ = w.name(r, end, "")
				} else {
					r = w.skipNameMap(r, end)
				}
			}
			w.close(sf, c+int(size))
		}
		q = c + int(size)
	}
	w.close(f, end)
	return nil
}

// namesParse tells whether the name section's content at [p, end)
// parses, its function indices included.
func (w *writer) namesParse(p, end int) bool {
	for p < end {
		id := w.in[p]
		size, c, err := w.u32(p+1, end, "")
		if err != nil || uint64(size) > uint64(end-c) {
			return false
		}
		sub := c + int(size)
		if id == nameModule {
			if _, r, err := w.name(c, sub, ""); err != nil || r != sub {
				return false
			}
		}
		if id == nameFunctions || id == nameLocals || id == nameLabels {
			n, r, err := w.u32(c, sub, "")
			if err != nil || uint64(n) > uint64(sub-r) {
				return false
			}
			for i := uint32(0); i < n && r >= 0; i++ {
				var idx uint32
				if idx, r, err = w.u32(r, sub, ""); err != nil || uint64(idx) >= w.funcs {
					return false
				}
				if id == nameFunctions {
					if _, r, err = w.name(r, sub, ""); err != nil {
						return false
					}
				} else {
					r = w.skipNameMap(r, sub)
				}
			}
			if r != sub {
				return false
			}
		}
		p = sub
	}
	return true
}

// skipNameMap skips a name map (pairs of an index and a name), or
// returns -1 when it does not parse.
func (w *writer) skipNameMap(p, end int) int {
	n, p, err := w.u32(p, end, "")
	if err != nil || uint64(n) > uint64(end-p) {
		return -1
	}
	for i := uint32(0); i < n; i++ {
		if _, p, err = w.u32(p, end, ""); err != nil {
			return -1
		}
		if _, p, err = w.name(p, end, ""); err != nil {
			return -1
		}
	}
	return p
}

// open starts rewriting something whose size, a LEB128 at in[sizeAt:
// content], the rewrite may change: the size is copied as it is, to be
// fixed by close.
func (w *writer) open(sizeAt, content int) frame {
	if w.dry {
		return frame{}
	}
	w.flush(sizeAt)
	f := frame{at: len(w.out), n: content - sizeAt}
	f.old, _, _ = w.u32(sizeAt, content, "") // read before, by the caller
	w.flush(content)
	return f
}

// frame is something being rewritten whose size comes first: where its
// size is in out, how many bytes it takes there, and its size in the
// input.
type frame struct {
	at, n int
	old   uint32
}

// close finishes what open started, at in[end]: the rest is copied and
// the size fixed. An unchanged size keeps its bytes; a new one is written
// in as few bytes as it takes, moving the content when that differs.
func (w *writer) close(f frame, end int) {
	if w.dry {
		return
	}
	w.flush(end)
	size := len(w.out) - f.at - f.n
	if size == int(f.old) {
		return
	}
	m := lenULEB(uint32(size))
	switch {
	case m > f.n:
		w.out = append(w.out, make([]byte, m-f.n)...)
		copy(w.out[f.at+m:], w.out[f.at+f.n:f.at+f.n+size])
	case m < f.n:
		copy(w.out[f.at+m:], w.out[f.at+f.n:])
		w.out = w.out[:f.at+m+size]
	}
	putULEB(w.out[f.at:f.at+m], uint32(size))
}

// flush copies the input up to in[to] into out, and applies the patches
// pending in what it copied.
func (w *writer) flush(to int) {
	if w.dry {
		w.from = to
		return
	}
	w.write(w.in[w.from:to])
	w.from = to
	for _, pt := range w.patches {
		putULEB(w.out[pt.at:pt.at+pt.n], pt.v)
	}
	w.patches = w.patches[:0]
}

// write appends b to out, doubling out's capacity when it runs out:
// append's own growth (a quarter, at these sizes) would copy a module
// that gains many checks several times over.
func (w *writer) write(b []byte) {
	if w.dry {
		return
	}
	if len(w.out)+len(b) > cap(w.out) {
		grown := make([]byte, len(w.out), 2*cap(w.out)+len(b))
		copy(grown, w.out)
		w.out = grown
	}
	w.out = append(w.out, b...)
}

// patch is a LEB128 of out to overwrite, in n bytes, once the input
// holding it is copied: at is where it lands in out (nothing is written
// to out but by flush, so that place does not move until then).
type patch struct {
	at, n int
	v     uint32
}

// u32 reads an unsigned LEB128 of at most 32 bits at in[p:end]: its value
// and where it ends.
func (w *writer) u32(p, end int, what string) (uint32, int, error) {
	in := w.in
	if p < end && in[p] < 0x80 {
		return uint32(in[p]), p + 1, nil
	}
	if end-p >= 2 && in[p+1] < 0x80 { // two bytes: most indices of a large module
		return uint32(in[p]&0x7f) | uint32(in[p+1])<<7, p + 2, nil
	}
	var v uint32
	for i := 0; i < 5; i++ {
		if p+i >= end {
			return 0, 0, w.malformed(p, "the %s runs past the end of its section or body", what)
		}
		c := in[p+i]
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == 4 && c > 0x0f {
				return 0, 0, w.malformed(p, "the %s overflows 32 bits", what)
			}
			return v, p + i + 1, nil
		}
	}
	return 0, 0, w.malformed(p, "the %s is a LEB128 longer than 5 bytes", what)
}

// count reads the number of entries of a vector and checks that they can
// fit in what is left, each taking at least min bytes, so that no loop
// runs, and nothing is sized, on a claim alone.
func (w *writer) count(p, end, min int, what string) (uint32, int, error) {
	n, q, err := w.u32(p, end, "number of "+what)
	if err != nil {
		return 0, 0, err
	}
	if uint64(n)*uint64(min) > uint64(end-q) {
		return 0, 0, w.malformed(p, "%d %s claimed, but only %d bytes remain for them", n, what, end-q)
	}
	return n, q, nil
}

// name reads a name (a length and bytes).
func (w *writer) name(p, end int, what string) ([]byte, int, error) {
	n, q, err := w.u32(p, end, what+" length")
	if err != nil {
		return nil, 0, err
	}
	if uint64(n) > uint64(end-q) {
		return nil, 0, w.malformed(p, "a %s of %d bytes, but only %d remain", what, n, end-q)
	}
	return w.in[q : q+int(n)], q + int(n), nil
}

// skipLEB skips a LEB128 of at most max bytes.
func (w *writer) skipLEB(p, end, max int, what string) (int, error) {
	for i := 0; i < max; i++ {
		if p+i >= end {
			return 0, w.malformed(p, "the immediate of %s runs past the end", what)
		}
		if w.in[p+i] < 0x80 {
			return p + i + 1, nil
		}
	}
	return 0, w.malformed(p, "the immediate of %s is a LEB128 longer than %d bytes", what, max)
}

// skipBytes skips n bytes.
func (w *writer) skipBytes(p, end, n int, what string) (int, error) {
	if end-p < n {
		return 0, w.malformed(p, "the %d-byte immediate of %s runs past the end", n, what)
	}
	return p + n, nil
}

func (w *writer) malformed(at int, format string, args ...any) error {
	return &Error{Kind: ErrMalformed, Offset: at, Func: w.fn, Reason: fmt.Sprintf(format, args...)}
}

// refused is the error for what a proposal beyond WebAssembly 2.0 brings.
func (w *writer) refused(at int, proposal, what string) error {
	return &Error{Kind: ErrRefused, Offset: at, Func: w.fn,
		Reason: fmt.Sprintf("%s uses the %s proposal, which plugins may not use; build the plugin for WebAssembly 2.0 without it", what, proposal)}
}

// appendULEB appends v as an unsigned LEB128 in as few bytes as it takes.
func appendULEB(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendSLEB appends v as a signed LEB128 in as few bytes as it takes.
func appendSLEB(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// lenULEB is the length of v as appendULEB writes it.
func lenULEB(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// putULEB writes v into b as an unsigned LEB128 of exactly len(b) bytes
// (padded with continuation bytes when v needs fewer).
func putULEB(b []byte, v uint32) {
	for i := range b {
		b[i] = byte(v & 0x7f)
		v >>= 7
		if i < len(b)-1 {
			b[i] |= 0x80
		}
	}
}
