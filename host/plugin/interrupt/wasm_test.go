package interrupt

// A small assembler for the modules the tests write by hand: each helper
// is one construct of the binary format, so that a module reads as its
// structure.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// uleb is an unsigned LEB128 in as few bytes as it takes.
func uleb(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// sleb is a signed LEB128 in as few bytes as it takes.
func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// vec is a vector: the number of items, then the items.
func vec(items ...[]byte) []byte {
	return cat(uleb(uint64(len(items))), cat(items...))
}

func str(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

// sec is a section: its id, its size, its content.
func sec(id byte, content ...[]byte) []byte {
	c := cat(content...)
	return cat([]byte{id}, uleb(uint64(len(c))), c)
}

// module is the header and the sections.
func module(sections ...[]byte) []byte {
	return cat([]byte("\x00asm\x01\x00\x00\x00"), cat(sections...))
}

// functype is a function type.
func functype(params, results []byte) []byte {
	return cat([]byte{0x60}, uleb(uint64(len(params))), params, uleb(uint64(len(results))), results)
}

// body is a function body: its size, its locals (pairs of count and
// type), its code (which ends with its own end).
func body(locals [][2]byte, code ...[]byte) []byte {
	var ls [][]byte
	for _, l := range locals {
		ls = append(ls, []byte{l[0], l[1]})
	}
	c := cat(vec(ls...), cat(code...))
	return cat(uleb(uint64(len(c))), c)
}

// Value types, and the block type of no values.
const (
	tI32  = 0x7f
	tI64  = 0x7e
	tF32  = 0x7d
	tF64  = 0x7c
	tV128 = 0x7b
	tFunc = 0x70
	tExt  = 0x6f
	bt0   = 0x40
)

// Imports and exports of each kind.
func importFunc(mod, name string, typ uint64) []byte {
	return cat(str(mod), str(name), []byte{0}, uleb(typ))
}

func importGlobal(mod, name string, t byte, mut bool) []byte {
	m := byte(0)
	if mut {
		m = 1
	}
	return cat(str(mod), str(name), []byte{3, t, m})
}

func export(name string, kind byte, idx uint64) []byte {
	return cat(str(name), []byte{kind}, uleb(idx))
}

// global is a defined global with its initialiser (an expression
// without its end).
func global(t byte, mut bool, init ...byte) []byte {
	m := byte(0)
	if mut {
		m = 1
	}
	return cat([]byte{t, m}, init, []byte{0x0b})
}

// Instructions used often.
func i32c(v int32) []byte       { return cat([]byte{0x41}, sleb(int64(v))) }
func globalGet(i uint64) []byte { return cat([]byte{0x23}, uleb(i)) }
func globalSet(i uint64) []byte { return cat([]byte{0x24}, uleb(i)) }
func localGet(i uint64) []byte  { return cat([]byte{0x20}, uleb(i)) }
func call(i uint64) []byte      { return cat([]byte{0x10}, uleb(i)) }

var end = []byte{0x0b}

// spinModule is the smallest module that runs for ever: an exported
// function "spin" looping on a branch back to its loop.
func spinModule() []byte {
	return module(
		sec(1, vec(functype(nil, nil))),
		sec(3, vec(uleb(0))),
		sec(7, vec(export("spin", 0, 0))),
		sec(10, vec(body(nil, []byte{0x03, bt0, 0x0c, 0x00, 0x0b}, end))),
	)
}

// countModule exports "count" (n) → n, a tight loop of n iterations,
// for the benchmarks.
func countModule() []byte {
	return module(
		sec(1, vec(functype([]byte{tI32}, []byte{tI32}))),
		sec(3, vec(uleb(0))),
		sec(7, vec(export("count", 0, 0))),
		sec(10, vec(body([][2]byte{{1, tI32}},
			[]byte{0x03, bt0},                                   // loop
			localGet(1), i32c(1), []byte{0x6a}, []byte{0x22, 1}, // local.tee 1 (i+1)
			localGet(0), []byte{0x49}, // i32.lt_u
			[]byte{0x0d, 0x00}, // br_if 0
			end,
			localGet(1), end))),
	)
}

// recursionModule exports "twice" (n): 2^n calls, without a loop:
//
//	twice(n) = n == 0 ? 1 : twice(n-1) + twice(n-1)
//
// twice(60) would run for centuries; only the checks at function entry
// can stop it.
func recursionModule() []byte {
	return module(
		sec(1, vec(functype([]byte{tI64}, []byte{tI64}))),
		sec(3, vec(uleb(0))),
		sec(7, vec(export("twice", 0, 0))),
		sec(10, vec(body(nil,
			localGet(0), []byte{0x50}, // i64.eqz
			[]byte{0x04, tI64},                          // if (result i64)
			[]byte{0x42, 1},                             // i64.const 1
			[]byte{0x05},                                // else
			localGet(0), []byte{0x42, 1, 0x7d}, call(0), // twice(n-1)
			localGet(0), []byte{0x42, 1, 0x7d}, call(0),
			[]byte{0x7c}, // i64.add
			end, end))),
	)
}
