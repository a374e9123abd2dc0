// Package wire reads the host's answers inside a plugin without decoding
// them twice. A page of authorization details is megabytes, and JSON
// decoding is a plugin's largest cost: decoding a response into
// api.IAMResponse scans (and copies) its result once, and decoding the
// result into the operation's output type scans it again. These functions
// find the result's bytes instead; the one real decoding is the caller's.
//
// They trust nothing: anything they do not recognise is reported (ok
// false), and the caller falls back to encoding/json, which says what is
// wrong. Tag-free, so that it is tested and fuzzed natively.
package wire

// resultPrefix is how the host writes a successful response: exactly
// {"result":R}, R as the operation's encoder made it.
const resultPrefix = `{"result":`

// Result returns R of a response written as {"result":R}.
func Result(resp []byte) ([]byte, bool) {
	if len(resp) < len(resultPrefix)+2 || string(resp[:len(resultPrefix)]) != resultPrefix || resp[len(resp)-1] != '}' {
		return nil, false
	}
	r := resp[len(resultPrefix) : len(resp)-1]
	if end, ok := skip(r, 0); !ok || end != len(r) {
		return nil, false // {"result":1,"error":{…}} is not one
	}
	return r, true
}

// Elements returns the bytes of each element of the JSON array b, in order,
// without decoding them (only strings and nesting are followed, to find
// where each ends).
func Elements(b []byte) ([][]byte, bool) {
	i := space(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	var out [][]byte
	i = space(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, space(b, i+1) == len(b)
	}
	for {
		start := i
		end, ok := skip(b, i)
		if !ok {
			return nil, false
		}
		out = append(out, b[start:end])
		i = space(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = space(b, i+1)
		case ']':
			return out, space(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

// skip returns where the JSON value starting at b[i] ends. Scalars run to
// the next delimiter; strings to their closing quote; objects and arrays
// to their matching bracket.
func skip(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	case ',', ']', '}', ':', ' ', '\t', '\n', '\r':
		return 0, false
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i, i > start
		}
		i++
	}
	return i, true
}

// skipString returns the index after the string starting at b[i] (a '"').
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

func space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
