package plugin

// countArrayElements counts the elements of the JSON array b without
// decoding it, in one pass and no allocation, so that an iam_batch of
// millions of requests is refused for its count before it costs the host
// a Go value per request. ok is false when b is not an array whose
// brackets and strings close (the strict decoder then says what is
// wrong); the count of a malformed array is only an estimate, and only
// ever used to refuse or to count against a cap.
func countArrayElements(b []byte) (n int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	depth := 0
	inString, escaped := false, false
	empty := true
	for ; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if !empty {
					n++
				}
				return n, skipSpace(b, i+1) == len(b)
			}
			if depth < 0 {
				return n, false
			}
		case ',':
			if depth == 1 {
				n++
			}
		}
		if depth >= 1 && !(depth == 1 && (c == '[' || c == ',')) {
			empty = false
		}
	}
	return n, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
