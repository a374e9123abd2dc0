package policy

import (
	"encoding/base64"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// Conditions, as the guardrail decision rule reads them (see Risks).
//
// A statement's Condition block restricts a grant only when a request the
// rule's attacker can make (one that knows no secret of the account, is not
// in its organisation and carries none of its tags, calls directly from an
// ordinary address, now) makes it false. The question is answered per
// condition key, with the engine's own operators (operator.evalKey, as
// Evaluate uses them), over candidate request values chosen by who decides
// the key's value:
//
//   - fixed by the request's context: aws:CurrentTime is now, aws:PrincipalArn
//     is the principal making the request, aws:SourceVpce is absent for a
//     call from the internet. One candidate.
//   - chosen freely by the requester (aws:SecureTransport, aws:UserAgent,
//     aws:RequestedRegion, the request's tags; in trust policies also the
//     session name, source identity and the caller's own principal tags):
//     the attacker picks any value, the ones the policy names included. The
//     key restricts nothing when one candidate meets it.
//   - chosen by the requester without knowing the account's secrets
//     (sts:ExternalId, and its own organisation in aws:PrincipalOrgID):
//     absent, or a value the policy does not name.
//   - MFA: absent (long-term access keys) or false; never true. (In a
//     trust policy open to anyone, the caller's own principals have MFA and
//     tags as it likes: there MFA and aws:PrincipalTag restrict nothing.)
//   - the service a role is passed to (iam:PassedToService): one the policy
//     does not name, so that naming services restricts and a pattern such
//     as "*.amazonaws.com" does not.
//   - the policy an attach names, or the boundary a boundary write sets
//     (iam:PolicyARN, iam:PermissionsBoundary): the requester's choice among
//     AdministratorAccess, IAMFullAccess and any of the account's own
//     policies; a condition naming others (ReadOnlyAccess, the approved
//     boundary) restricts.
//   - aws:SourceIp: an address the attacker has but does not choose. The key
//     restricts nothing when every one of a spread of IPv4 addresses, or of
//     IPv6 addresses, meets it.
//   - anything else (aws:PrincipalOrgID, tags, aws:ResourceAccount of
//     another account, service keys such as iam:PassedToService): values the
//     policy does not name, and absence. The key restricts when one of them
//     fails it.
//
// A Deny statement counts only when its condition holds for every
// candidate: a Deny the attacker can step around (a condition on
// aws:MultiFactorAuthPresent = false, which long-term keys do not carry)
// takes nothing away.

// rCand is one candidate request value set for a key; nil vals is the key
// absent from the request.
type rCand struct{ vals []string }

// rOpVals is one operator applied to one key, with the policy's values.
type rOpVals struct {
	name string // the operator as written
	op   operator
	vals []string
}

// rKeyClass says who decides a key's value (see above).
type rKeyClass int

const (
	rGeneric rKeyClass = iota
	rFree
	rSecret
	rMFA
	rTokenTime
	rIP
	rPolicyChoice
	rService
)

// rTrustFree are keys the caller of sts:AssumeRole* sets itself (and so, in
// a trust policy, restrict nothing unless they name a secret).
var rTrustFree = map[string]bool{
	"sts:rolesessionname": true, "sts:sourceidentity": true, "aws:sourceidentity": true,
	"sts:transitivetagkeys": true, "aws:tagkeys": true, "sts:durationseconds": true,
}

// rGuessable is how many literal characters a wildcard pattern of an
// external id must keep to still be a secret: fewer, and a caller guesses
// a value that matches.
const rGuessable = 8

// rSpreadV4 and rSpreadV6 are the addresses an attacker may call from: a
// CIDR list that holds all of one family is no restriction.
var (
	rSpreadV4 = []string{"1.2.3.4", "45.60.70.80", "99.100.101.102", "130.131.132.133", "172.217.0.1", "198.51.100.20", "203.0.113.9", "223.1.2.3"}
	rSpreadV6 = []string{"2001:db8::1", "2600:1f18::1", "2a05:d018::1", "fd00::1"}
)

// rClass classifies a lower-case key.
func (c *rCtx) rClass(lk string) rKeyClass {
	switch lk {
	case "aws:securetransport", "aws:useragent", "aws:referer", "aws:requestedregion", "aws:tagkeys":
		return rFree
	case "sts:externalid", "aws:principalorgid", "aws:principalorgpaths":
		// The attacker's organisation, if it has one, is not the
		// account's; and it may have none.
		return rSecret
	case "aws:multifactorauthpresent":
		return rMFA
	case "aws:tokenissuetime":
		return rTokenTime
	case "aws:sourceip":
		return rIP
	case "iam:policyarn", "iam:permissionsboundary":
		return rPolicyChoice
	case "iam:passedtoservice":
		return rService
	case "aws:sourceidentity":
		return rFree // set by whoever assumed the role: the attacker
	}
	if strings.HasPrefix(lk, "aws:requesttag/") {
		return rFree // the request's own tags: whatever the caller sends
	}
	if c.trust && (rTrustFree[lk] || strings.HasPrefix(lk, "sts:") || strings.HasPrefix(lk, "aws:principaltag/")) {
		// In a trust policy the caller is the attacker's own principal:
		// its tags, session name and source identity are its own choice.
		return rFree
	}
	return rGeneric
}

// rFamily names an operator's value type, for choosing candidate values.
func rFamily(name string) string {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "ForAnyValue:"), "ForAllValues:")
	name = strings.TrimSuffix(name, "IfExists")
	switch {
	case strings.HasPrefix(name, "String"):
		return "string"
	case strings.HasPrefix(name, "Numeric"):
		return "numeric"
	case strings.HasPrefix(name, "Date"):
		return "date"
	case name == "Bool":
		return "bool"
	case name == "BinaryEquals":
		return "binary"
	case strings.HasSuffix(name, "IpAddress"):
		return "ip"
	case strings.HasPrefix(name, "Arn"):
		return "arn"
	}
	return "" // Null: presence only
}

// rGenericValues are values a key can take that the policy does not name,
// of the types its operators compare.
func (c *rCtx) rGenericValues(ops []rOpVals) []string {
	fams := map[string]bool{}
	for _, o := range ops {
		fams[rFamily(o.name)] = true
	}
	var out []string
	if fams["string"] || fams[""] {
		out = append(out, c.probe.att, c.attacker, c.attackerRole(), "o-"+c.probe.att, c.probe.att+".amazonaws.com")
	}
	if fams["arn"] {
		out = append(out, c.attackerRole(), "arn:aws:s3:::"+c.probe.att)
	}
	if fams["numeric"] {
		out = append(out, "0", "1000000")
	}
	if fams["date"] {
		out = append(out, c.now.AddDate(-1, 0, 0).UTC().Format("2006-01-02T15:04:05Z"), c.now.AddDate(1, 0, 0).UTC().Format("2006-01-02T15:04:05Z"))
	}
	if fams["bool"] {
		out = append(out, "true", "false")
	}
	if fams["ip"] {
		out = append(out, rSpreadV4[0], rSpreadV6[0])
	}
	if fams["binary"] {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(c.probe.att)))
	}
	return out
}

// rGroups returns the candidate groups for a key: the condition on the key
// can be met when, for some group, every candidate of the group meets it,
// and always holds when every candidate of every group does.
func (c *rCtx) rGroups(lk string, ops []rOpVals, h *rHolder) [][]rCand {
	if v, ok := h.fixed[lk]; ok {
		return [][]rCand{{{vals: v}}}
	}
	if v, ok := c.env[lk]; ok {
		return [][]rCand{{{vals: v}}}
	}
	if c.carry != nil && !c.carry(lk) || c.carry == nil && !rMayCarry(nil, lk) {
		// The request cannot carry the key at all.
		return [][]rCand{{{}}}
	}
	one := func(vals ...string) []rCand { return []rCand{{vals: vals}} }
	absent := []rCand{{}}
	class := c.rClass(lk)
	if h.own != "" && strings.HasPrefix(lk, h.own) {
		class = rSecret
	}
	if h.free[lk] {
		class = rFree
	}
	switch class {
	case rFree:
		groups := [][]rCand{absent}
		var all []string
		for _, o := range ops {
			for _, v := range o.vals {
				if !strings.Contains(v, "${") {
					groups = append(groups, one(v))
					all = append(all, v)
				}
			}
		}
		if len(all) > 1 {
			groups = append(groups, one(all...))
		}
		for _, g := range c.rGenericValues(ops) {
			groups = append(groups, one(g))
		}
		return groups
	case rSecret:
		groups := [][]rCand{absent}
		for _, g := range c.rGenericValues(ops) {
			groups = append(groups, one(g))
		}
		if lk == "sts:externalid" {
			// The caller writes the external id: a pattern with little
			// literal text in it ("*", "*0") is a secret anyone guesses.
			for _, o := range ops {
				for _, v := range o.vals {
					if strings.ContainsAny(v, "*?") && len(strings.NewReplacer("*", "", "?", "").Replace(v)) < rGuessable {
						groups = append(groups, one(rConcretize(v, "x")))
					}
				}
			}
		}
		return groups
	case rMFA:
		return [][]rCand{absent, one("false")}
	case rService:
		// A service the policy does not name: naming the services is the
		// restriction (Access Analyzer's remedy for PassRole on "*").
		return [][]rCand{one(c.probe.att + ".amazonaws.com")}
	case rPolicyChoice:
		// The policy attached, or the boundary set, is the requester's
		// choice: a condition restricts only when it excludes the
		// policies that grant everything (AWS's, or any of the account's
		// own, whose content the condition cannot know).
		var groups [][]rCand
		for _, p := range []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess",
			"arn:aws:iam::" + c.account + ":policy/" + c.probe.target, "arn:aws:iam::" + c.account + ":policy/" + c.probe.path + "/" + c.probe.target} {
			groups = append(groups, one(p))
		}
		return groups
	case rTokenTime:
		return [][]rCand{absent, one(c.now.UTC().Format("2006-01-02T15:04:05Z"))}
	case rIP:
		var v4, v6 []rCand
		for _, a := range rSpreadV4 {
			v4 = append(v4, rCand{vals: []string{a}})
		}
		for _, a := range rSpreadV6 {
			v6 = append(v6, rCand{vals: []string{a}})
		}
		return [][]rCand{v4, v6}
	}
	g := []rCand{{}}
	for _, v := range c.rGenericValues(ops) {
		g = append(g, rCand{vals: []string{v}})
	}
	return [][]rCand{g}
}

// rCondition decides a statement's Condition block for holder h: for an
// Allow (deny false), whether the attacker can meet it; for a Deny,
// whether it holds whatever the attacker does. It returns the keys that
// were judged (sorted), for messages. An unknown operator makes the
// statement never apply, as in Evaluate.
//
// Answers are cached per condition block and what the holder fixes of its
// keys: a document of many statements asked about for many principals is
// read once per distinct case.
func (c *rCtx) rCondition(cond Conditions, h *rHolder, vars, deny bool) (bool, []string) {
	var sig strings.Builder
	for op, keys := range cond {
		for k, vals := range keys {
			for _, v := range vals {
				if strings.Contains(v, "${") {
					// A variable may read any of the holder's keys.
					sig.WriteString("H" + h.what + "\x00" + h.arn + "\x00" + h.own + "\x00" + strings.Join(h.fixed["aws:principalarn"], ""))
					for f := range h.free {
						sig.WriteString("\x00" + f)
					}
					break
				}
			}
			lk := strings.ToLower(k)
			sig.WriteString(op)
			sig.WriteByte(0)
			sig.WriteString(lk)
			sig.WriteByte(0)
			if v, ok := h.fixed[lk]; ok {
				sig.WriteString("=" + strings.Join(v, "\x01"))
			}
			if h.free[lk] {
				sig.WriteString("F")
			}
			if h.own != "" && strings.HasPrefix(lk, h.own) {
				sig.WriteString("O")
			}
			if c.carry != nil && !c.carry(lk) {
				sig.WriteString("A")
			}
			sig.WriteByte(1)
		}
	}
	key := rCondKey{cond: reflect.ValueOf(cond).Pointer(), vars: vars, deny: deny, sig: sig.String()}
	if r, ok := c.condCache[key]; ok {
		return r.met, r.keys
	}
	met, keys := c.rConditionUncached(cond, h, vars, deny)
	if c.condCache == nil {
		c.condCache = map[rCondKey]rCondResult{}
	}
	c.condCache[key] = rCondResult{met, keys}
	return met, keys
}

// rCondKey and rCondResult cache rCondition. The signature holds what the
// holder fixes of each key tested, and the whole holder when a value names
// a variable; the environment and the run's names are one per rCtx, where
// the cache lives. Map iteration order makes the signature's order vary,
// which costs a cache miss, never a wrong answer.
type rCondKey struct {
	cond       uintptr
	vars, deny bool
	sig        string
}

type rCondResult struct {
	met  bool
	keys []string
}

func (c *rCtx) rConditionUncached(cond Conditions, h *rHolder, vars, deny bool) (bool, []string) {
	byKey := map[string][]rOpVals{}
	spelled := map[string]string{}
	for _, name := range sortedNames(cond) {
		op, known := parseOperator(name)
		if !known {
			return false, nil
		}
		for _, k := range sortedNames(cond[name]) {
			lk := strings.ToLower(k)
			if _, ok := spelled[lk]; !ok {
				spelled[lk] = k
			}
			byKey[lk] = append(byKey[lk], rOpVals{name: name, op: op, vals: cond[name][k]})
		}
	}
	lookup := func(name string) (string, bool) {
		lk := strings.ToLower(name)
		v, ok := h.fixed[lk]
		if !ok {
			v, ok = c.env[lk]
		}
		if !ok || len(v) != 1 {
			return "", false
		}
		return v[0], true
	}
	keys := sortedNames(byKey)
	for _, lk := range keys {
		ops := byKey[lk]
		// A value naming a variable the requester chooses is met by an
		// Allow's attacker and cannot be relied on in a Deny.
		freeVar := false
		for _, o := range ops {
			for _, v := range o.vals {
				freeVar = freeVar || (vars && c.rHasFreeVar(v, h))
			}
		}
		if freeVar {
			if deny {
				return false, nil
			}
			continue
		}
		holds := func(cd rCand) bool {
			for _, o := range ops {
				if !o.op.evalKey(cd.vals, len(cd.vals) > 0, o.vals, vars, lookup, func(string) {}) {
					return false
				}
			}
			return true
		}
		groups := c.rGroups(lk, ops, h)
		met := false
		if deny {
			met = true
			for _, g := range groups {
				for _, cd := range g {
					met = met && holds(cd)
				}
			}
		} else {
			for _, g := range groups {
				all := true
				for _, cd := range g {
					if !holds(cd) {
						all = false
						break
					}
				}
				if all {
					met = true
					break
				}
			}
		}
		if !met {
			return false, nil
		}
	}
	out := make([]string, 0, len(keys))
	for _, lk := range keys {
		out = append(out, spelled[lk])
	}
	sort.Strings(out)
	return true, out
}

// rEpoch renders a time as epoch seconds, as aws:EpochTime carries it.
func rEpoch(n int64) string { return strconv.FormatInt(n, 10) }

// rGlobalKeys are AWS's global condition keys (lower case; those ending in
// "/" are prefixes of tag keys). Any other aws: key is never in a request.
var rGlobalKeys = map[string]bool{
	"aws:calledvia": true, "aws:calledviafirst": true, "aws:calledvialast": true, "aws:currenttime": true,
	"aws:epochtime": true, "aws:federatedprovider": true, "aws:multifactorauthage": true, "aws:multifactorauthpresent": true,
	"aws:principalaccount": true, "aws:principalarn": true, "aws:principalisawsservice": true, "aws:principalorgid": true,
	"aws:principalorgpaths": true, "aws:principalservicename": true, "aws:principalservicenameslist": true,
	"aws:principaltype": true, "aws:referer": true, "aws:requestedregion": true, "aws:resourceaccount": true,
	"aws:resourceorgid": true, "aws:resourceorgpaths": true, "aws:securetransport": true, "aws:sourceaccount": true,
	"aws:sourcearn": true, "aws:sourceidentity": true, "aws:sourceip": true, "aws:sourceorgid": true,
	"aws:sourceorgpaths": true, "aws:sourcevpc": true, "aws:sourcevpcarn": true, "aws:sourcevpce": true,
	"aws:tagkeys": true, "aws:tokenissuetime": true, "aws:useragent": true, "aws:userid": true, "aws:username": true,
	"aws:viaawsservice": true, "aws:vpcsourceip": true, "aws:ec2instancesourcevpc": true,
	"aws:ec2instancesourceprivateipv4": true, "aws:vpceaccount": true, "aws:vpceorgid": true, "aws:vpceorgpaths": true,
	"aws:principaltag/": true, "aws:requesttag/": true, "aws:resourcetag/": true,
}

// rMayCarry reports whether a request for action a (nil: not in the
// reference) can carry condition key lk at all. A condition on a key the
// request never carries is decided as for an absent key: IfExists and
// negated operators hold, the others fail. Keys of the resource's tags are
// always possible (the reference lists them by resource type, not action).
func rMayCarry(a *iamdata.ActionInfo, lk string) bool {
	if strings.Contains(lk, "resourcetag/") {
		return true
	}
	tagged := strings.HasPrefix(lk, "aws:requesttag/") || lk == "aws:tagkeys"
	if strings.HasPrefix(lk, "aws:") && !tagged {
		if rGlobalKeys[lk] {
			return true
		}
		i := strings.IndexByte(lk, '/')
		return i > 0 && rGlobalKeys[lk[:i+1]]
	}
	if a == nil {
		return true
	}
	for _, k := range a.ConditionKeys {
		kl := strings.ToLower(k)
		if i := strings.Index(kl, "${"); i >= 0 {
			if strings.HasPrefix(lk, kl[:i]) {
				return true
			}
		} else if kl == lk {
			return true
		}
	}
	return false
}

// rVarFree are keys whose value the requester writes itself, so that a
// policy variable of one (${aws:UserAgent}) is whatever the attacker wants:
// in a Resource it matches anything.
var rVarFree = map[string]bool{
	"aws:useragent": true, "aws:referer": true, "aws:requestedregion": true, "aws:tagkeys": true,
	"sts:externalid": true, "sts:rolesessionname": true, "sts:sourceidentity": true, "aws:sourceidentity": true,
	"sts:transitivetagkeys": true,
}

// rIsVarFree reports whether a variable name is chosen by the requester.
func (c *rCtx) rIsVarFree(name string, h *rHolder) bool {
	lk := strings.ToLower(strings.TrimSpace(name))
	if rVarFree[lk] || strings.HasPrefix(lk, "aws:requesttag/") || h.free[lk] {
		return true
	}
	return c.trust && strings.HasPrefix(lk, "aws:principaltag/")
}

// rHasFreeVar reports whether a policy string holds a variable the
// requester chooses.
func (c *rCtx) rHasFreeVar(s string, h *rHolder) bool {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return false
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return false
		}
		name, _, _ := splitVariable(s[i+2 : i+j])
		if c.rIsVarFree(name, h) {
			return true
		}
		s = s[i+j+1:]
	}
}

// rFreeVarsAs replaces the requester-chosen variables of a policy string
// with with: "*" where the attacker wants the pattern to match anything, a
// random name where it wants it to match nothing.
func (c *rCtx) rFreeVarsAs(s, with string, h *rHolder) string {
	return replaceVariables(s, func(body string) (string, bool) {
		name, _, _ := splitVariable(body)
		return with, c.rIsVarFree(name, h)
	})
}
