package review

import (
	"cmp"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// The policy reasoning, with its caches. Every question is answered by the
// project's policy engine (policy.Evaluate, policy.AdminEquivalent,
// policy.TrustRisks); what this file adds is making those answers cheap
// enough for 10,000 principals:
//
//   - a policy document is parsed once per distinct text (an AWS managed
//     policy attached 5,000 times, or 5,000 identical inline policies, is
//     one docInfo);
//   - each document gets a candidate bitset: the actions of interest that
//     some Allow statement of it names, found by expanding its patterns
//     through AWS's action reference. A principal can only be allowed an
//     action one of its policies names, so the union of its documents'
//     bitsets tells which escalation methods are worth evaluating at all;
//     for most principals none is;
//   - what a principal may do depends only on its set of documents (and
//     boundary), so results are cached per distinct set, not per principal.
//
// Two readings of a document are evaluated. The strict one keeps only
// unconditioned Allow statements, and keeps every Deny with its conditions
// removed (a Deny that might apply is taken to apply): allowed there means
// allowed on "*" whatever the request, with nothing able to deny it —
// "confirmed". The relaxed one keeps every Allow with its conditions
// removed and its resources widened to "*", and only unconditioned Deny
// statements: allowed there means allowed on some resource under some
// conditions — "potential".

// docInfo is one distinct policy document and what the engine knows of it.
type docInfo struct {
	id   int
	text string
	doc  *policy.Document // nil when the text does not parse
	err  error

	strict, relaxed *policy.Document
	// cond keeps every Allow with its conditions removed but its resources
	// as written, and only unconditioned Deny statements: allowed there
	// means allowed on that resource under some conditions. widened keeps
	// the unconditioned Allow statements with their resources widened to
	// "*", and every Deny with its conditions removed: allowed there means
	// allowed, whatever the request, on some resource the caller may name
	// (a function or stack it creates). The principal graph uses both.
	cond, widened  *policy.Document
	hasVars        bool // the text uses policy variables (${aws:username}): answers depend on the principal
	hasDeny        bool
	notActionAllow bool   // an unconditioned Allow with NotAction
	cand           bitset // universe actions some Allow statement names
	// onStarStmts marks the unconditioned Allow statements whose resources
	// reach "*" (by statement index); starCand is cand for those alone.
	// Most policies name their resources, so most have none, and the
	// per-policy rules skip them without evaluating a single action.
	onStarStmts map[int]bool
	starCand    bitset

	adminDone bool
	admin     bool
	adminWhy  string

	onStarDone bool
	onStar     bitset // cand actions the document alone allows, strictly, on *
	onStarBy   map[int][]policy.Match

	wildDone bool
	wild     []serviceWildcard
}

// serviceWildcard is an Allow of every action of one service on "*".
type serviceWildcard struct {
	service, pattern string
	statement        int
	sid              string
	actions          int
}

// engine holds the caches of one review of one account.
type engine struct {
	*docCache
	sets map[string]*policySet
	// scp is the account's service control policies; nil outside an
	// organisation review and for the management account.
	scp *scpGate
}

// docCache is what the engine knows of documents, which holds in any
// account: an organisation review shares it between its accounts, so that
// AWS managed policies (and a platform team's policies copied into every
// account) are parsed and judged once.
type docCache struct {
	u      *actionUniverse
	byText map[string]*docInfo
	docs   []*docInfo
	// patterns caches each action pattern's universe indexes: policies
	// repeat patterns ("s3:GetObject", "logs:*") far more than they differ.
	patterns map[string][]int
}

func newEngine() *engine {
	return &engine{docCache: &docCache{u: universe(), byText: map[string]*docInfo{}, patterns: map[string][]int{}}, sets: map[string]*policySet{}}
}

// forAccount is an engine for another account sharing e's documents:
// policy sets, and what they may do, depend on the account's SCPs.
func (e *engine) forAccount(scp *scpGate) *engine {
	return &engine{docCache: e.docCache, sets: map[string]*policySet{}, scp: scp}
}

// pattern returns the universe indexes an Action pattern matches, through
// AWS's action reference.
func (e *docCache) pattern(p string) []int {
	if idx, ok := e.patterns[p]; ok {
		return idx
	}
	var idx []int
	for _, a := range iamdata.MatchActions(p) {
		if i, ok := e.u.byInfo(a); ok {
			idx = append(idx, i)
		}
	}
	e.patterns[p] = idx
	return idx
}

// doc returns the docInfo of a document text, parsing it on first sight.
func (e *docCache) doc(text string) *docInfo {
	if d, ok := e.byText[text]; ok {
		return d
	}
	d := &docInfo{id: len(e.docs), text: text}
	e.byText[text] = d
	e.docs = append(e.docs, d)
	d.doc, d.err = policy.Parse(text)
	if d.err != nil {
		d.doc = nil
		d.cand = newBitset(len(e.u.names))
		return d
	}
	d.strict, d.relaxed, d.cond, d.widened = readings(d.doc)
	d.hasVars = strings.Contains(text, "${")
	for i := range d.doc.Statements {
		st := &d.doc.Statements[i]
		switch st.Effect {
		case "Deny":
			d.hasDeny = true
		case "Allow":
			if len(st.NotAction) > 0 && len(st.Condition) == 0 {
				d.notActionAllow = true
			}
		}
	}
	d.onStarStmts = onStarStatements(d.doc)
	d.cand = e.candidates(d, nil)
	d.starCand = newBitset(len(e.u.names))
	if len(d.onStarStmts) > 0 {
		d.starCand = e.candidates(d, d.onStarStmts)
	}
	return d
}

// onStarStatements finds the unconditioned Allow statements that apply to
// the resource "*", asking Evaluate with each statement's actions widened
// to every action (so that only its Resource or NotResource decides).
func onStarStatements(d *policy.Document) map[int]bool {
	var out map[int]bool
	for _, st := range d.Statements {
		if st.Effect != "Allow" || len(st.Condition) > 0 {
			continue
		}
		probe := st
		probe.Action, probe.NotAction = []string{"*"}, nil
		one := &policy.Document{Version: d.Version, Statements: []policy.Statement{probe}}
		if allowedBy(nil, one, adminProbeAction) {
			if out == nil {
				out = map[int]bool{}
			}
			out[st.Index] = true
		}
	}
	return out
}

// readings makes the strict, relaxed, cond and widened documents (see the
// file comment and docInfo).
func readings(d *policy.Document) (strict, relaxed, cond, widened *policy.Document) {
	strict = &policy.Document{Version: d.Version, ID: d.ID}
	relaxed = &policy.Document{Version: d.Version, ID: d.ID}
	cond = &policy.Document{Version: d.Version, ID: d.ID}
	widened = &policy.Document{Version: d.Version, ID: d.ID}
	for _, st := range d.Statements {
		switch st.Effect {
		case "Allow":
			if len(st.Condition) == 0 {
				strict.Statements = append(strict.Statements, st)
				w := st
				w.Resource, w.NotResource = []string{"*"}, nil
				widened.Statements = append(widened.Statements, w)
			}
			r := st
			r.Condition = nil
			c := r
			r.Resource, r.NotResource = []string{"*"}, nil
			relaxed.Statements = append(relaxed.Statements, r)
			cond.Statements = append(cond.Statements, c)
		case "Deny":
			s := st
			s.Condition = nil
			strict.Statements = append(strict.Statements, s)
			widened.Statements = append(widened.Statements, s)
			if len(st.Condition) == 0 {
				relaxed.Statements = append(relaxed.Statements, st)
				cond.Statements = append(cond.Statements, st)
			}
		}
	}
	return strict, relaxed, cond, widened
}

// candidates expands the document's Allow statements (those in only, when
// not nil) through AWS's action reference into the universe's bitset. It
// over-approximates (it ignores resources, conditions and Deny
// statements): the exact answer is always Evaluate's, on the candidates
// only.
func (e *docCache) candidates(d *docInfo, only map[int]bool) bitset {
	u := e.u
	b := newBitset(len(u.names))
	for i := range d.doc.Statements {
		st := &d.doc.Statements[i]
		if st.Effect != "Allow" || (only != nil && !only[st.Index]) {
			continue
		}
		switch {
		case len(st.Action) > 0:
			for _, p := range st.Action {
				if strings.Trim(p, "*") == "" {
					b.fill(len(u.names))
					continue
				}
				for _, i := range e.pattern(p) {
					b.set(i)
				}
			}
		case len(st.NotAction) > 0:
			excl := newBitset(len(u.names))
			for _, p := range st.NotAction {
				for _, i := range e.pattern(p) {
					excl.set(i)
				}
			}
			all := newBitset(len(u.names))
			all.fill(len(u.names))
			all.andNot(excl)
			b.or(all)
		}
	}
	// Actions newer than the catalogue: ask the engine directly.
	for l, name := range u.extra {
		i := u.index[l]
		if !b.has(i) && allowedBy(nil, d.relaxed, name) {
			b.set(i)
		}
	}
	return b
}

// allowedBy evaluates one action on "*" against identity documents (and a
// boundary), as the policy engine decides requests.
func allowedBy(srcs []policy.Source, one *policy.Document, action string) bool {
	if one != nil {
		srcs = []policy.Source{{ID: "0", Type: "user-managed", Doc: one}}
	}
	return policy.Evaluate(policy.Input{Identity: srcs}, policy.Request{Action: action, Resource: "*"}).Decision == policy.Allowed
}

// isAdmin answers policy.AdminEquivalent for the document, running it only
// when the document could be admin-equivalent at all: every such grant
// names iam:AttachUserPolicy in an Allow (on whatever resource), or is an
// unconditioned NotAction. The full test is costly (it walks AWS's whole
// catalogue), so the probe keeps it to the few documents that matter.
func (e *docCache) isAdmin(d *docInfo) (bool, string) {
	if d.adminDone {
		return d.admin, d.adminWhy
	}
	d.adminDone = true
	if d.doc == nil {
		return false, ""
	}
	// Any Allow naming the probe action, whatever its resources: "iam:*" on
	// "arn:aws:iam::ACCOUNT:*" is admin-equivalent although it never
	// matches the resource "*". The full test weighs resources, conditions
	// and denies its own way.
	if d.notActionAllow || d.cand.has(e.u.lookup(adminProbeAction)) {
		d.admin, d.adminWhy = policy.AdminEquivalent(d.doc)
	}
	return d.admin, d.adminWhy
}

// allowedOnStar returns the candidate actions the document alone allows on
// "*" in the strict reading, with the statements that allow each.
func (e *docCache) allowedOnStar(d *docInfo) (bitset, map[int][]policy.Match) {
	if d.onStarDone {
		return d.onStar, d.onStarBy
	}
	d.onStarDone = true
	d.onStar = newBitset(len(e.u.names))
	d.onStarBy = map[int][]policy.Match{}
	if d.doc == nil {
		return d.onStar, d.onStarBy
	}
	src := []policy.Source{{ID: "0", Type: "user-managed", Doc: d.strict}}
	for i := range e.u.names {
		if !d.starCand.has(i) {
			continue
		}
		r := policy.Evaluate(policy.Input{Identity: src}, policy.Request{Action: e.u.names[i], Resource: "*"})
		if r.Decision == policy.Allowed {
			d.onStar.set(i)
			d.onStarBy[i] = allows(r.Matched)
		}
	}
	return d.onStar, d.onStarBy
}

// allows keeps the Allow matches.
func allows(ms []policy.Match) []policy.Match {
	var out []policy.Match
	for _, m := range ms {
		if m.Effect == "Allow" {
			out = append(out, m)
		}
	}
	return out
}

// wildcards finds the Allow statements granting every action of a service
// (s3:*, kms:*) on "*" without conditions. Whether a pattern covers a whole
// service is decided by AWS's action reference (every one of the service's actions
// matches it), and whether the grant reaches "*" by Evaluate
// (onStarStatements); "*" alone is admin, reported by the admin rules.
func (e *docCache) wildcards(d *docInfo) []serviceWildcard {
	if d.wildDone {
		return d.wild
	}
	d.wildDone = true
	if d.doc == nil {
		return nil
	}
	for i := range d.doc.Statements {
		st := &d.doc.Statements[i]
		if st.Effect != "Allow" || len(st.Condition) > 0 || len(st.Action) == 0 || !d.onStarStmts[st.Index] {
			continue
		}
		seen := map[string]bool{}
		for _, p := range st.Action {
			svc, _, ok := strings.Cut(p, ":")
			if !ok || strings.ContainsAny(svc, "*?") || seen[strings.ToLower(svc)] {
				continue
			}
			svc = strings.ToLower(svc)
			n := e.u.svcSize[svc]
			ms := iamdata.MatchActions(p)
			if n < 2 || len(ms) != n {
				continue
			}
			seen[svc] = true
			d.wild = append(d.wild, serviceWildcard{service: svc, pattern: p, statement: st.Index, sid: st.Sid, actions: n})
		}
	}
	return d.wild
}

// policySet is a distinct combination of identity documents and boundary:
// what a principal may do depends on nothing else, so every answer about it
// is cached here.
type policySet struct {
	identity []*docInfo
	boundary *docInfo
	cand     bitset

	adminDone bool
	admin     bool
	adminWhy  string
	adminDoc  *docInfo

	escDone bool
	esc     []methodResult
	// blocked are the methods whose actions the set's policies allow
	// outright but the account's SCPs stop, with the SCP that stops them.
	blocked []blockedMethod
	actions map[int]*actionResult
}

// blockedMethod is an escalation method an SCP takes away.
type blockedMethod struct {
	method int
	by     string
}

// actionResult is one action's evaluation for a set.
type actionResult struct {
	strict, relaxed bool
	by              []policy.Match // the Allow statements that matched (strict when strict, else relaxed)
	deniedBy        []policy.Match // strict Deny matches (conditional denies) when relaxed only
	// scpBlocked names the SCP that stops an action the principal's own
	// policies allow (strictly), "" when none does.
	scpBlocked string
}

// methodResult is one escalation method a set has.
type methodResult struct {
	method  int
	status  string
	limited []int // actions allowed only in the relaxed reading
}

// set returns the policySet of identity documents and a boundary.
func (e *engine) set(identity []*docInfo, boundary *docInfo) *policySet {
	docs := make([]*docInfo, 0, len(identity))
	for _, d := range identity {
		dup := false
		for _, x := range docs {
			dup = dup || x == d
		}
		if !dup {
			docs = append(docs, d)
		}
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].id < docs[j].id })
	var kb strings.Builder
	for _, d := range docs {
		kb.WriteString(strconv.Itoa(d.id))
		kb.WriteByte(',')
	}
	if boundary != nil {
		kb.WriteString("b")
		kb.WriteString(strconv.Itoa(boundary.id))
	}
	key := kb.String()
	if s, ok := e.sets[key]; ok {
		return s
	}
	s := &policySet{identity: docs, boundary: boundary, cand: newBitset(len(e.u.names)), actions: map[int]*actionResult{}}
	for _, d := range docs {
		s.cand.or(d.cand)
	}
	if boundary != nil {
		for i := range s.cand {
			s.cand[i] &= boundary.cand[i]
		}
	}
	e.sets[key] = s
	return s
}

// sources are a set's documents in one reading, each named by its docInfo
// id (with the prefix) so that matches map back to the principal's
// policies.
func sources(docs []*docInfo, strict bool, prefix string) []policy.Source {
	out := make([]policy.Source, 0, len(docs))
	for _, d := range docs {
		doc := d.relaxed
		if strict {
			doc = d.strict
		}
		if doc == nil {
			continue
		}
		out = append(out, policy.Source{ID: prefix + strconv.Itoa(d.id), Type: "user-managed", Doc: doc})
	}
	return out
}

// boundaryPrefix marks a boundary's matches, which say where the grant is
// allowed, not where it comes from.
const boundaryPrefix = "b"

// isAdmin reports whether the set's effective permissions are
// admin-equivalent: one of its documents is, and no Deny elsewhere in the
// set and no boundary takes that away. When Deny statements are present the
// engine judges the documents merged into one; a boundary must itself be
// admin-equivalent for the principal to be.
func (e *engine) setAdmin(s *policySet) (bool, string, *docInfo) {
	if s.adminDone {
		return s.admin, s.adminWhy, s.adminDoc
	}
	s.adminDone = true
	var adminDoc *docInfo
	var why string
	anyDeny := false
	for _, d := range s.identity {
		anyDeny = anyDeny || d.hasDeny
		if adminDoc == nil {
			if ok, w := e.isAdmin(d); ok {
				adminDoc, why = d, w
			}
		}
	}
	if adminDoc == nil {
		return false, "", nil
	}
	if anyDeny && len(s.identity) > 1 {
		merged := &policy.Document{Version: "2012-10-17"}
		for _, d := range s.identity {
			if d.doc != nil {
				merged.Statements = append(merged.Statements, d.doc.Statements...)
			}
		}
		ok, w := policy.AdminEquivalent(merged)
		if !ok {
			return false, "", nil
		}
		why = w
	}
	if s.boundary != nil {
		if ok, _ := e.isAdmin(s.boundary); !ok {
			return false, "", nil
		}
	}
	s.admin, s.adminWhy, s.adminDoc = true, why, adminDoc
	return true, why, adminDoc
}

// action evaluates one universe action for a set in both readings.
func (e *engine) action(s *policySet, i int) *actionResult {
	if r, ok := s.actions[i]; ok {
		return r
	}
	r := &actionResult{}
	s.actions[i] = r
	name := e.u.names[i]
	in := policy.Input{Identity: sources(s.identity, true, "")}
	if s.boundary != nil {
		in.Boundaries = sources([]*docInfo{s.boundary}, true, boundaryPrefix)
	}
	res := policy.Evaluate(in, policy.Request{Action: name, Resource: "*"})
	if res.Decision == policy.Allowed {
		ok, by := e.scp.allows(rdStrict, name, "*", nil)
		if ok {
			r.strict, r.by = true, identityAllows(res.Matched)
			return r
		}
		r.scpBlocked = by
	}
	for _, m := range res.Matched {
		if m.Effect == "Deny" && !strings.HasPrefix(m.SourceID, boundaryPrefix) {
			r.deniedBy = append(r.deniedBy, m)
		}
	}
	in = policy.Input{Identity: sources(s.identity, false, "")}
	if s.boundary != nil {
		in.Boundaries = sources([]*docInfo{s.boundary}, false, boundaryPrefix)
	}
	res = policy.Evaluate(in, policy.Request{Action: name, Resource: "*"})
	if res.Decision == policy.Allowed {
		if ok, _ := e.scp.allows(rdRelaxed, name, "*", nil); ok {
			r.relaxed, r.by = true, identityAllows(res.Matched)
		}
	}
	return r
}

// identityAllows keeps the identity-layer Allow matches.
func identityAllows(ms []policy.Match) []policy.Match {
	var out []policy.Match
	for _, m := range ms {
		if m.Effect == "Allow" && !strings.HasPrefix(m.SourceID, boundaryPrefix) {
			out = append(out, m)
		}
	}
	return out
}

// escalations evaluates the escalation methods the set's candidates allow
// at all, and returns those it has, confirmed or potential.
func (e *engine) escalations(s *policySet) []methodResult {
	if s.escDone {
		return s.esc
	}
	s.escDone = true
	for mi, acts := range e.u.methods {
		possible := true
		for _, a := range acts {
			possible = possible && s.cand.has(a)
		}
		if !possible {
			continue
		}
		all, strict := true, true
		var limited []int
		blockedBy := "" // an SCP stops an action the policies allow
		for _, a := range acts {
			r := e.action(s, a)
			if !r.strict && !r.relaxed && r.scpBlocked != "" {
				// Go on: the method is blocked only if every other
				// action of it is allowed.
				blockedBy = cmp.Or(blockedBy, r.scpBlocked)
				continue
			}
			if !r.strict && !r.relaxed {
				all = false
				break
			}
			if !r.strict {
				strict = false
				limited = append(limited, a)
			}
		}
		if !all {
			continue
		}
		if blockedBy != "" {
			s.blocked = append(s.blocked, blockedMethod{method: mi, by: blockedBy})
			continue
		}
		st := StatusConfirmed
		if !strict {
			st = StatusPotential
		}
		s.esc = append(s.esc, methodResult{method: mi, status: st, limited: limited})
	}
	return s.esc
}
