package interrupt

import (
	"context"
	"testing"
)

// featuresModule uses an instruction of every shape of immediates
// WebAssembly 2.0 has, inside loops and between calls, so that an
// instrumenter misreading one would put a check in the wrong place (and
// the output would not validate, or compute something else): bulk memory
// (memory.init, data.drop, memory.copy, memory.fill), the table
// instructions of reference types (table.init, elem.drop, table.copy,
// table.grow, table.size, table.fill, table.get, table.set), ref.null,
// ref.is_null, ref.func, call_indirect through two tables, vector
// instructions (memarg, memarg and lane, 16-byte constant, shuffle, lane
// index, and a sub-opcode past 0x7f in its two standard bytes), typed
// select, sign extension, saturating truncation, a loop with a parameter
// (a multi-value block type) and br_table back to a loop.
//
// Export "mix" returns a number that depends on all of them.
func featuresModule() []byte {
	acc := func(code ...[]byte) []byte { // acc += the value code leaves
		return cat(cat(code...), localGet(0), []byte{0x6a, 0x21, 0})
	}
	iota16 := func(from byte) []byte {
		b := make([]byte, 16)
		for i := range b {
			b[i] = from + byte(i)
		}
		return b
	}
	lanes := make([]byte, 16)
	for i := range lanes {
		lanes[i] = byte(i)
		if i%2 == 1 {
			lanes[i] += 16
		}
	}
	mix := body([][2]byte{{1, tI32}, {1, tV128}, {1, tI32}},
		// Bulk memory: mem[0:16] = 1…16, mem[32:48] = mem[0:16], mem[48:52] = 7.
		i32c(0), i32c(0), i32c(16), []byte{0xfc, 8, 0, 0},
		[]byte{0xfc, 9, 0},
		i32c(32), i32c(0), i32c(16), []byte{0xfc, 10, 0, 0},
		i32c(48), i32c(7), i32c(4), []byte{0xfc, 11, 0},
		// Tables: table1[0] = f1 (by elem 0), table0[0] = table1[0],
		// table0 grows by 2 (acc = its old size, 4), acc += size of
		// table1, table0[2] = f1, acc += table0[3] is null, table0[3] = f1.
		i32c(0), i32c(0), i32c(1), []byte{0xfc, 12, 0, 1},
		[]byte{0xfc, 13, 0},
		i32c(0), i32c(0), i32c(1), []byte{0xfc, 14, 0, 1},
		[]byte{0xd0, tFunc}, i32c(2), []byte{0xfc, 15, 0}, []byte{0x21, 0},
		acc([]byte{0xfc, 16, 1}),
		i32c(2), []byte{0xd2, 1}, i32c(1), []byte{0xfc, 17, 0},
		acc(i32c(3), []byte{0x25, 0, 0xd1}),
		i32c(3), []byte{0xd2, 1}, []byte{0x26, 0},
		// Calls through both tables: acc += 3.
		acc(i32c(0), []byte{0x11, 0, 0}, i32c(0), []byte{0x11, 0, 1}, []byte{0x6a}, i32c(3), []byte{0x11, 0, 0}, []byte{0x6a}),
		// Vectors, in a loop run once.
		[]byte{0x03, bt0},
		i32c(0), []byte{0xfd, 0x00, 4, 0}, []byte{0x21, 1}, // v128.load
		i32c(32), localGet(1), []byte{0xfd, 0x54, 0, 0, 3}, // v128.load8_lane lane 3
		[]byte{0xfd, 0x0c}, iota16(100), // v128.const
		[]byte{0xfd, 0x0d}, lanes, // i8x16.shuffle
		[]byte{0xfd, 0x80, 0x01}, // i16x8.abs, sub-opcode 0x80 in two bytes
		[]byte{0xfd, 0x16, 5},    // i8x16.extract_lane_u 5
		localGet(0), []byte{0x6a, 0x21, 0},
		i32c(64), localGet(1), []byte{0xfd, 0x0b, 4, 0}, // v128.store
		end,
		// Typed select, sign extension, saturating truncation.
		acc(i32c(100), i32c(200), i32c(0), []byte{0x1c, 1, tI32}),
		acc(i32c(255), []byte{0xc0}, []byte{0x43, 0xf9, 0x02, 0x15, 0x50}, []byte{0xfc, 0}, []byte{0x6a}), // -1 + trunc_sat(1e10)
		// A loop with a parameter: counts 5 down to 0.
		acc(i32c(5), []byte{0x03, 1}, i32c(1), []byte{0x6b, 0x22, 2}, localGet(2), []byte{0x0d, 0}, end, i32c(40), []byte{0x6a}),
		// br_table back to a loop three times.
		i32c(0), []byte{0x21, 2},
		[]byte{0x02, bt0, 0x03, bt0},
		localGet(2), i32c(1), []byte{0x6a, 0x22, 2}, i32c(3), []byte{0x49}, []byte{0x0e, 1, 1, 0},
		end, end,
		acc(localGet(2)),
		acc(i32c(64), []byte{0x2d, 0, 3}), // i32.load8_u offset 3: a byte the vectors stored
		localGet(0), end)
	return module(
		sec(1, vec(functype(nil, []byte{tI32}), functype([]byte{tI32}, []byte{tI32}))),
		sec(3, vec(uleb(0), uleb(0))),
		sec(4, vec([]byte{tFunc, 0x00, 4}, []byte{tFunc, 0x00, 4})),
		sec(5, vec([]byte{0x00, 0x01})),
		sec(7, vec(export("mix", 0, 0))),
		sec(9, vec(
			cat(uleb(1), []byte{0}, vec(uleb(1))), // passive: f1
			cat(uleb(3), []byte{0}, vec(uleb(1))), // declarative: f1, for ref.func
		)),
		sec(12, uleb(1)),
		sec(10, vec(mix, body(nil, i32c(1), end))),
		sec(11, vec(cat(uleb(1), str(string(iota16(1)))))),
	)
}

// TestEveryImmediateShape runs featuresModule and its instrumented copy
// in both engines: the same number.
func TestEveryImmediateShape(t *testing.T) {
	in := featuresModule()
	out := instrument(t, in)
	ctx := context.Background()
	for name, cfg := range engines {
		t.Run(name, func(t *testing.T) {
			var got [2]uint64
			for i, wasm := range [][]byte{in, out} {
				m := instantiate(t, newRuntime(t, cfg()), wasm)
				res, err := m.ExportedFunction("mix").Call(ctx)
				if err != nil {
					t.Fatalf("mix: %v", err)
				}
				got[i] = res[0]
			}
			if got[0] != got[1] || got[0] == 0 {
				t.Fatalf("mix: original %d, instrumented %d", got[0], got[1])
			}
			t.Logf("mix() = %d", int32(got[0]))
		})
	}
}
