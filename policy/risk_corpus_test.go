package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The guardrail attack corpus: risky documents in many spellings, each with
// a witness request our own evaluator allows (the criterion: the
// simulator says the document allows what the guardrail exists to stop),
// and benign near-misses that must pass. It is generated here and committed
// as testdata/guardrail_corpus.json, so that the catalogue's tests
// (host/catalogue, through the real write tools on the sandbox) and the e2e
// tests (through the binary) run the very same cases. Regenerate with
//
//	go test ./policy -run TestGuardrailCorpusFile -update-corpus

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/guardrail_corpus.json from the generator")

const corpusFile = "testdata/guardrail_corpus.json"

// Accounts and the clock of the corpus's witnesses.
const (
	gAcct  = "123456789012" // the account the policies live in (the sandbox's)
	gOther = "210987654321" // a named other account
	gEvil  = "444455556666" // an attacker's account
	gNow   = "2026-06-01T12:00:00Z"
)

// gCase is one corpus entry.
type gCase struct {
	Name    string          `json:"name"`
	Type    string          `json:"type"` // IDENTITY_POLICY or TRUST_POLICY
	Risky   bool            `json:"risky"`
	Doc     json.RawMessage `json:"doc"`
	Witness *gWitness       `json:"witness,omitempty"`
}

// gWitness is a request the evaluator allows for a risky document: for an
// identity policy, Caller's request with the document as its policy; for a
// trust policy, Caller's sts:Assume* on the role, with the document as the
// role's trust policy (and, for an AWS principal, an identity policy of its
// own that allows everything). Federated marks a web identity caller (a
// provider, not an IAM ARN).
type gWitness struct {
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Caller    string              `json:"caller"`
	Context   map[string][]string `json:"context,omitempty"`
	Federated bool                `json:"federated,omitempty"`
}

type gCond struct {
	name string
	cond map[string]any
	ctx  map[string][]string
}

func gm(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func gCtx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func gMerge(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// gAlwaysTrue are conditions a request of the attacker always meets, with
// the context the witness request carries for them.
var gAlwaysTrue = []gCond{
	{"DateGreaterThan CurrentTime 2000", gm("DateGreaterThan", gm("aws:CurrentTime", "2000-01-01T00:00:00Z")), gCtx("aws:CurrentTime", gNow)},
	{"DateLessThan CurrentTime 2999", gm("DateLessThan", gm("aws:CurrentTime", "2999-01-01T00:00:00Z")), gCtx("aws:CurrentTime", gNow)},
	{"DateGreaterThanEquals CurrentTime date only", gm("DateGreaterThanEquals", gm("aws:CurrentTime", "2000-01-01")), gCtx("aws:CurrentTime", gNow)},
	{"mixed-case key", gm("DateGreaterThan", gm("AWS:currenttime", "2000-01-01T00:00:00Z")), gCtx("aws:CurrentTime", gNow)},
	{"NumericGreaterThan EpochTime 0", gm("NumericGreaterThan", gm("aws:EpochTime", "0")), gCtx("aws:EpochTime", "1780315200")},
	{"NumericGreaterThanEquals EpochTime 2000", gm("NumericGreaterThanEquals", gm("aws:EpochTime", 946684800)), gCtx("aws:EpochTime", "1780315200")},
	{"StringLike PrincipalArn *", gm("StringLike", gm("aws:PrincipalArn", "*")), nil},
	{"StringLike PrincipalArn arn:aws:iam::*", gm("StringLike", gm("aws:PrincipalArn", "arn:aws:iam::*")), nil},
	{"ArnLike PrincipalArn own account", gm("ArnLike", gm("aws:PrincipalArn", "arn:aws:iam::"+gAcct+":*")), nil},
	{"StringEquals PrincipalAccount own", gm("StringEquals", gm("aws:PrincipalAccount", gAcct)), nil},
	{"StringEquals PrincipalAccount variable", gm("StringEquals", gm("aws:PrincipalAccount", "${aws:PrincipalAccount}")), nil},
	{"ForAnyValue StringLike PrincipalArn *", gm("ForAnyValue:StringLike", gm("aws:PrincipalArn", "*")), nil},
	{"StringEqualsIgnoreCase PrincipalType", gm("StringEqualsIgnoreCase", gm("aws:PrincipalType", []any{"user", "assumedrole"})), nil},
	{"Bool SecureTransport true", gm("Bool", gm("aws:SecureTransport", true)), gCtx("aws:SecureTransport", "true")},
	{"IpAddress SourceIp 0.0.0.0/0 and ::/0", gm("IpAddress", gm("aws:SourceIp", []any{"0.0.0.0/0", "::/0"})), gCtx("aws:SourceIp", "203.0.113.9")},
	{"IpAddress SourceIp two halves", gm("IpAddress", gm("aws:SourceIp", []any{"0.0.0.0/1", "128.0.0.0/1"})), gCtx("aws:SourceIp", "203.0.113.9")},
	{"NotIpAddress SourceIp private", gm("NotIpAddress", gm("aws:SourceIp", "10.0.0.0/8")), gCtx("aws:SourceIp", "203.0.113.9")},
	{"StringNotEquals PrincipalOrgID other", gm("StringNotEquals", gm("aws:PrincipalOrgID", "o-excluded0000")), nil},
	{"StringEqualsIfExists PrincipalOrgID", gm("StringEqualsIfExists", gm("aws:PrincipalOrgID", "o-abc1234567")), nil},
	{"BoolIfExists MFA true", gm("BoolIfExists", gm("aws:MultiFactorAuthPresent", "true")), nil},
	{"NumericLessThanIfExists MFA age", gm("NumericLessThanIfExists", gm("aws:MultiFactorAuthAge", "3600")), nil},
	{"ForAllValues TagKeys", gm("ForAllValues:StringEquals", gm("aws:TagKeys", []any{"Project"})), nil},
	{"Null CurrentTime false", gm("Null", gm("aws:CurrentTime", "false")), gCtx("aws:CurrentTime", gNow)},
	{"Null ExternalId true", gm("Null", gm("sts:ExternalId", true)), nil},
	{"ArnNotEquals SourceArn", gm("ArnNotEquals", gm("aws:SourceArn", "arn:aws:s3:::some-bucket")), nil},
	{"StringEqualsIfExists SourceVpce", gm("StringEqualsIfExists", gm("aws:SourceVpce", "vpce-1a2b3c4d")), nil},
	{"StringLikeIfExists ResourceTag", gm("StringLikeIfExists", gm("aws:ResourceTag/team", "*")), nil},
	{"StringNotEqualsIfExists PrincipalTag", gm("StringNotEqualsIfExists", gm("aws:PrincipalTag/department", "none")), nil},
	{"StringEquals RequestedRegion", gm("StringEquals", gm("aws:RequestedRegion", "us-east-1")), gCtx("aws:RequestedRegion", "us-east-1")},
	{"StringLike UserAgent *", gm("StringLike", gm("aws:UserAgent", "*")), gCtx("aws:UserAgent", "aws-cli/2")},
	{"IfExists on a key IAM requests never carry", gm("StringEqualsIfExists", gm("s3:prefix", "home/")), nil},
	{"IfExists on a key no request carries", gm("StringEqualsIfExists", gm("aws:NoSuchKey", "x")), nil},
	{"negated operator on a key IAM requests never carry", gm("StringNotEquals", gm("ec2:InstanceType", "t3.nano")), nil},
	{"StringLike userid *", gm("StringLike", gm("aws:userid", "*")), gCtx("aws:userid", "AIDAEXAMPLE")},
	{"ResourceAccount is the caller's", gm("StringEquals", gm("aws:ResourceAccount", "${aws:PrincipalAccount}")), gCtx("aws:ResourceAccount", gAcct)},
	{"ResourceAccount is not some other", gm("StringNotEquals", gm("aws:ResourceAccount", gOther)), gCtx("aws:ResourceAccount", gAcct)},
	{"two operators, both always true", gm("DateGreaterThan", gm("aws:CurrentTime", "2000-01-01T00:00:00Z"), "StringLike", gm("aws:PrincipalArn", "*")), gCtx("aws:CurrentTime", gNow)},
}

// gTrustAlwaysTrue are conditions any outsider meets when assuming a role.
var gTrustAlwaysTrue = []gCond{
	gAlwaysTrue[0], gAlwaysTrue[6], gAlwaysTrue[7], gAlwaysTrue[14], gAlwaysTrue[17], gAlwaysTrue[18], gAlwaysTrue[25],
	{"StringLike ExternalId *", gm("StringLike", gm("sts:ExternalId", "*")), gCtx("sts:ExternalId", "anything")},
	{"StringLike ExternalId guessable", gm("StringLike", gm("sts:ExternalId", "*0")), gCtx("sts:ExternalId", "10")},
	{"StringEquals RoleSessionName", gm("StringEquals", gm("sts:RoleSessionName", "deploy")), gCtx("sts:RoleSessionName", "deploy")},
	{"StringEquals caller's own tag", gm("StringEquals", gm("aws:PrincipalTag/team", "ops")), gCtx("aws:PrincipalTag/team", "ops")},
	{"StringLike PrincipalAccount *", gm("StringLike", gm("aws:PrincipalAccount", "*")), nil},
}

// gTrustAnyoneOnly are conditions a caller of any account meets by naming
// its own principals (so only for Principal "*": a named account's
// principals are named by that account's administrators).
var gTrustAnyoneOnly = []gCond{
	{"PrincipalArn ending in a name", gm("StringLike", gm("aws:PrincipalArn", "*deployer")), nil},
	{"PrincipalArn of a role name in any account", gm("ArnLike", gm("aws:PrincipalArn", "arn:aws:iam::*:role/ci-*")), nil},
	{"username pattern", gm("StringLike", gm("aws:username", "admin*")), nil},
}

func gDoc(stmts ...map[string]any) json.RawMessage {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return b
}

func gAllow(action, resource any, cond map[string]any) map[string]any {
	st := gm("Effect", "Allow", "Action", action, "Resource", resource)
	if cond != nil {
		st["Condition"] = cond
	}
	return st
}

const (
	gUser   = "arn:aws:iam::" + gAcct + ":user/alice"
	gVictim = "arn:aws:iam::" + gAcct + ":user/victim"
)

// generateCorpus builds the corpus. Every document is one IAM accepts.
func generateCorpus() []gCase {
	var out []gCase
	add := func(name, typ string, risky bool, doc json.RawMessage, w *gWitness) {
		out = append(out, gCase{Name: name, Type: typ, Risky: risky, Doc: doc, Witness: w})
	}
	id := func(name string, doc json.RawMessage, action, resource string, ctx map[string][]string) {
		add(name, "IDENTITY_POLICY", true, doc, &gWitness{Action: action, Resource: resource, Caller: gUser, Context: ctx})
	}

	// 1. Admin: the action spelled every way, on resources spelled every way.
	adminActions := []any{"*", "iam:*", "IAM:*", "Iam:*", "iam:*?", "iam:?*", []any{"s3:GetObject", "iam:*"}, []any{"iam:A*", "iam:*"}}
	adminResources := []any{"*", "arn:aws:*:*:*:*", "arn:*:*:*:*:*", "arn:aws:iam::*:*", "arn:aws:iam::" + gAcct + ":*", "arn:*:iam::*:*", "arn:aws:iam::????????????:*", []any{"arn:aws:s3:::x", "arn:aws:iam::*:*"}}
	for _, a := range adminActions {
		for _, r := range adminResources {
			id(fmt.Sprintf("admin: Action %v on %v", a, r), gDoc(gAllow(a, r, nil)), "iam:AttachUserPolicy", gUser, nil)
		}
	}
	// NotAction that leaves IAM open, on every resource.
	for _, na := range []any{"s3:*", []any{"ec2:*", "s3:*"}, "iam:GetUser", []any{"iam:Delete*", "iam:Create*"}, "sts:*", "organizations:*"} {
		for _, r := range []any{"*", "arn:aws:iam::*:*"} {
			id(fmt.Sprintf("admin: NotAction %v on %v", na, r), gDoc(gm("Effect", "Allow", "NotAction", na, "Resource", r)), "iam:AttachUserPolicy", gUser, nil)
		}
	}
	// NotResource that leaves IAM open.
	for _, nr := range []any{"arn:aws:s3:::secret/*", "arn:aws:iam::*:user/break-glass"} {
		id(fmt.Sprintf("admin: NotResource %v", nr), gDoc(gm("Effect", "Allow", "Action", "*", "NotResource", nr)), "iam:AttachUserPolicy", gUser, nil)
	}
	// 2. Always-true conditions on admin grants.
	for _, c := range gAlwaysTrue {
		id("admin with always-true condition: "+c.name, gDoc(gAllow("*", "*", c.cond)), "iam:AttachUserPolicy", gUser, c.ctx)
	}
	for _, c := range gAlwaysTrue[:12] {
		id("iam:* on arn:aws:iam::*:* with always-true condition: "+c.name, gDoc(gAllow("iam:*", "arn:aws:iam::*:*", c.cond)), "iam:AttachUserPolicy", gUser, c.ctx)
	}
	// 3. Deny statements that only look like they restrict.
	decoys := []struct {
		name string
		deny map[string]any
		ctx  map[string][]string
	}{
		{"deny unless MFA false (long-term keys carry no MFA key)", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("Bool", gm("aws:MultiFactorAuthPresent", "false"))), nil},
		{"deny on one user", gm("Effect", "Deny", "Action", "iam:*", "Resource", "arn:aws:iam::*:user/root"), nil},
		{"deny with NotResource *", gm("Effect", "Deny", "Action", "iam:*", "NotResource", "*"), nil},
		{"deny for tagged principals", gm("Effect", "Deny", "Action", "*", "Resource", "*", "Condition", gm("StringEquals", gm("aws:PrincipalTag/blocked", "true"))), nil},
		{"deny of deletes only", gm("Effect", "Deny", "Action", "iam:Delete*", "Resource", "*"), nil},
		{"deny outside a region the caller chooses", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("StringNotEquals", gm("aws:RequestedRegion", "us-east-1"))), gCtx("aws:RequestedRegion", "us-east-1")},
		{"deny that expired", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("DateLessThan", gm("aws:CurrentTime", "2001-01-01T00:00:00Z"))), gCtx("aws:CurrentTime", gNow)},
		{"deny from the internal network only", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("IpAddress", gm("aws:SourceIp", "10.0.0.0/8"))), gCtx("aws:SourceIp", "203.0.113.9")},
		{"deny through AWS services only", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("Bool", gm("aws:ViaAWSService", "true"))), nil},
		{"deny NotAction iam:*", gm("Effect", "Deny", "NotAction", "iam:*", "Resource", "*"), nil},
		{"deny on roles only", gm("Effect", "Deny", "Action", "iam:*", "Resource", "arn:aws:iam::*:role/*"), nil},
		{"deny with an unknown-to-the-caller condition key", gm("Effect", "Deny", "Action", "iam:*", "Resource", "*", "Condition", gm("StringEquals", gm("aws:ResourceTag/protected", "true"))), nil},
	}
	for _, d := range decoys {
		id("admin with a decoy Deny: "+d.name, gDoc(gAllow("*", "*", nil), d.deny), "iam:AttachUserPolicy", gUser, d.ctx)
	}
	// 4. Statements harmless (or narrow) alone that together grant it.
	var byChar, byAction []map[string]any
	for _, ch := range "abcdefghijklmnopqrstuvwxyz" {
		byAction = append(byAction, gAllow("iam:"+strings.ToUpper(string(ch))+"*", "*", nil))
	}
	for _, ch := range "abcdefghijklmnopqrstuvwxyz0123456789" {
		byChar = append(byChar, gAllow("iam:CreatePolicyVersion", "arn:aws:iam::"+gAcct+":policy/"+string(ch)+"*", nil))
	}
	id("together: iam:* split over actions by first letter", gDoc(byAction...), "iam:AttachUserPolicy", gUser, nil)
	id("together: CreatePolicyVersion split over policy names by first character", gDoc(byChar...), "iam:CreatePolicyVersion", "arn:aws:iam::"+gAcct+":policy/admin-access", nil)
	id("together: users and roles and groups and policies", gDoc(
		gAllow("iam:*", "arn:aws:iam::*:user/*", nil), gAllow("iam:*", "arn:aws:iam::*:role/*", nil),
		gAllow("iam:*", "arn:aws:iam::*:group/*", nil), gAllow("iam:*", "arn:aws:iam::*:policy/*", nil)), "iam:AttachUserPolicy", gUser, nil)

	// 5. Escalation actions, each spelled many ways.
	type esc struct {
		action, kind string
		self         bool
	}
	escs := []esc{
		{"iam:PassRole", "role", false}, {"iam:CreateAccessKey", "user", false}, {"iam:CreateLoginProfile", "user", false},
		{"iam:UpdateLoginProfile", "user", false}, {"iam:AttachUserPolicy", "user", true}, {"iam:PutUserPolicy", "user", true},
		{"iam:AttachRolePolicy", "role", false}, {"iam:PutRolePolicy", "role", false}, {"iam:AttachGroupPolicy", "group", false},
		{"iam:PutGroupPolicy", "group", false}, {"iam:CreatePolicyVersion", "policy", false}, {"iam:SetDefaultPolicyVersion", "policy", false},
		{"iam:UpdateAssumeRolePolicy", "role", false}, {"iam:AddUserToGroup", "group", false},
		{"iam:DeleteUserPermissionsBoundary", "user", true}, {"iam:DeleteRolePermissionsBoundary", "role", false},
		{"iam:PutUserPermissionsBoundary", "user", true}, {"iam:PutRolePermissionsBoundary", "role", false}, {"sts:AssumeRole", "role", false},
	}
	for i, e := range escs {
		svc, name, _ := strings.Cut(e.action, ":")
		victim := "arn:aws:iam::" + gAcct + ":" + e.kind + "/victim"
		spellings := []any{
			e.action, strings.ToLower(e.action), strings.ToUpper(svc) + ":" + name,
			svc + ":" + name[:4] + "*" + name[len(name)-3:], svc + ":" + name[:len(name)-1] + "?", svc + ":*" + name[3:],
			[]any{"s3:ListAllMyBuckets", e.action},
		}
		for _, a := range spellings {
			id(fmt.Sprintf("escalation %s spelled %v on *", e.action, a), gDoc(gAllow(a, "*", nil)), e.action, victim, nil)
		}
		resources := []string{"arn:aws:iam::*:" + e.kind + "/*", "arn:aws:iam::" + gAcct + ":" + e.kind + "/*", "arn:*:iam::*:" + e.kind + "/*", "arn:aws:iam::" + gAcct + ":" + e.kind + "/*/*", "arn:aws:iam::" + gAcct + ":" + e.kind + "/?*"}
		for _, r := range resources {
			w := victim
			if strings.HasSuffix(r, "/*/*") {
				w = "arn:aws:iam::" + gAcct + ":" + e.kind + "/team/victim"
			}
			id(fmt.Sprintf("escalation %s on %s", e.action, r), gDoc(gAllow(e.action, r, nil)), e.action, w, nil)
		}
		if e.self {
			id(fmt.Sprintf("escalation %s on the caller itself (user/${aws:username})", e.action),
				gDoc(gAllow(e.action, "arn:aws:iam::"+gAcct+":user/${aws:username}", nil)), e.action, gUser, nil)
			id(fmt.Sprintf("escalation %s on the caller itself, any partition (user/${aws:username})", e.action),
				gDoc(gAllow(e.action, "arn:*:iam::*:user/${aws:username}", nil)), e.action, gUser, nil)
		}
		id(fmt.Sprintf("escalation %s with NotResource", e.action),
			gDoc(gm("Effect", "Allow", "Action", e.action, "NotResource", "arn:aws:iam::*:"+e.kind+"/admin")), e.action, victim, nil)
		for j := 0; j < 3; j++ {
			c := gAlwaysTrue[(i*3+j)%len(gAlwaysTrue)]
			id(fmt.Sprintf("escalation %s with always-true condition: %s", e.action, c.name), gDoc(gAllow(e.action, "*", c.cond)), e.action, victim, c.ctx)
		}
	}
	id("PassRole with a PassedToService condition anyone meets", gDoc(gAllow("iam:PassRole", "*", gm("StringLike", gm("iam:PassedToService", "*")))),
		"iam:PassRole", "arn:aws:iam::"+gAcct+":role/victim", gCtx("iam:PassedToService", "ec2.amazonaws.com"))
	id("PassRole on roles named by the caller's User-Agent", gDoc(gAllow("iam:PassRole", "arn:aws:iam::*:role/${aws:UserAgent}", nil)),
		"iam:PassRole", "arn:aws:iam::"+gAcct+":role/victim", gCtx("aws:UserAgent", "victim"))
	id("CreatePolicyVersion on policies named by the Referer", gDoc(gAllow("iam:CreatePolicyVersion", "arn:aws:iam::"+gAcct+":policy/${aws:Referer}", nil)),
		"iam:CreatePolicyVersion", "arn:aws:iam::"+gAcct+":policy/admin", gCtx("aws:Referer", "admin"))
	id("admin when a tag equals the User-Agent", gDoc(gAllow("*", "*", gm("StringEquals", gm("aws:ResourceTag/owner", "${aws:UserAgent}")))),
		"iam:AttachUserPolicy", gUser, gCtx("aws:ResourceTag/owner", "x", "aws:UserAgent", "x"))
	id("attach any of AWS's managed policies to oneself", gDoc(gAllow("iam:AttachUserPolicy", "arn:aws:iam::"+gAcct+":user/${aws:username}", gm("ArnLike", gm("iam:PolicyARN", "arn:aws:iam::aws:policy/*")))),
		"iam:AttachUserPolicy", gUser, gCtx("iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess"))
	id("attach any of the account's policies to any role", gDoc(gAllow("iam:AttachRolePolicy", "*", gm("ArnLike", gm("iam:PolicyARN", "arn:aws:iam::"+gAcct+":policy/*")))),
		"iam:AttachRolePolicy", "arn:aws:iam::"+gAcct+":role/victim", gCtx("iam:PolicyARN", "arn:aws:iam::"+gAcct+":policy/LegacyAdmin"))
	id("set any boundary on oneself", gDoc(gAllow("iam:PutUserPermissionsBoundary", "arn:aws:iam::"+gAcct+":user/${aws:username}", gm("StringLike", gm("iam:PermissionsBoundary", "*")))),
		"iam:PutUserPermissionsBoundary", gUser, gCtx("iam:PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess"))
	id("PowerUserAccess-like: AssumeRole through NotAction", gDoc(gm("Effect", "Allow", "NotAction", []any{"iam:*", "organizations:*", "account:*"}, "Resource", "*")),
		"sts:AssumeRole", "arn:aws:iam::"+gAcct+":role/victim", nil)

	// 6. Trust policies open to anyone, or to another account, whatever
	// the spelling of the principal and of the conditions.
	trustStmt := func(principal any, cond map[string]any) map[string]any {
		st := gm("Effect", "Allow", "Principal", principal, "Action", "sts:AssumeRole")
		if cond != nil {
			st["Condition"] = cond
		}
		return st
	}
	role := "arn:aws:iam::" + gAcct + ":role/target"
	attacker := "arn:aws:iam::" + gEvil + ":role/attacker"
	tr := func(name string, doc json.RawMessage, caller string, ctx map[string][]string) {
		add(name, "TRUST_POLICY", true, doc, &gWitness{Action: "sts:AssumeRole", Resource: role, Caller: caller, Context: ctx})
	}
	anyone := []any{"*", gm("AWS", "*"), gm("AWS", []any{"*"}), gm("AWS", []any{"arn:aws:iam::" + gAcct + ":root", "*"})}
	for i, p := range anyone {
		tr(fmt.Sprintf("trust anyone %d, no condition", i), gDoc(trustStmt(p, nil)), attacker, nil)
		for _, c := range gTrustAlwaysTrue {
			tr(fmt.Sprintf("trust anyone %d with always-true condition: %s", i, c.name), gDoc(trustStmt(p, c.cond)), attacker, c.ctx)
		}
	}
	for _, c := range gTrustAnyoneOnly {
		caller := map[string]string{"PrincipalArn ending in a name": "arn:aws:iam::" + gEvil + ":role/deployer",
			"PrincipalArn of a role name in any account": "arn:aws:iam::" + gEvil + ":role/ci-x", "username pattern": "arn:aws:iam::" + gEvil + ":user/admin1"}[c.name]
		tr("trust anyone with a condition the attacker meets by naming: "+c.name, gDoc(trustStmt("*", c.cond)), caller, c.ctx)
	}
	others := []struct {
		principal any
		caller    string
	}{
		{gm("AWS", gOther), "arn:aws:iam::" + gOther + ":role/anyone"},
		{gm("AWS", "arn:aws:iam::"+gOther+":root"), "arn:aws:iam::" + gOther + ":user/anyone"},
		{gm("AWS", "arn:aws:iam::"+gOther+":role/partner"), "arn:aws:iam::" + gOther + ":role/partner"},
		{gm("AWS", "arn:aws:iam::"+gOther+":user/bob"), "arn:aws:iam::" + gOther + ":user/bob"},
	}
	for i, o := range others {
		tr(fmt.Sprintf("trust other account %d, no condition", i), gDoc(trustStmt(o.principal, nil)), o.caller, nil)
		for _, c := range gTrustAlwaysTrue {
			tr(fmt.Sprintf("trust other account %d with always-true condition: %s", i, c.name), gDoc(trustStmt(o.principal, c.cond)), o.caller, c.ctx)
		}
	}
	tr("trust anyone, with a Deny that only looks like it restricts", gDoc(trustStmt("*", nil),
		gm("Effect", "Deny", "Principal", "*", "Action", "sts:AssumeRole", "Condition", gm("Bool", gm("aws:MultiFactorAuthPresent", "false")))), attacker, nil)

	// 7. Federated trust without the condition that scopes it.
	const gh = "token.actions.githubusercontent.com"
	ghP := gm("Federated", "arn:aws:iam::"+gAcct+":oidc-provider/"+gh)
	fed := func(name string, principal any, cond map[string]any, caller string, ctx map[string][]string) {
		st := gm("Effect", "Allow", "Principal", principal, "Action", "sts:AssumeRoleWithWebIdentity")
		if cond != nil {
			st["Condition"] = cond
		}
		add(name, "TRUST_POLICY", true, gDoc(st), &gWitness{Action: "sts:AssumeRoleWithWebIdentity", Resource: role, Caller: caller, Context: ctx, Federated: true})
	}
	ghCaller := "arn:aws:iam::" + gAcct + ":oidc-provider/" + gh
	evilSub := func(s string) map[string][]string { return gCtx(gh+":sub", s, gh+":aud", "sts.amazonaws.com") }
	fed("GitHub OIDC, no condition", ghP, nil, ghCaller, evilSub("repo:evil/x:ref:refs/heads/main"))
	fed("GitHub OIDC, aud only", ghP, gm("StringEquals", gm(gh+":aud", "sts.amazonaws.com")), ghCaller, evilSub("repo:evil/x:ref:refs/heads/main"))
	for _, sub := range []string{"*", "repo:*", "repo:*/*", "repo:*/app:*", "*:ref:refs/heads/main", "repo:octo-org*", "repo:*:environment:production", "*octo-org/app*"} {
		w := map[string]string{"repo:octo-org*": "repo:octo-org-evil/x:ref:refs/heads/main", "repo:*/app:*": "repo:evil/app:ref:refs/heads/main",
			"repo:*:environment:production": "repo:evil/x:environment:production", "*octo-org/app*": "repo:evil/x:ref:refs/heads/octo-org/app"}[sub]
		if w == "" {
			w = "repo:evil/x:ref:refs/heads/main"
		}
		fed("GitHub OIDC, aud and sub "+sub, ghP, gm("StringEquals", gm(gh+":aud", "sts.amazonaws.com"), "StringLike", gm(gh+":sub", sub)), ghCaller, evilSub(w))
	}
	fed("GitHub OIDC, sub list with a wildcard", ghP, gm("StringLike", gm(gh+":sub", []any{"repo:octo-org/app:ref:refs/heads/main", "repo:*"})), ghCaller, evilSub("repo:evil/x:ref:refs/heads/main"))
	fed("GitHub OIDC, sub with an always-true IfExists", ghP, gm("StringEqualsIfExists", gm(gh+":actor", "octocat"), "StringEquals", gm(gh+":aud", "sts.amazonaws.com")), ghCaller, evilSub("repo:evil/x:ref:refs/heads/main"))
	fed("GitLab OIDC, no sub", gm("Federated", "arn:aws:iam::"+gAcct+":oidc-provider/gitlab.com"), gm("StringEquals", gm("gitlab.com:aud", "https://gitlab.com")),
		"arn:aws:iam::"+gAcct+":oidc-provider/gitlab.com", gCtx("gitlab.com:sub", "project_path:evil/x:ref_type:branch:ref:main", "gitlab.com:aud", "https://gitlab.com"))
	fed("Terraform Cloud OIDC, sub any organisation", gm("Federated", "arn:aws:iam::"+gAcct+":oidc-provider/app.terraform.io"), gm("StringLike", gm("app.terraform.io:sub", "organization:*")),
		"arn:aws:iam::"+gAcct+":oidc-provider/app.terraform.io", gCtx("app.terraform.io:sub", "organization:evil:project:p:workspace:w:run_phase:apply"))
	const cog = "cognito-identity.amazonaws.com"
	cogP := gm("Federated", cog)
	fed("Cognito, no condition", cogP, nil, cog, gCtx(cog+":aud", "us-east-1:evil-pool", cog+":amr", "authenticated"))
	fed("Cognito, aud only (guests of the pool)", cogP, gm("StringEquals", gm(cog+":aud", "us-east-1:12345678-1234-1234-1234-123456789012")), cog,
		gCtx(cog+":aud", "us-east-1:12345678-1234-1234-1234-123456789012", cog+":amr", "unauthenticated"))
	fed("Cognito, any pool, authenticated", cogP, gm("StringLike", gm(cog+":aud", "*"), "ForAnyValue:StringLike", gm(cog+":amr", "authenticated")), cog,
		gCtx(cog+":aud", "us-east-1:evil-pool", cog+":amr", "authenticated"))
	fed("Cognito, amr only", cogP, gm("ForAnyValue:StringLike", gm(cog+":amr", "authenticated")), cog, gCtx(cog+":aud", "us-east-1:evil-pool", cog+":amr", "authenticated"))
	fed("Google, no aud", gm("Federated", "accounts.google.com"), nil, "accounts.google.com", gCtx("accounts.google.com:aud", "evil-app"))
	fed("Google, any aud", gm("Federated", "accounts.google.com"), gm("StringLike", gm("accounts.google.com:aud", "*.apps.googleusercontent.com")), "accounts.google.com", gCtx("accounts.google.com:aud", "evil.apps.googleusercontent.com"))

	// 8. Attacks on the rule itself, found while writing it.
	id("a Deny that denies nothing (NotAction *)", gDoc(gAllow("*", "*", nil), gm("Effect", "Deny", "NotAction", "*", "Resource", "*")), "iam:AttachUserPolicy", gUser, nil)
	id("NotIpAddress of half the internet", gDoc(gAllow("*", "*", gm("NotIpAddress", gm("aws:SourceIp", "0.0.0.0/1")))), "iam:AttachUserPolicy", gUser, gCtx("aws:SourceIp", "203.0.113.9"))
	id("username equals itself", gDoc(gAllow("*", "*", gm("StringEqualsIgnoreCase", gm("aws:username", "${aws:username}")))), "iam:AttachUserPolicy", gUser, nil)
	id("now is not a day in 2001", gDoc(gAllow("*", "*", gm("DateNotEquals", gm("aws:CurrentTime", "2001-01-01T00:00:00Z")))), "iam:AttachUserPolicy", gUser, gCtx("aws:CurrentTime", gNow))
	id("anyone but the Admin roles", gDoc(gAllow("*", "*", gm("StringNotLike", gm("aws:PrincipalArn", "arn:aws:iam::*:role/Admin*")))), "iam:AttachUserPolicy", gUser, nil)
	id("PassRole to any AWS service", gDoc(gAllow("iam:PassRole", "arn:aws:iam::*:role/*", gm("StringLike", gm("iam:PassedToService", []any{"*.amazonaws.com"})))),
		"iam:PassRole", "arn:aws:iam::"+gAcct+":role/victim", gCtx("iam:PassedToService", "ec2.amazonaws.com"))
	id("PassRole to every service but one", gDoc(gAllow("iam:PassRole", "arn:aws:iam::*:role/*", gm("StringNotEquals", gm("iam:PassedToService", "lambda.amazonaws.com")))),
		"iam:PassRole", "arn:aws:iam::"+gAcct+":role/victim", gCtx("iam:PassedToService", "ec2.amazonaws.com"))
	id("AssumeRole on every role not tagged admin", gDoc(gAllow("sts:AssumeRole", "*", gm("StringNotEquals", gm("aws:ResourceTag/tier", "admin")))),
		"sts:AssumeRole", "arn:aws:iam::"+gAcct+":role/victim", nil)
	tr("trust anyone in any organisation", gDoc(trustStmt(gm("AWS", "*"), gm("StringLike", gm("aws:PrincipalOrgID", "o-*")))), attacker, gCtx("aws:PrincipalOrgID", "o-evil123456"))
	tr("trust anyone in the organisation, if they have one", gDoc(trustStmt(gm("AWS", "*"), gm("StringEqualsIfExists", gm("aws:PrincipalOrgID", "o-abc1234567")))), attacker, nil)
	tr("trust every account but one", gDoc(trustStmt(gm("AWS", "*"), gm("StringNotEquals", gm("aws:PrincipalAccount", "999999999999")))), attacker, nil)
	tr("trust anyone with MFA (on their own account)", gDoc(trustStmt(gm("AWS", "*"), gm("Bool", gm("aws:MultiFactorAuthPresent", "true")))), attacker, gCtx("aws:MultiFactorAuthPresent", "true"))
	fed("GitHub OIDC, every repository but one", ghP, gm("StringNotLike", gm(gh+":sub", "repo:octo-org/secret:*")), ghCaller, evilSub("repo:evil/x:ref:refs/heads/main"))

	// 9. Benign near-misses: they must pass.
	ok := func(name, typ string, doc json.RawMessage) { add(name, typ, false, doc, nil) }
	admin := gAllow("*", "*", nil)
	ok("PassRole to one role", "IDENTITY_POLICY", gDoc(gAllow("iam:PassRole", "arn:aws:iam::"+gAcct+":role/app", nil)))
	ok("PassRole to any role, only to EC2", "IDENTITY_POLICY", gDoc(gAllow("iam:PassRole", "arn:aws:iam::"+gAcct+":role/*", gm("StringEquals", gm("iam:PassedToService", "ec2.amazonaws.com")))))
	ok("iam:Get* and iam:List*", "IDENTITY_POLICY", gDoc(gAllow([]any{"iam:Get*", "iam:List*"}, "*", nil)))
	ok("s3 full access on one bucket", "IDENTITY_POLICY", gDoc(gAllow("s3:*", []any{"arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"}, nil)))
	ok("read-only across services", "IDENTITY_POLICY", gDoc(gAllow([]any{"s3:Get*", "s3:List*", "ec2:Describe*", "iam:Get*", "iam:List*", "cloudwatch:*", "logs:Get*"}, "*", nil)))
	ok("own access keys", "IDENTITY_POLICY", gDoc(gAllow([]any{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey", "iam:ChangePassword"}, "arn:aws:iam::"+gAcct+":user/${aws:username}", nil)))
	ok("AssumeRole on one role", "IDENTITY_POLICY", gDoc(gAllow("sts:AssumeRole", "arn:aws:iam::"+gAcct+":role/deploy", nil)))
	ok("AssumeRole on roles tagged for the team", "IDENTITY_POLICY", gDoc(gAllow("sts:AssumeRole", "*", gm("StringEquals", gm("aws:ResourceTag/team", "data")))))
	ok("AssumeRole into one partner account's roles", "IDENTITY_POLICY", gDoc(gAllow("sts:AssumeRole", "arn:aws:iam::"+gOther+":role/*", nil)))
	ok("admin only with MFA", "IDENTITY_POLICY", gDoc(gAllow("*", "*", gm("Bool", gm("aws:MultiFactorAuthPresent", "true")))))
	ok("admin only inside the organisation", "IDENTITY_POLICY", gDoc(gAllow("*", "*", gm("StringEquals", gm("aws:PrincipalOrgID", "o-abc1234567")))))
	ok("admin only from the office", "IDENTITY_POLICY", gDoc(gAllow("*", "*", gm("IpAddress", gm("aws:SourceIp", "203.0.113.0/24")))))
	ok("admin that expired", "IDENTITY_POLICY", gDoc(gAllow("*", "*", gm("DateLessThan", gm("aws:CurrentTime", "2001-01-01T00:00:00Z")))))
	ok("admin for one named principal", "IDENTITY_POLICY", gDoc(gAllow("*", "*", gm("ArnEquals", gm("aws:PrincipalArn", "arn:aws:iam::"+gAcct+":role/BreakGlass")))))
	ok("admin minus IAM and STS", "IDENTITY_POLICY", gDoc(admin, gm("Effect", "Deny", "Action", []any{"iam:*", "sts:*"}, "Resource", "*")))
	ok("attach only ReadOnlyAccess", "IDENTITY_POLICY", gDoc(gAllow("iam:AttachUserPolicy", "*", gm("ArnEquals", gm("iam:PolicyARN", "arn:aws:iam::aws:policy/ReadOnlyAccess")))))
	ok("policy versions of one team's path", "IDENTITY_POLICY", gDoc(gAllow("iam:CreatePolicyVersion", "arn:aws:iam::"+gAcct+":policy/team-data/*", nil)))
	ok("keys for users the caller owns by tag", "IDENTITY_POLICY", gDoc(gAllow("iam:CreateAccessKey", "*", gm("StringEquals", gm("aws:ResourceTag/owner", "${aws:username}")))))
	ok("compute and data, no IAM", "IDENTITY_POLICY", gDoc(gAllow([]any{"ec2:*", "lambda:*", "dynamodb:*", "kms:Decrypt", "secretsmanager:GetSecretValue"}, "*", nil)))
	ok("boundary writes only with the approved boundary", "IDENTITY_POLICY", gDoc(gAllow("iam:PutUserPermissionsBoundary", "arn:aws:iam::"+gAcct+":user/*", gm("ArnEquals", gm("iam:PermissionsBoundary", "arn:aws:iam::"+gAcct+":policy/DeveloperBoundary")))))
	ok("groups of one path", "IDENTITY_POLICY", gDoc(gAllow("iam:AddUserToGroup", "arn:aws:iam::"+gAcct+":group/projects/alpha-*", nil)))
	ok("iam:* with a Deny on everything IAM", "IDENTITY_POLICY", gDoc(gAllow("iam:*", "*", nil), gm("Effect", "Deny", "Action", "iam:*", "Resource", "*")))

	svc := func(name string, principal any, action string, cond map[string]any) {
		st := gm("Effect", "Allow", "Principal", principal, "Action", action)
		if cond != nil {
			st["Condition"] = cond
		}
		ok(name, "TRUST_POLICY", gDoc(st))
	}
	svc("trust a service", gm("Service", "lambda.amazonaws.com"), "sts:AssumeRole", nil)
	svc("trust the own account", gm("AWS", "arn:aws:iam::"+gAcct+":root"), "sts:AssumeRole", nil)
	svc("trust a partner with an external id", gm("AWS", "arn:aws:iam::"+gOther+":root"), "sts:AssumeRole", gm("StringEquals", gm("sts:ExternalId", "vendor-7f3a9c")))
	svc("trust anyone in the organisation", "*", "sts:AssumeRole", gm("StringEquals", gm("aws:PrincipalOrgID", "o-abc1234567")))
	svc("trust anyone of the own account", gm("AWS", "*"), "sts:AssumeRole", gm("StringEquals", gm("aws:PrincipalAccount", gAcct)))
	svc("trust a partner with an external id pattern that keeps its secret", gm("AWS", "arn:aws:iam::"+gOther+":root"), "sts:AssumeRole", gm("StringLike", gm("sts:ExternalId", "vendor-7f3a9c-*")))
	svc("trust a partner's principals with MFA", gm("AWS", "arn:aws:iam::"+gOther+":root"), "sts:AssumeRole", gm("Bool", gm("aws:MultiFactorAuthPresent", "true"), "StringEquals", gm("sts:ExternalId", "x-2")))
	ok("PassRole to two named services", "IDENTITY_POLICY", gDoc(gAllow("iam:PassRole", "arn:aws:iam::"+gAcct+":role/*", gm("StringEquals", gm("iam:PassedToService", []any{"ec2.amazonaws.com", "lambda.amazonaws.com"})))))
	ok("attach ReadOnlyAccess to the app roles", "IDENTITY_POLICY", gDoc(gAllow("iam:AttachRolePolicy", "arn:aws:iam::"+gAcct+":role/app-*", gm("ArnEquals", gm("iam:PolicyARN", "arn:aws:iam::aws:policy/ReadOnlyAccess")))))
	svc("trust one role of a partner, with an external id", gm("AWS", "arn:aws:iam::"+gOther+":root"), "sts:AssumeRole",
		gm("ArnEquals", gm("aws:PrincipalArn", "arn:aws:iam::"+gOther+":role/deployer"), "StringEquals", gm("sts:ExternalId", "x-1")))
	svc("GitHub OIDC pinned to a repository and branch", ghP, "sts:AssumeRoleWithWebIdentity",
		gm("StringEquals", gm(gh+":aud", "sts.amazonaws.com", gh+":sub", "repo:octo-org/app:ref:refs/heads/main")))
	svc("GitHub OIDC pinned to a repository", ghP, "sts:AssumeRoleWithWebIdentity",
		gm("StringEquals", gm(gh+":aud", "sts.amazonaws.com"), "StringLike", gm(gh+":sub", "repo:octo-org/app:*")))
	svc("GitHub OIDC pinned to two repositories", ghP, "sts:AssumeRoleWithWebIdentity",
		gm("StringLike", gm(gh+":sub", []any{"repo:octo-org/app:*", "repo:octo-org/infra:ref:refs/heads/main"})))
	svc("Cognito pinned to a pool, authenticated", cogP, "sts:AssumeRoleWithWebIdentity",
		gm("StringEquals", gm(cog+":aud", "us-east-1:12345678-1234-1234-1234-123456789012"), "ForAnyValue:StringLike", gm(cog+":amr", "authenticated")))
	svc("Google pinned to an application", gm("Federated", "accounts.google.com"), "sts:AssumeRoleWithWebIdentity", gm("StringEquals", gm("accounts.google.com:aud", "1234.apps.googleusercontent.com")))
	svc("SAML provider of the account", gm("Federated", "arn:aws:iam::"+gAcct+":saml-provider/Okta"), "sts:AssumeRoleWithSAML", gm("StringEquals", gm("SAML:aud", "https://signin.aws.amazon.com/saml")))
	ok("trust anyone, but a Deny stops everyone outside the organisation", "TRUST_POLICY", gDoc(
		gm("Effect", "Allow", "Principal", gm("AWS", "*"), "Action", "sts:AssumeRole"),
		gm("Effect", "Deny", "Principal", "*", "Action", "sts:AssumeRole", "Condition", gm("StringNotEquals", gm("aws:PrincipalOrgID", "o-abc1234567")))))
	return out
}

// TestGuardrailCorpusFile: the committed corpus is what the generator
// makes, so the tests of other packages run the cases reviewed here.
func TestGuardrailCorpusFile(t *testing.T) {
	// One case a line: small, and a change shows as the cases it touches.
	var buf bytes.Buffer
	buf.WriteString("[\n")
	cases := generateCorpus()
	for i, c := range cases {
		line, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(line)
		if i < len(cases)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	b := buf.Bytes()
	if *updateCorpus {
		if err := os.WriteFile(corpusFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatalf("%v (run with -update-corpus to write it)", err)
	}
	if !bytes.Equal(have, b) {
		t.Fatalf("%s is not what the generator makes; run go test ./policy -run TestGuardrailCorpusFile -update-corpus", corpusFile)
	}
}

// gPrincipalVars adds what simulate_custom_policy adds for a caller
// (principalRef.addVars in host/catalogue), so both witnesses mean the same.
func gPrincipalVars(caller string, ctx map[string][]string) map[string][]string {
	out := gMerge(nil, ctx)
	set := func(k, v string) {
		for have := range out {
			if strings.EqualFold(have, k) {
				return
			}
		}
		out[k] = []string{v}
	}
	acct := arnAccount(caller)
	switch {
	case strings.Contains(caller, ":user/"):
		set("aws:PrincipalArn", caller)
		set("aws:PrincipalType", "User")
		set("aws:username", caller[strings.LastIndexByte(caller, '/')+1:])
	case strings.Contains(caller, ":role/"):
		set("aws:PrincipalArn", caller)
		set("aws:PrincipalType", "AssumedRole")
	default:
		return out
	}
	set("aws:PrincipalAccount", acct)
	return out
}

// gWitnessAllowed evaluates a witness, as simulate_custom_policy does.
func gWitnessAllowed(t *testing.T, c gCase) Result {
	t.Helper()
	d, err := Parse(string(c.Doc))
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	w := c.Witness
	req := Request{Action: w.Action, Resource: w.Resource, Principal: w.Caller, Context: gPrincipalVars(w.Caller, w.Context)}
	if c.Type == "IDENTITY_POLICY" {
		return Evaluate(Input{Identity: []Source{{ID: "doc", Doc: d}}}, req)
	}
	in := Input{Resource: []Source{{ID: "trust", Type: "resource", Doc: d}}}
	if !w.Federated {
		admin, _ := Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		in.Identity = []Source{{ID: "caller", Doc: admin}}
	}
	return Evaluate(in, req)
}

// TestGuardrailCorpus: every risky document is reported by Validate with a
// SECURITY_WARNING (what the write guardrails refuse) and its witness is
// allowed by the evaluator; every benign one has none. No document has an
// ERROR: each is one IAM accepts, so the guardrail, not IAM, decides.
func TestGuardrailCorpus(t *testing.T) {
	cases := generateCorpus()
	var risky, refused, benign, passed int
	for _, c := range cases {
		typ := PolicyType(c.Type)
		fs := ValidateWithOptions(string(c.Doc), typ, ValidateOptions{Account: gAcct})
		security := 0
		for _, f := range fs {
			if f.Severity == SeverityError {
				t.Errorf("%s: IAM would refuse it (%s), so it tests nothing: %s", c.Name, f.Code, f.Message)
			}
			if f.Severity == SeveritySecurityWarning {
				security++
				if f.Message == "" || strings.Contains(f.Message, "zz") {
					t.Errorf("%s: finding %s says too little or shows a probe: %q", c.Name, f.Code, f.Message)
				}
			}
		}
		if c.Risky {
			risky++
			if security > 0 {
				refused++
			} else {
				t.Errorf("%s: no SECURITY_WARNING finding: %+v\n%s", c.Name, fs, c.Doc)
			}
			if c.Witness == nil {
				t.Errorf("%s: a risky case needs a witness", c.Name)
			} else if r := gWitnessAllowed(t, c); r.Decision != Allowed {
				t.Errorf("%s: the witness %+v is %s (%s): the case does not allow what it claims", c.Name, c.Witness, r.Decision, r.Reason)
			}
			continue
		}
		benign++
		if security == 0 {
			passed++
		} else {
			t.Errorf("%s: benign, but %+v", c.Name, fs)
		}
	}
	t.Logf("risky %d tried, %d reported; benign %d tried, %d passed", risky, refused, benign, passed)
	if risky < 300 || benign < 30 {
		t.Errorf("the corpus shrank: %d risky, %d benign", risky, benign)
	}
}
