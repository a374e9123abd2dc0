package interrupt

import (
	"bytes"
	"errors"
	"fmt"
)

// The checker: a decoder of the binary format written for the tests
// alone, sharing nothing with the instrumenter (it reads instructions by
// the specification, in one switch, where the instrumenter reads them
// with tables, as wazero does), so that the instrumenter's output is
// judged by a second reading.

// report is what the checker found in a module.
type report struct {
	checkFunc   int // index of the imported check function, -1 when the module does not import it
	counter     int // index of the counter global, -1 when there is none
	loops       int // loop instructions
	loopChecks  int // loops whose body starts with the check
	entryChecks int // function bodies that start with the check
	functions   int // function bodies
	// funcNames is the "name" section's function names, by index.
	funcNames map[uint32]string
	check     []byte
}

// errNamed: something of the module's own names the check function or
// the counter.
var errNamed = errors.New("the module's own code names what the instrumenter added")

// cursor reads a module; its first error sticks.
type cursor struct {
	b   []byte
	p   int
	err error
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("at byte %#x: %s", c.p, fmt.Sprintf(format, args...))
	}
}

func (c *cursor) byte() byte {
	if c.err != nil {
		return 0
	}
	if c.p >= len(c.b) {
		c.fail("unexpected end")
		return 0
	}
	c.p++
	return c.b[c.p-1]
}

func (c *cursor) bytes(n uint64) []byte {
	if c.err != nil {
		return nil
	}
	if n > uint64(len(c.b)-c.p) {
		c.fail("%d bytes wanted, %d left", n, len(c.b)-c.p)
		return nil
	}
	c.p += int(n)
	return c.b[c.p-int(n) : c.p]
}

// leb reads an unsigned LEB128 of at most bits bits.
func (c *cursor) leb(bits int) uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		if shift >= bits+7 {
			c.fail("LEB128 too long")
			return 0
		}
		b := c.byte()
		if c.err != nil {
			return 0
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
}

func (c *cursor) u32() uint32 { return uint32(c.leb(32)) }

func (c *cursor) name() string { return string(c.bytes(uint64(c.u32()))) }

func (c *cursor) limits() {
	if c.byte()&1 == 1 {
		c.u32()
	}
	c.u32()
}

// check decodes a module and returns what it found. When the module
// imports the check function, check fails unless every loop body starts
// with the check, so does every function that calls or loops (or it
// starts with a loop), and nothing else in the module names the check
// function or the counter.
func check(wasm []byte) (report, error) {
	r := report{checkFunc: -1, counter: -1, funcNames: map[uint32]string{}}
	c := &cursor{b: wasm}
	if !bytes.Equal(c.bytes(8), []byte("\x00asm\x01\x00\x00\x00")) {
		return r, errors.New("no header")
	}
	var types [][]byte
	funcs, globals := 0, 0 // imported so far
	for c.err == nil && c.p < len(c.b) {
		id := c.byte()
		size := c.u32()
		start := c.p
		s := &cursor{b: c.bytes(uint64(size))}
		if c.err != nil {
			break
		}
		switch id {
		case 1:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				from := s.p
				s.byte()
				s.bytes(uint64(s.u32()))
				s.bytes(uint64(s.u32()))
				types = append(types, s.b[from:s.p])
			}
		case 2:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				mod, field := s.name(), s.name()
				switch kind := s.byte(); kind {
				case 0:
					t := s.u32()
					if mod == ModuleName {
						if field != FieldName || i != n-1 || int(t) >= len(types) || !bytes.Equal(types[t], []byte{0x60, 0, 0}) {
							return r, fmt.Errorf("the import %s.%s (type %d) is not the last import, of type [] -> []", mod, field, t)
						}
						r.checkFunc = funcs
					}
					funcs++
				case 1:
					s.byte()
					s.limits()
				case 2:
					s.limits()
				case 3:
					s.bytes(2)
					globals++
				default:
					s.fail("import kind %#x", kind)
				}
			}
		case 6:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				from := s.p
				s.bytes(2)
				r.expr(s)
				if r.checkFunc >= 0 && i == n-1 {
					want := cat([]byte{0x7f, 1, 0x41}, sleb(Budget), []byte{0x0b})
					if !bytes.Equal(s.b[from:s.p], want) {
						return r, fmt.Errorf("the last global is % x, not the counter", s.b[from:s.p])
					}
					r.counter = globals + int(n) - 1
					r.check = cat(globalGet(uint64(r.counter)), i32c(1), []byte{0x6b}, globalSet(uint64(r.counter)),
						globalGet(uint64(r.counter)), []byte{0x45, 0x04, 0x40}, i32c(Budget), globalSet(uint64(r.counter)),
						[]byte{0x10}, uleb(uint64(r.checkFunc)), []byte{0x0b})
				}
			}
		case 7:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				s.name()
				kind, idx := s.byte(), s.u32()
				if (kind == 0 && int(idx) == r.checkFunc) || (kind == 3 && int(idx) == r.counter) {
					return r, fmt.Errorf("%w: an export", errNamed)
				}
			}
		case 8:
			if int(s.u32()) == r.checkFunc {
				return r, fmt.Errorf("%w: the start function", errNamed)
			}
		case 9:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				flags := s.u32()
				if flags == 2 || flags == 6 {
					s.u32()
				}
				if flags&1 == 0 {
					r.expr(s)
				}
				if flags&3 != 0 {
					s.byte()
				}
				m := s.u32()
				for j := uint32(0); j < m && s.err == nil; j++ {
					if flags&4 != 0 {
						r.expr(s)
					} else if int(s.u32()) == r.checkFunc {
						s.fail("%v: an element", errNamed)
					}
				}
			}
		case 10:
			if r.checkFunc >= 0 && r.check == nil {
				return r, errors.New("the module imports the check function but has no counter")
			}
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				fb := &cursor{b: s.bytes(uint64(s.u32()))}
				r.functions++
				r.body(fb)
				if fb.err != nil {
					return r, fmt.Errorf("function body %d: %w", i, fb.err)
				}
			}
		case 11:
			n := s.u32()
			for i := uint32(0); i < n && s.err == nil; i++ {
				switch flags := s.u32(); flags {
				case 0:
					r.expr(s)
				case 2:
					s.u32()
					r.expr(s)
				}
				s.bytes(uint64(s.u32()))
			}
		case 0:
			if s.name() == "name" {
				for s.err == nil && s.p < len(s.b) {
					id := s.byte()
					ss := &cursor{b: s.bytes(uint64(s.u32()))}
					if id == 1 {
						n := ss.u32()
						for i := uint32(0); i < n && ss.err == nil; i++ {
							idx := ss.u32()
							r.funcNames[idx] = ss.name()
						}
					}
				}
			}
			s.p = len(s.b)
		default:
			s.p = len(s.b)
		}
		if s.err != nil {
			return r, fmt.Errorf("section %d at byte %#x: %w", id, start, s.err)
		}
		if s.p != len(s.b) {
			return r, fmt.Errorf("section %d at byte %#x: %d bytes left over", id, start, len(s.b)-s.p)
		}
	}
	if c.err != nil {
		return r, c.err
	}
	if r.checkFunc >= 0 && r.loopChecks != r.loops {
		return r, fmt.Errorf("%d loops, %d checked", r.loops, r.loopChecks)
	}
	return r, nil
}

// expr reads a constant expression up to its end.
func (r *report) expr(c *cursor) {
	for c.err == nil {
		switch op := c.byte(); op {
		case 0x0b:
			return
		case 0x41:
			c.leb(32)
		case 0x42:
			c.leb(64)
		case 0x43:
			c.bytes(4)
		case 0x44:
			c.bytes(8)
		case 0x23:
			if int(c.u32()) == r.counter {
				c.fail("%v: global.get in a constant expression", errNamed)
			}
		case 0xd0:
			c.byte()
		case 0xd2:
			if int(c.u32()) == r.checkFunc {
				c.fail("%v: ref.func in a constant expression", errNamed)
			}
		case 0xfd:
			c.u32()
			c.bytes(16)
		default:
			c.fail("opcode %#x in a constant expression", op)
		}
	}
}

// body reads a function body; when the module is instrumented, every
// loop's body must start with the check, and so must the function's if
// it calls or loops (and does not start with a loop).
func (r *report) body(c *cursor) {
	nl := c.u32()
	for i := uint32(0); i < nl && c.err == nil; i++ {
		c.u32()
		c.byte()
	}
	entryChecked := r.check != nil && bytes.HasPrefix(c.b[c.p:], r.check)
	if entryChecked {
		r.entryChecks++
		c.p += len(r.check)
	}
	startsWithLoop := c.p < len(c.b) && c.b[c.p] == 0x03
	callsOrLoops := false
	depth := 1
	for c.err == nil && depth > 0 {
		op := c.byte()
		switch {
		case op == 0x02 || op == 0x04:
			c.leb(33)
			depth++
		case op == 0x03:
			c.leb(33)
			depth++
			r.loops++
			callsOrLoops = true
			if r.check != nil && bytes.HasPrefix(c.b[c.p:], r.check) {
				r.loopChecks++
				c.p += len(r.check)
			}
		case op == 0x0b:
			depth--
		case op == 0x10 || op == 0xd2:
			callsOrLoops = callsOrLoops || op == 0x10
			if int(c.u32()) == r.checkFunc {
				c.fail("%v: %#x", errNamed, op)
			}
		case op == 0x0c || op == 0x0d || (op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26:
			c.u32()
		case op == 0x23 || op == 0x24:
			if int(c.u32()) == r.counter {
				c.fail("%v: %#x", errNamed, op)
			}
		case op == 0x0e:
			n := c.u32()
			for i := uint32(0); i <= n && c.err == nil; i++ {
				c.u32()
			}
		case op == 0x11:
			callsOrLoops = true
			c.u32()
			c.u32()
		case op >= 0x28 && op <= 0x3e:
			c.u32()
			c.u32()
		case op == 0x3f || op == 0x40:
			c.byte()
		case op == 0x41:
			c.leb(32)
		case op == 0x42:
			c.leb(64)
		case op == 0x43:
			c.bytes(4)
		case op == 0x44:
			c.bytes(8)
		case op == 0x1c:
			c.bytes(uint64(c.u32()))
		case op == 0xd0:
			c.byte()
		case op == 0xfc:
			switch sub := c.u32(); sub {
			case 8:
				c.u32()
				c.byte()
			case 9, 13, 15, 16, 17:
				c.u32()
			case 10:
				c.bytes(2)
			case 11:
				c.byte()
			case 12, 14:
				c.u32()
				c.u32()
			default:
				if sub > 7 {
					c.fail("0xfc %d", sub)
				}
			}
		case op == 0xfd:
			switch sub := c.u32(); {
			case sub <= 0x0b || sub == 0x5c || sub == 0x5d:
				c.u32()
				c.u32()
			case sub >= 0x54 && sub <= 0x5b:
				c.u32()
				c.u32()
				c.byte()
			case sub == 0x0c || sub == 0x0d:
				c.bytes(16)
			case sub >= 0x15 && sub <= 0x22:
				c.byte()
			case sub > 0xff:
				c.fail("0xfd %d", sub)
			}
		case op <= 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || (op >= 0x45 && op <= 0xc4) || op == 0xd1:
		default:
			c.fail("opcode %#x", op)
		}
	}
	if c.err == nil && c.p != len(c.b) {
		c.fail("%d bytes after the function's end", len(c.b)-c.p)
	}
	if c.err == nil && r.check != nil && callsOrLoops && !entryChecked && !startsWithLoop {
		c.fail("the function calls or loops, and does not start with the check")
	}
}
