package iamdata

import "strings"

// arnFormat is an ARN template split into tokens: literal bytes and
// placeholders, each placeholder with the characters it may stand for.
type arnFormat struct {
	toks []arnTok
}

type arnTok struct {
	lit   byte // the literal byte, when !ph
	ph    bool // a ${…} placeholder
	empty bool // may match the empty string
	colon bool // may contain ':'
	slash bool // may contain '/'
}

// parseARNFormat tokenises an ARN template. The placeholders' character
// classes are where ARN syntax is ambiguous, so they are chosen as follows:
//
//   - in the first five fields (arn:partition:service:region:account) a
//     placeholder stands for a whole field, possibly empty, without ':';
//   - in the resource part a placeholder is never empty; it may contain '/'
//     (IAM paths, S3 keys, log group names) unless it is the whole resource
//     part (an S3 bucket: else every object ARN would also be a bucket); only
//     the last placeholder, ending the template, may contain ':' (qualified
//     Lambda function ARNs, log streams).
func parseARNFormat(s string) arnFormat {
	var f arnFormat
	colons := 0
	resStart := -1 // token index where the resource part starts
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "${") {
			if j := strings.IndexByte(s[i:], '}'); j > 0 {
				t := arnTok{ph: true}
				if colons < 5 {
					t.empty = true
				} else {
					t.slash = true
				}
				f.toks = append(f.toks, t)
				i += j + 1
				continue
			}
		}
		f.toks = append(f.toks, arnTok{lit: s[i]})
		if s[i] == ':' {
			colons++
			if colons == 5 {
				resStart = len(f.toks)
			}
		}
		i++
	}
	if n := len(f.toks); n > 0 && f.toks[n-1].ph && resStart >= 0 && n-1 >= resStart {
		f.toks[n-1].colon = true
		if n-1 == resStart {
			f.toks[n-1].slash = false
		}
	}
	return f
}

func (t arnTok) allows(c byte) bool {
	switch c {
	case ':':
		return t.colon
	case '/':
		return t.slash
	}
	return true
}

// ResourceMatches reports whether an ARN from a policy's Resource element can
// name a resource of type rt, so that a validator can warn about actions that
// match no resource type for the ARNs a statement names. Wildcards in the ARN
// are read permissively: "*" stands for any run of characters (including '/'
// and ':') and "?" for any one, and the ARN matches if some resource it could
// name has rt's format — "arn:aws:s3:::*" matches both buckets and objects.
// Placeholders in the format (${Partition}, ${Region}, ${Account},
// ${BucketName}…) match any value; literal parts match case-sensitively, as
// IAM matches resources.
func ResourceMatches(rt *ResourceType, arn string) bool {
	if rt == nil {
		return false
	}
	for i := range rt.formats {
		if rt.formats[i].match(arn) {
			return true
		}
	}
	return false
}

// match decides whether the template's language and the ARN pattern's
// language intersect, by a search over pairs of positions: template state p
// (2*k for "before token k", 2*k+1 for "inside placeholder k") and ARN index j.
func (f *arnFormat) match(arn string) bool {
	n := len(f.toks)
	states := (2*n + 1) * (len(arn) + 1)
	var small [2048]bool
	var seen []bool
	if states <= len(small) {
		seen = small[:states]
	} else {
		seen = make([]bool, states)
	}
	stack := make([]int, 0, 64)
	var push func(p, j int)
	push = func(p, j int) {
		// Close over epsilon moves: leaving a placeholder, skipping an
		// empty-able placeholder, and a '*' matching nothing.
		for {
			k := p*(len(arn)+1) + j
			if seen[k] {
				return
			}
			seen[k] = true
			stack = append(stack, k)
			if j < len(arn) && arn[j] == '*' {
				push(p, j+1)
			}
			if p%2 == 1 { // inside placeholder p/2: may end it
				p++
				continue
			}
			if t := p / 2; t < n && f.toks[t].ph && f.toks[t].empty {
				p += 2
				continue
			}
			return
		}
	}
	push(0, 0)
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p, j := k/(len(arn)+1), k%(len(arn)+1)
		if p == 2*n && j == len(arn) {
			return true
		}
		if j == len(arn) {
			continue
		}
		c := arn[j]
		nj := j + 1
		if c == '*' {
			nj = j // '*' consumes one template character and stays
		}
		wild := c == '*' || c == '?'
		if p%2 == 1 { // inside placeholder: consume one more
			if t := f.toks[p/2]; wild || t.allows(c) {
				push(p, nj)
			}
			continue
		}
		t := p / 2
		if t == n {
			continue
		}
		tok := f.toks[t]
		switch {
		case tok.ph:
			if wild || tok.allows(c) {
				push(p+1, nj)
			}
		case wild || tok.lit == c:
			push(p+2, nj)
		}
	}
	return false
}
