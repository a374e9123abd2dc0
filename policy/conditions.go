package policy

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// polValue is one policy-side condition value, after policy variables were
// substituted (pat) where the operator allows them.
type polValue struct {
	raw string
	pat []patElem
	// plain says raw holds no policy variable and is valid UTF-8, so pat was
	// not built: the pattern is raw itself, '*' and '?' being wildcards.
	plain bool
}

// pattern returns the value as a pattern, building it for a plain value.
func (p polValue) pattern() []patElem {
	if p.plain {
		return literalPattern(p.raw)
	}
	return p.pat
}

// baseOperator is one condition operator without its ForAnyValue:/
// ForAllValues: prefix or IfExists suffix.
type baseOperator struct {
	// negated operators (StringNotEquals, NotIpAddress, …) are the negation of
	// their positive twin: true when no request value matches any policy value,
	// and true when the key is absent from the request.
	negated bool
	// vars says policy variables in the policy values are substituted. AWS
	// substitutes them in string and ARN comparisons only.
	vars bool
	// null marks the Null operator, which tests presence instead of comparing.
	null bool
	// match compares one request value with one policy value. ok=false means
	// one of them is not of the operator's type (a date operator given "soon");
	// the whole condition then evaluates to false, whatever the operator's
	// polarity: a value IAM cannot read never widens a statement.
	match func(req string, pol polValue) (matched, ok bool)
}

// conditionOperators is the one table of condition operators the package
// knows: the evaluator looks operators up here, and so do CheckIAM and
// IsConditionOperator. A later operator is one entry here (and tests).
var conditionOperators = map[string]baseOperator{
	"StringEquals":              {vars: true, match: stringEquals},
	"StringNotEquals":           {vars: true, negated: true, match: stringEquals},
	"StringEqualsIgnoreCase":    {vars: true, match: stringEqualsFold},
	"StringNotEqualsIgnoreCase": {vars: true, negated: true, match: stringEqualsFold},
	"StringLike":                {vars: true, match: stringLike},
	"StringNotLike":             {vars: true, negated: true, match: stringLike},

	"NumericEquals":            {match: numeric(func(c int) bool { return c == 0 })},
	"NumericNotEquals":         {negated: true, match: numeric(func(c int) bool { return c == 0 })},
	"NumericLessThan":          {match: numeric(func(c int) bool { return c < 0 })},
	"NumericLessThanEquals":    {match: numeric(func(c int) bool { return c <= 0 })},
	"NumericGreaterThan":       {match: numeric(func(c int) bool { return c > 0 })},
	"NumericGreaterThanEquals": {match: numeric(func(c int) bool { return c >= 0 })},

	"DateEquals":            {match: date(func(c int) bool { return c == 0 })},
	"DateNotEquals":         {negated: true, match: date(func(c int) bool { return c == 0 })},
	"DateLessThan":          {match: date(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":    {match: date(func(c int) bool { return c <= 0 })},
	"DateGreaterThan":       {match: date(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals": {match: date(func(c int) bool { return c >= 0 })},

	"Bool":         {match: boolEquals},
	"BinaryEquals": {match: binaryEquals},

	"IpAddress":    {match: ipInRange},
	"NotIpAddress": {negated: true, match: ipInRange},

	"ArnEquals":    {vars: true, match: arnLike},
	"ArnLike":      {vars: true, match: arnLike},
	"ArnNotEquals": {vars: true, negated: true, match: arnLike},
	"ArnNotLike":   {vars: true, negated: true, match: arnLike},

	"Null": {null: true},
}

type setQualifier int

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// operator is a condition operator as written in a policy, taken apart.
type operator struct {
	base     baseOperator
	set      setQualifier
	ifExists bool
}

// parseOperator splits "ForAllValues:StringLikeIfExists" into its parts.
// Names are case-sensitive, as in IAM's grammar.
func parseOperator(name string) (operator, bool) {
	var op operator
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		op.set, name = setAnyValue, strings.TrimPrefix(name, "ForAnyValue:")
	case strings.HasPrefix(name, "ForAllValues:"):
		op.set, name = setAllValues, strings.TrimPrefix(name, "ForAllValues:")
	}
	if strings.HasSuffix(name, "IfExists") {
		op.ifExists, name = true, strings.TrimSuffix(name, "IfExists")
	}
	b, ok := conditionOperators[name]
	if !ok {
		return operator{}, false
	}
	op.base = b
	return op, true
}

// IsConditionOperator reports whether name (for example
// "ForAnyValue:StringLikeIfExists") is a condition operator this package
// evaluates. It exists so that validation code and the embedded IAM sandbox
// accept exactly the operators the evaluator understands, from the one table.
func IsConditionOperator(name string) bool {
	_, ok := parseOperator(name)
	return ok
}

// evalKey evaluates one operator against one condition key. present says the
// request carries the key with at least one value. unresolved receives the
// names of policy variables that could not be resolved.
func (op operator) evalKey(reqVals []string, present bool, polRaw []string, vars bool, lookup varLookup, unresolved func(string)) bool {
	if op.base.null {
		// Null tests presence; its qualifiers add nothing and are ignored.
		for _, v := range polRaw {
			switch strings.ToLower(v) {
			case "true":
				if !present {
					return true
				}
			case "false":
				if present {
					return true
				}
			}
		}
		return false
	}
	// Resolve the policy values first so every unresolved variable is
	// reported, whatever the outcome.
	var polBuf [4]polValue
	pols := polBuf[:0]
	anyUnresolved := false
	for _, raw := range polRaw {
		// The hot path: no substitution to do, so no pattern to build.
		if !op.base.vars || ((!vars || !strings.Contains(raw, "${")) && utf8.ValidString(raw)) {
			pols = append(pols, polValue{raw: raw, plain: true})
			continue
		}
		pat, missing := expand(raw, vars && op.base.vars, lookup)
		if len(missing) > 0 {
			for _, m := range missing {
				unresolved(m)
			}
			anyUnresolved = true
			continue
		}
		pols = append(pols, polValue{raw: raw, pat: pat})
	}
	if !present {
		switch {
		case op.set == setAnyValue:
			// ForAnyValue needs at least one request value to match, so it is
			// false without the key even under IfExists: AWS documents that
			// ForAnyValue returns false when the key is missing, and real
			// requests bear it out (a ForAnyValue:StringEqualsIfExists Allow
			// on aws:TagKeys does not allow a request without tags).
			return false
		case op.ifExists, op.set == setAllValues:
			return true
		default:
			return op.base.negated
		}
	}
	if anyUnresolved && op.base.negated {
		// A negated test against a value nobody knows could only widen the
		// statement; AWS treats the statement as invalid instead.
		return false
	}
	// hit[i]: request value i matches at least one policy value.
	var hitBuf [4]bool
	var hit []bool
	if len(reqVals) <= len(hitBuf) {
		hit = hitBuf[:len(reqVals)]
	} else {
		hit = make([]bool, len(reqVals))
	}
	for i, rv := range reqVals {
		for _, pv := range pols {
			m, ok := op.base.match(rv, pv)
			if !ok {
				return false
			}
			if m {
				hit[i] = true
			}
		}
	}
	anyHit, allHit, anyMiss, allMiss := false, true, false, true
	for _, h := range hit {
		anyHit = anyHit || h
		allHit = allHit && h
		anyMiss = anyMiss || !h
		allMiss = allMiss && !h
	}
	switch op.set {
	case setAnyValue:
		if op.base.negated {
			return anyMiss
		}
		return anyHit
	case setAllValues:
		if op.base.negated {
			return allMiss
		}
		return allHit
	default:
		if op.base.negated {
			return !anyHit
		}
		return anyHit
	}
}

func stringEquals(req string, pol polValue) (bool, bool) {
	if pol.plain {
		return req == pol.raw, true
	}
	return req == patString(pol.pat), true
}

func stringEqualsFold(req string, pol polValue) (bool, bool) {
	if pol.plain {
		return strings.EqualFold(req, pol.raw), true
	}
	return strings.EqualFold(req, patString(pol.pat)), true
}

func stringLike(req string, pol polValue) (bool, bool) {
	if pol.plain {
		return stringGlob(pol.raw, req), true
	}
	return globMatch(pol.pat, req), true
}

func numeric(cmp func(int) bool) func(string, polValue) (bool, bool) {
	return func(req string, pol polValue) (bool, bool) {
		a, ok1 := parseNumber(req)
		b, ok2 := parseNumber(pol.raw)
		if !ok1 || !ok2 {
			return false, false
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return cmp(c), true
	}
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func date(cmp func(int) bool) func(string, polValue) (bool, bool) {
	return func(req string, pol polValue) (bool, bool) {
		a, ok1 := parseDate(req)
		b, ok2 := parseDate(pol.raw)
		if !ok1 || !ok2 {
			return false, false
		}
		return cmp(a.Compare(b)), true
	}
}

func boolEquals(req string, pol polValue) (bool, bool) {
	a, ok1 := parseBool(req)
	b, ok2 := parseBool(pol.raw)
	if !ok1 || !ok2 {
		return false, false
	}
	return a == b, true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func binaryEquals(req string, pol polValue) (bool, bool) {
	a, err1 := base64.StdEncoding.DecodeString(req)
	b, err2 := base64.StdEncoding.DecodeString(pol.raw)
	if err1 != nil || err2 != nil {
		return false, false
	}
	return bytes.Equal(a, b), true
}

// ipInRange: the policy value is a CIDR block or a single address; the
// request value is an address.
func ipInRange(req string, pol polValue) (bool, bool) {
	addr, err := netip.ParseAddr(strings.TrimSpace(req))
	if err != nil {
		return false, false
	}
	raw := strings.TrimSpace(pol.raw)
	var pfx netip.Prefix
	if strings.Contains(raw, "/") {
		pfx, err = netip.ParsePrefix(raw)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(raw)
		if err == nil {
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return false, false
	}
	a := addr.Unmap()
	p := pfx.Masked()
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Contains(a), true
}

// arnLike compares ARNs the way AWS documents ArnEquals and ArnLike (which
// behave the same): case-sensitively, each of the six colon-separated parts on
// its own, each part allowing * and ? wildcards, so a '*' in the region never
// swallows the account. A request value that is not an ARN matches nothing. A
// policy value of wildcards only ("*") matches every ARN; any other policy
// value with fewer than six parts has its missing parts empty, so it cannot
// match a whole ARN by accident.
func arnLike(req string, pol polValue) (bool, bool) {
	rp := strings.SplitN(req, ":", 6)
	if len(rp) != 6 {
		return false, true
	}
	pat := pol.pattern()
	if onlyStars(pat) {
		return true, true
	}
	pp := splitPattern(pat, ':', 6)
	for i := range rp {
		var part []patElem
		if i < len(pp) {
			part = pp[i]
		}
		if !globMatch(part, rp[i]) {
			return false, true
		}
	}
	return true, true
}

func onlyStars(p []patElem) bool {
	for _, e := range p {
		if e.lit || e.r != '*' {
			return false
		}
	}
	return len(p) > 0
}

// splitPattern splits p at sep into at most n parts, like strings.SplitN.
func splitPattern(p []patElem, sep rune, n int) [][]patElem {
	var out [][]patElem
	start := 0
	for i, e := range p {
		if len(out) == n-1 {
			break
		}
		if e.r == sep {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// parseDate reads a date the way IAM does: an ISO 8601 date or date-time
// (2019-07-16, 2019-07-16T12:00:00Z, 2016-12-13T21:20:37.593194+00:00; the
// T and Z in either case; a missing zone means UTC), or whole seconds since
// the Unix epoch.
func parseDate(s string) (time.Time, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return time.Time{}, false
	}
	if !strings.ContainsAny(s, "t-") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || !allDigits(s) {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	datePart, timePart, _ := strings.Cut(s, "t")
	neg := strings.HasPrefix(datePart, "-")
	if neg {
		datePart = datePart[1:]
	}
	fields := strings.Split(datePart, "-")
	if len(fields) > 3 {
		return time.Time{}, false
	}
	year, ok := intIn(fields[0], 0, 292278993)
	if !ok {
		return time.Time{}, false
	}
	if neg {
		year = -year
	}
	month, day := 1, 1
	if len(fields) > 1 {
		if month, ok = intIn(fields[1], 1, 12); !ok {
			return time.Time{}, false
		}
	}
	if len(fields) > 2 {
		if day, ok = intIn(fields[2], 1, 31); !ok {
			return time.Time{}, false
		}
	}
	hour, minute, sec, nsec := 0, 0, 0, 0
	loc := time.UTC
	if timePart != "" {
		clock, zone := timePart, ""
		if k := strings.IndexAny(timePart, "z+-"); k >= 0 {
			clock, zone = timePart[:k], timePart[k:]
		}
		parts := strings.Split(clock, ":")
		if len(parts) > 3 {
			return time.Time{}, false
		}
		if parts[0] != "" {
			if hour, ok = intIn(parts[0], 0, 23); !ok {
				return time.Time{}, false
			}
		}
		if len(parts) > 1 {
			if minute, ok = intIn(parts[1], 0, 59); !ok {
				return time.Time{}, false
			}
		}
		if len(parts) > 2 {
			whole, frac, hasFrac := strings.Cut(parts[2], ".")
			if sec, ok = intIn(whole, 0, 59); !ok {
				return time.Time{}, false
			}
			if hasFrac {
				if len(frac) == 0 || len(frac) > 9 || !allDigits(frac) {
					return time.Time{}, false
				}
				n, _ := strconv.Atoi(frac)
				for i := len(frac); i < 9; i++ {
					n *= 10
				}
				nsec = n
			}
		}
		switch {
		case zone == "" || zone == "z":
		case zone[0] == '+' || zone[0] == '-':
			zh, zm, hasMin := strings.Cut(zone[1:], ":")
			if len(zh) != 2 {
				return time.Time{}, false
			}
			h, ok := intIn(zh, 0, 23)
			if !ok {
				return time.Time{}, false
			}
			m := 0
			if hasMin {
				if len(zm) != 2 {
					return time.Time{}, false
				}
				if m, ok = intIn(zm, 0, 59); !ok {
					return time.Time{}, false
				}
			}
			off := h*3600 + m*60
			if zone[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, false
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func intIn(s string, lo, hi int) (int, bool) {
	if !allDigits(s) || len(s) > 10 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}
