package interrupt

import "fmt"

// The opcodes and types the rewrite writes or looks for by name.
const (
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opCall         = 0x10
	opCallIndirect = 0x11
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opI32Const     = 0x41
	opI32Eqz       = 0x45
	opI32Sub       = 0x6b
	opI64Const     = 0x42
	opF32Const     = 0x43
	opF64Const     = 0x44
	opRefNull      = 0xd0
	opRefFunc      = 0xd2
	prefixMisc     = 0xfc
	prefixSIMD     = 0xfd

	simdV128Const = 0x0c

	blockEmpty   = 0x40
	valI32       = 0x7f
	valFuncref   = 0x70
	valExternref = 0x6f
)

// What follows an opcode: the shapes of the immediates.
const (
	immUnknown      = iota // not an opcode of WebAssembly 2.0
	immNone                // nothing
	immBlock               // a block type (block, if)
	immLoop                // a block type, and the body where the check goes
	immEnd                 // end
	immU32                 // one index
	immGlobal              // a global index (global.get, global.set)
	immFunc                // a function index (call, ref.func)
	immCallIndirect        // call_indirect's type and table
	immU32x2               // two: a memarg's alignment and offset
	immBrTable             // a vector of labels and a default
	immS32                 // i32.const
	immS64                 // i64.const
	immF32                 // 4 bytes
	immF64                 // 8 bytes
	immZeroByte            // memory.size, memory.grow: the memory index 0, one byte
	immSelectT             // select with one value type
	immRefNull             // a reference type
	immMisc                // the 0xfc prefix
	immSIMD                // the 0xfd prefix
	immRefused             // a proposal's instruction; see refusedOps
)

// opImm is the shape of each opcode's immediates.
var opImm [256]uint8

// refusedOps names the proposal of each opcode that plugins may not use.
var refusedOps = map[byte][2]string{
	0x06: {"exception-handling", "try"},
	0x07: {"exception-handling", "catch"},
	0x08: {"exception-handling", "throw"},
	0x09: {"exception-handling", "rethrow"},
	0x0a: {"exception-handling", "throw_ref"},
	0x18: {"exception-handling", "delegate"},
	0x19: {"exception-handling", "catch_all"},
	0x1f: {"exception-handling", "try_table"},
	0x12: {"tail-call", "return_call"},
	0x13: {"tail-call", "return_call_indirect"},
	0x14: {"typed function references", "call_ref"},
	0x15: {"typed function references", "return_call_ref"},
	0xd3: {"typed function references", "ref.as_non_null"},
	0xd4: {"typed function references", "br_on_null"},
	0xd6: {"typed function references", "br_on_non_null"},
	0xd5: {"GC", "ref.eq"},
	0xfb: {"GC", "a GC instruction (prefix 0xfb)"},
	0xfe: {"threads", "an atomic instruction (prefix 0xfe)"},
}

// The shapes of the immediates of vector instructions (after 0xfd and
// their one-byte sub-opcode).
const (
	simdUnknown = iota
	simdNone    // nothing
	simdMemarg  // a memarg
	simdMemLane // a memarg and a lane index
	simdLane    // a lane index
	simdBytes16 // v128.const, i8x16.shuffle: 16 bytes
)

var simdImm [256]uint8

func init() {
	set := func(shape uint8, ops ...byte) {
		for _, op := range ops {
			opImm[op] = shape
		}
	}
	span := func(shape uint8, from, to byte) {
		for op := int(from); op <= int(to); op++ {
			opImm[op] = shape
		}
	}
	set(immNone, 0x00, 0x01, 0x05, 0x0f, 0x1a, 0x1b, 0xd1) // unreachable nop else return drop select ref.is_null
	set(immBlock, 0x02, 0x04)
	set(immLoop, opLoop)
	set(immEnd, opEnd)
	set(immU32, 0x0c, 0x0d, 0x20, 0x21, 0x22, 0x25, 0x26) // br br_if local.* table.get table.set
	set(immFunc, opCall, opRefFunc)
	set(immCallIndirect, opCallIndirect)
	set(immBrTable, 0x0e)
	set(immSelectT, 0x1c)
	set(immGlobal, opGlobalGet, opGlobalSet)
	span(immU32x2, 0x28, 0x3e) // loads and stores: a memarg
	set(immZeroByte, 0x3f, 0x40)
	set(immS32, opI32Const)
	set(immS64, opI64Const)
	set(immF32, opF32Const)
	set(immF64, opF64Const)
	span(immNone, 0x45, 0xc4) // numeric, and sign extension (0xc0-0xc4)
	set(immRefNull, opRefNull)
	set(immMisc, prefixMisc)
	set(immSIMD, prefixSIMD)
	for op := range refusedOps {
		opImm[op] = immRefused
	}

	// Vector instructions: the 236 of the SIMD proposal as WebAssembly
	// 2.0 has it, by the shape of their immediates; the 20 gaps stay
	// unknown.
	for op := 0; op < 256; op++ {
		simdImm[op] = simdNone
	}
	for _, op := range []int{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee} {
		simdImm[op] = simdUnknown
	}
	for op := 0x00; op <= 0x0b; op++ { // v128.load…, v128.store
		simdImm[op] = simdMemarg
	}
	simdImm[0x5c], simdImm[0x5d] = simdMemarg, simdMemarg // v128.load32_zero, v128.load64_zero
	for op := 0x54; op <= 0x5b; op++ {                    // v128.load8_lane … v128.store64_lane
		simdImm[op] = simdMemLane
	}
	for op := 0x15; op <= 0x22; op++ { // extract_lane, replace_lane
		simdImm[op] = simdLane
	}
	simdImm[simdV128Const], simdImm[0x0d] = simdBytes16, simdBytes16 // v128.const, i8x16.shuffle
}

// codeSection rewrites every function body.
func (w *writer) codeSection(p, content, end int) error {
	f := w.open(p+1, content)
	n, q, err := w.count(content, end, 2, "function bodies")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		w.fn = int(w.importFuncs + i) // its index before the shift, as the input names it
		at := q
		var size uint32
		var body int
		if size, body, err = w.u32(q, end, "function body size"); err != nil {
			return err
		}
		if uint64(size) > uint64(end-body) {
			return w.malformed(at, "the body claims %d bytes, but only %d remain in the code section", size, end-body)
		}
		bodyEnd := body + int(size)
		bf := w.open(at, body)
		if q, err = w.locals(body, bodyEnd); err != nil {
			return err
		}
		if !w.dry { // the survey reads the bodies' framing and locals
			if err = w.instructions(q, bodyEnd); err != nil {
				return err
			}
		}
		w.close(bf, bodyEnd)
		q = bodyEnd
	}
	w.fn = -1
	if q != end {
		return w.malformed(q, "the code section has %d bytes after its last body", end-q)
	}
	w.close(f, end)
	return nil
}

// maxLocals caps the locals of a function: the limit of the Web's
// engines (V8's kV8MaxWasmFunctionLocals), which no compiler's output
// nears. wazero 1.9 sizes a slice on the declared total before anything
// else, so 2^32-1 locals declared in a few bytes would cost it 4 GiB.
const maxLocals = 50000

// locals skips a body's local declarations.
func (w *writer) locals(p, end int) (int, error) {
	n, p, err := w.count(p, end, 2, "local declarations")
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for i := uint32(0); i < n; i++ {
		at := p
		var m uint32
		if m, p, err = w.u32(p, end, "number of locals"); err != nil {
			return 0, err
		}
		if total += uint64(m); total > maxLocals {
			return 0, &Error{Kind: ErrRefused, Offset: at, Func: w.fn,
				Reason: fmt.Sprintf("the function declares more than %d locals, the limit of WebAssembly engines on the Web; split the function", maxLocals)}
		}
		if p >= end {
			return 0, w.malformed(p, "a local declaration ends before its type")
		}
		switch t := w.in[p]; t {
		case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, valFuncref, valExternref:
		case 0x63, 0x64:
			return 0, w.refused(p, "typed function references", "a local of a typed reference")
		default:
			return 0, w.malformed(p, "a local of the unknown type %#x", t)
		}
		p++
	}
	return p, nil
}

// instructions rewrites the instructions of a body, in[p:end]: the check
// at the start of each loop's body, and at the start of the function if
// it calls or loops (and does not start with a loop, whose check comes
// first anyway); the function indices shifted. The body must end with
// the end of its function, exactly at end.
//
// The check at the function's start is decided when the first call,
// call_indirect, loop or function index is met: until then nothing of
// the body is copied or patched, so it can still go in first. A body
// with none of these runs in bounded time and is left unchecked.
//
// Instruction boundaries are read exactly as wazero reads them (where it
// reads differently from the specification, the reading both agree on is
// required), so that every loop and call wazero compiles is one seen
// here.
func (w *writer) instructions(p, end int) error {
	in := w.in
	entry := p // where the function's check goes, until it is written (-1)
	if p < end && in[p] == opLoop {
		entry = -1
	}
	depth := 0
	var err error
	for p < end {
		op := in[p]
		at := p
		p++
		switch opImm[op] {
		case immNone:
		case immU32:
			if p < end && in[p] < 0x80 {
				p++
			} else {
				_, p, err = w.u32(p, end, "index")
			}
		case immGlobal:
			if p < end && uint32(in[p]) < w.globals && in[p] < 0x80 {
				p++
			} else {
				p, err = w.globalIndex(p, end)
			}
		case immFunc:
			if entry >= 0 {
				w.insertCheck(entry)
				entry = -1
			}
			p, err = w.funcIndex(p, end)
		case immCallIndirect:
			if entry >= 0 {
				w.insertCheck(entry)
				entry = -1
			}
			if _, p, err = w.u32(p, end, "type index"); err == nil {
				_, p, err = w.u32(p, end, "table index")
			}
		case immBlock:
			depth++
			p, err = w.blockType(p, end)
		case immLoop:
			depth++
			if entry >= 0 {
				w.insertCheck(entry)
				entry = -1
			}
			if p, err = w.blockType(p, end); err == nil {
				w.insertCheck(p)
			}
		case immEnd:
			if depth == 0 {
				if p != end {
					return w.malformed(at, "the function's body ends here, %d bytes before its declared size", end-p)
				}
				return nil
			}
			depth--
		case immU32x2:
			if end-p >= 2 && in[p] < 0x80 && in[p+1] < 0x80 {
				p += 2
			} else if _, p, err = w.u32(p, end, "immediate"); err == nil {
				_, p, err = w.u32(p, end, "immediate")
			}
		case immS32:
			if p < end && in[p] < 0x80 {
				p++
			} else {
				p, err = w.skipLEB(p, end, 5, "i32.const")
			}
		case immS64:
			if p < end && in[p] < 0x80 {
				p++
			} else {
				p, err = w.skipLEB(p, end, 10, "i64.const")
			}
		case immF32:
			p, err = w.skipBytes(p, end, 4, "f32.const")
		case immF64:
			p, err = w.skipBytes(p, end, 8, "f64.const")
		case immBrTable:
			var n uint32
			if n, p, err = w.count(p, end, 1, "br_table labels"); err != nil {
				return err
			}
			for i := uint32(0); i <= n && err == nil; i++ {
				_, p, err = w.u32(p, end, "br_table label")
			}
		case immZeroByte:
			p, err = w.zeroByte(p, end)
		case immSelectT:
			// wazero reads the vector's length as one byte, which must
			// be 1, then the type.
			if end-p < 2 || in[p] != 1 {
				return w.malformed(at, "a typed select must have exactly one type")
			}
			p += 2
		case immRefNull:
			p, err = w.refType(p, end)
		case immMisc:
			p, err = w.misc(at, p, end)
		case immSIMD:
			p, err = w.simd(at, p, end)
		case immRefused:
			r := refusedOps[op]
			return w.refused(at, r[0], fmt.Sprintf("%s (opcode %#x)", r[1], op))
		default:
			return w.malformed(at, "unknown opcode %#x", op)
		}
		if err != nil {
			return err
		}
	}
	return w.malformed(end, "the function's body ends without the end of its function")
}

// insertCheck writes the check before in[at:].
func (w *writer) insertCheck(at int) {
	w.flush(at)
	w.write(w.check)
}

// blockType skips a block type: a signed LEB128 of 33 bits (a value type
// or the empty type as one negative byte, or a type index), read as
// wazero reads it.
func (w *writer) blockType(p, end int) (int, error) {
	if p < end && w.in[p] < 0x80 {
		return p + 1, nil
	}
	return w.skipLEB(p, end, 5, "a block type")
}

// zeroByte reads the memory index of memory.size, memory.grow and the
// bulk memory instructions: wazero wants 0, in one byte.
func (w *writer) zeroByte(p, end int) (int, error) {
	if p >= end {
		return 0, w.malformed(p, "a memory index is missing")
	}
	if w.in[p] != 0 {
		return 0, w.refused(p, "multi-memory", fmt.Sprintf("the memory index byte %#x", w.in[p]))
	}
	return p + 1, nil
}

// misc skips an instruction of the 0xfc prefix: the saturating
// conversions, bulk memory and the table instructions of reference types.
func (w *writer) misc(at, p, end int) (int, error) {
	sub, p, err := w.u32(p, end, "0xfc sub-opcode")
	if err != nil {
		return 0, err
	}
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // *.trunc_sat_*
		return p, nil
	case 8: // memory.init data, 0
		if _, p, err = w.u32(p, end, "data index"); err != nil {
			return 0, err
		}
		return w.zeroByte(p, end)
	case 9, 13, 15, 16, 17: // data.drop, elem.drop, table.grow, table.size, table.fill
		_, p, err = w.u32(p, end, "index")
		return p, err
	case 10: // memory.copy 0 0
		if p, err = w.zeroByte(p, end); err != nil {
			return 0, err
		}
		return w.zeroByte(p, end)
	case 11: // memory.fill 0
		return w.zeroByte(p, end)
	case 12, 14: // table.init elem table, table.copy table table
		if _, p, err = w.u32(p, end, "index"); err != nil {
			return 0, err
		}
		_, p, err = w.u32(p, end, "index")
		return p, err
	}
	return 0, w.malformed(at, "unknown instruction 0xfc %d (not in WebAssembly 2.0)", sub)
}

// simd skips a vector instruction. wazero reads its sub-opcode as one
// byte where the specification has a LEB128: the same for the sub-opcodes
// below 0x80; from 0x80 (all without immediates), a standard encoder
// writes a second byte, 0x01, which wazero then reads as a nop. That
// reading is the one accepted; any other second byte is a sub-opcode past
// 0xff (relaxed SIMD) or an encoding the two read differently, refused.
func (w *writer) simd(at, p, end int) (int, error) {
	if p >= end {
		return 0, w.malformed(at, "a vector instruction without its sub-opcode")
	}
	sub := w.in[p]
	p++
	if sub >= 0x80 {
		if p < end && w.in[p] == 0x01 {
			p++
		} else {
			v, _, err := w.u32(p-1, end, "vector sub-opcode")
			if err == nil && v >= 0x100 && v <= 0x113 {
				return 0, w.refused(at, "relaxed SIMD", fmt.Sprintf("the vector instruction %#x", v))
			}
			return 0, &Error{Kind: ErrRefused, Offset: at, Func: w.fn,
				Reason: "a vector sub-opcode encoded so that wazero and the WebAssembly specification read different instructions; encode it as a standard toolchain does"}
		}
	}
	var err error
	switch simdImm[sub] {
	case simdNone:
	case simdMemarg:
		if _, p, err = w.u32(p, end, "alignment"); err == nil {
			_, p, err = w.u32(p, end, "offset")
		}
	case simdMemLane:
		if _, p, err = w.u32(p, end, "alignment"); err == nil {
			if _, p, err = w.u32(p, end, "offset"); err == nil {
				p, err = w.skipBytes(p, end, 1, "a lane index")
			}
		}
	case simdLane:
		p, err = w.skipBytes(p, end, 1, "a lane index")
	case simdBytes16:
		p, err = w.skipBytes(p, end, 16, "a 16-byte immediate")
	default:
		return 0, w.malformed(at, "unknown vector instruction %#x", sub)
	}
	return p, err
}
