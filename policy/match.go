package policy

import "strings"

// patElem is one character of a pattern. A '*' or '?' with lit unset is a
// wildcard; with lit set (it came from a ${*} / ${?} escape or from a policy
// variable's value) it only matches itself. Keeping that bit per character is
// what lets a user whose name contains '*' never gain a wildcard from
// ${aws:username}.
type patElem struct {
	r   rune
	lit bool
}

// literalPattern makes a pattern in which '*' and '?' are wildcards and
// nothing is substituted (actions; documents without Version 2012-10-17).
func literalPattern(s string) []patElem {
	out := make([]patElem, 0, len(s))
	for _, r := range s {
		out = append(out, patElem{r: r})
	}
	return out
}

func appendLiteral(p []patElem, s string) []patElem {
	for _, r := range s {
		p = append(p, patElem{r: r, lit: true})
	}
	return p
}

// patString renders an expanded pattern as the string it stands for; used by
// the operators that compare for equality rather than wildcard-match.
func patString(p []patElem) string {
	var b strings.Builder
	for _, e := range p {
		b.WriteRune(e.r)
	}
	return b.String()
}

// globMatch reports whether s matches p, where an unescaped '*' matches any
// run of characters (including ':' and '/', as IAM's wildcards do) and an
// unescaped '?' matches exactly one character. It is linear in practice: the
// classic single-backtrack-point algorithm, with no recursion.
func globMatch(p []patElem, s string) bool {
	rs := []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(rs) {
		if pi < len(p) && !p[pi].lit && p[pi].r == '*' {
			star, mark = pi, si
			pi++
			continue
		}
		if pi < len(p) && ((!p[pi].lit && p[pi].r == '?') || p[pi].r == rs[si]) {
			pi++
			si++
			continue
		}
		if star >= 0 {
			pi = star + 1
			mark++
			si = mark
			continue
		}
		return false
	}
	for pi < len(p) && !p[pi].lit && p[pi].r == '*' {
		pi++
	}
	return pi == len(p)
}

// wildcardMatch matches s against a plain pattern string; fold makes it
// case-insensitive (actions are; resources and most condition values are not).
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	return globMatch(literalPattern(pattern), s)
}

// varLookup resolves a policy variable's name to its single value.
type varLookup func(name string) (string, bool)

// expand turns a policy string into a pattern. With vars set (documents of
// Version 2012-10-17) it substitutes policy variables: ${name} takes the
// request's single value for that key (names compared case-insensitively),
// ${name, 'default'} falls back to the default, and ${*}, ${?}, ${$} are the
// literal characters. Substituted text is always literal. Any variable that
// cannot be resolved is returned in missing, and the caller must treat the
// pattern as matching nothing: AWS's documentation says an unresolvable
// variable can make the whole statement invalid, never wider.
func expand(s string, vars bool, lookup varLookup) (p []patElem, missing []string) {
	if !vars || !strings.Contains(s, "${") {
		return literalPattern(s), nil
	}
	p = make([]patElem, 0, len(s))
	for len(s) > 0 {
		i := strings.Index(s, "${")
		if i < 0 {
			p = append(p, literalPattern(s)...)
			break
		}
		p = append(p, literalPattern(s[:i])...)
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			// An unterminated "${" is ordinary text.
			p = append(p, literalPattern(s[i:])...)
			break
		}
		body := rest[:j]
		s = rest[j+1:]
		switch body {
		case "*", "?", "$":
			p = appendLiteral(p, body)
			continue
		}
		name, def, hasDef := splitVariable(body)
		if v, ok := lookup(name); ok {
			p = appendLiteral(p, v)
		} else if hasDef {
			p = appendLiteral(p, def)
		} else {
			missing = append(missing, name)
		}
	}
	return p, missing
}

// splitVariable splits the body of ${...} into the key name and an optional
// default: "aws:PrincipalTag/team, 'none'" → ("aws:PrincipalTag/team",
// "none", true). Spaces around the name and the quoted default are ignored, as
// AWS documents.
func splitVariable(body string) (name, def string, hasDef bool) {
	name = body
	if k := strings.IndexByte(body, ','); k >= 0 {
		d := strings.TrimSpace(body[k+1:])
		if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
			name, def, hasDef = body[:k], d[1:len(d)-1], true
		}
	}
	return strings.TrimSpace(name), def, hasDef
}

// isASCII reports whether s is all ASCII, where a byte is a character.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// stringGlob is globMatch for a pattern with no policy variables, matched
// case-sensitively without building a pattern: the evaluator's hot path for
// resources. Non-ASCII text takes the rune-wise path.
func stringGlob(p, s string) bool {
	if !isASCII(p) || !isASCII(s) {
		return globMatch(literalPattern(p), s)
	}
	return asciiGlob(p, s, false)
}

// asciiGlob is globMatch over bytes; fold lower-cases the pattern's letters
// (s must then be lower case already).
func asciiGlob(p, s string, fold bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) && p[pi] == '*' {
			star, mark = pi, si
			pi++
			continue
		}
		if pi < len(p) {
			c := p[pi]
			if fold && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c == '?' || c == s[si] {
				pi++
				si++
				continue
			}
		}
		if star >= 0 {
			pi = star + 1
			mark++
			si = mark
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
