package policy_test

import (
	"encoding/json"
	"math/rand"
	"sort"
	"strconv"
	"strings"
)

// This file is the differential test's case generator: random but
// reproducible (one seed) principals, requests and policies, drawn from
// fixed pools of real actions, ARNs and condition keys so that both engines
// know every name. Pools overlap on purpose (a team tag "dev" and an
// environment tag "dev", a username that is also an S3 prefix) so that
// conditions, variables and wildcards match often enough to matter.

// The two accounts of the generated world: principals and resources live in
// either, which gives same-account and cross-account requests.
const (
	acctA = "111122223333"
	acctB = "444455556666"
)

// genPrincipal is a caller: an IAM user or a role session.
type genPrincipal struct {
	ARN, Account string
	Username     string // IAM users only
	RoleARN      string // role sessions only: the role's ARN
}

var genPrincipals = []genPrincipal{
	{ARN: "arn:aws:iam::" + acctA + ":user/alice", Account: acctA, Username: "alice"},
	{ARN: "arn:aws:iam::" + acctA + ":user/dev/carol", Account: acctA, Username: "carol"},
	{ARN: "arn:aws:sts::" + acctA + ":assumed-role/Dev/alice-session", Account: acctA, RoleARN: "arn:aws:iam::" + acctA + ":role/Dev"},
	{ARN: "arn:aws:iam::" + acctB + ":user/bob", Account: acctB, Username: "bob"},
	{ARN: "arn:aws:sts::" + acctB + ":assumed-role/Partner/ci", Account: acctB, RoleARN: "arn:aws:iam::" + acctB + ":role/Partner"},
}

var genPrincipalWeights = []int{35, 15, 25, 12, 13}

// genAction is an action and the kind of resource it acts on ("*" for the
// actions that support no resource-level permissions).
type genAction struct{ Name, Kind string }

var genActions = []genAction{
	{"s3:GetObject", "object"}, {"s3:PutObject", "object"}, {"s3:DeleteObject", "object"}, {"s3:ListBucket", "bucket"},
	{"iam:GetUser", "user"}, {"iam:CreateAccessKey", "user"}, {"iam:DeleteUser", "user"},
	{"iam:GetRole", "role"}, {"iam:PassRole", "role"}, {"sts:AssumeRole", "role"},
	{"ec2:StartInstances", "instance"}, {"ec2:StopInstances", "instance"}, {"ec2:TerminateInstances", "instance"},
	{"ec2:DescribeInstances", "*"}, {"iam:ListUsers", "*"},
	{"dynamodb:GetItem", "table"}, {"dynamodb:PutItem", "table"}, {"dynamodb:Query", "table"},
	{"sqs:SendMessage", "queue"}, {"sqs:ReceiveMessage", "queue"},
	{"lambda:InvokeFunction", "function"}, {"sns:Publish", "topic"},
	{"kms:Decrypt", "key"}, {"kms:Encrypt", "key"},
}

// genResourcePolicyKinds are the kinds of resource that carry a
// resource-based policy in AWS (a bucket policy, a queue policy, a key
// policy…). A role's trust policy applies to the sts: actions on the role
// only, so role resources get one for sts:AssumeRole only.
var genResourcePolicyKinds = map[string]bool{
	"object": true, "bucket": true, "queue": true, "topic": true, "function": true, "table": true, "key": true,
}

// genOtherActions are real actions that policies name besides the requested
// ones.
var genOtherActions = []string{"s3:GetObjectAcl", "s3:PutBucketPolicy", "iam:UpdateUser", "iam:CreateRole",
	"ec2:RunInstances", "dynamodb:DeleteTable", "sqs:DeleteQueue", "lambda:CreateFunction", "sts:GetSessionToken"}

// genARN is an ARN taken apart: Type is the resource type with its
// separator ("user/", "function:", "" for S3, SQS and SNS), ID the rest.
type genARN struct {
	Service, Region, Account, Type, ID string
}

func (a genARN) String() string {
	return "arn:aws:" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Type + a.ID
}

var (
	genBuckets    = []string{"app-data", "app-logs", "shared-reports"}
	genObjectKeys = []string{"alice/report.csv", "bob/notes.txt", "carol/Q3/summary.pdf", "public/index.html", "dev/build.log"}
	genRegions    = []string{"us-east-1", "eu-west-1"}
)

// resourceFor makes a resource of the given kind in an account.
func (g *generator) resourceFor(kind, acct string) genARN {
	switch kind {
	case "object":
		return genARN{Service: "s3", ID: g.pick(genBuckets) + "/" + g.pick(genObjectKeys)}
	case "bucket":
		return genARN{Service: "s3", ID: g.pick(genBuckets)}
	case "user":
		return genARN{Service: "iam", Account: acct, Type: "user/", ID: g.pick([]string{"alice", "bob", "dev/carol"})}
	case "role":
		return genARN{Service: "iam", Account: acct, Type: "role/", ID: g.pick([]string{"Dev", "Admin", "Partner"})}
	case "instance":
		return genARN{Service: "ec2", Region: g.pick(genRegions), Account: acct, Type: "instance/", ID: g.pick([]string{"i-0abc123", "i-0def456"})}
	case "table":
		return genARN{Service: "dynamodb", Region: g.pick(genRegions), Account: acct, Type: "table/", ID: g.pick([]string{"Orders", "orders-archive", "dev-Orders"})}
	case "queue":
		return genARN{Service: "sqs", Region: g.pick(genRegions), Account: acct, ID: g.pick([]string{"jobs", "Jobs-dlq"})}
	case "function":
		return genARN{Service: "lambda", Region: g.pick(genRegions), Account: acct, Type: "function:", ID: g.pick([]string{"app-fn", "report-gen"})}
	case "topic":
		return genARN{Service: "sns", Region: g.pick(genRegions), Account: acct, ID: g.pick([]string{"alerts", "Audit"})}
	case "key":
		return genARN{Service: "kms", Region: g.pick(genRegions), Account: acct, Type: "key/", ID: g.pick([]string{"1234abcd-12ab-34cd-56ef-1234567890ab", "0987dcba-09fe-87dc-65ba-ab0987654321"})}
	}
	panic("unknown resource kind " + kind)
}

// genKey is a condition key with the type the oracle's reference gives it.
// Multi keys are multivalued (ArrayOfString): only they carry several
// values in a request, as AWS's documentation has them.
type genKey struct {
	Name, Type string
	Multi      bool
}

var genKeys = []genKey{
	{"aws:username", "String", false},
	{"aws:PrincipalTag/team", "String", false},
	{"aws:RequestedRegion", "String", false},
	{"aws:RequestTag/env", "String", false},
	{"aws:ResourceTag/env", "String", false},
	{"aws:PrincipalAccount", "String", false},
	{"aws:SourceIdentity", "Binary", false},
	{"aws:PrincipalArn", "ARN", false},
	{"aws:SourceArn", "ARN", false},
	{"aws:MultiFactorAuthPresent", "Bool", false},
	{"aws:SecureTransport", "Bool", false},
	{"aws:MultiFactorAuthAge", "Numeric", false},
	{"aws:CurrentTime", "Date", false},
	{"aws:EpochTime", "Date", false},
	{"aws:SourceIp", "IP", false},
	{"aws:TagKeys", "String", true},
	{"aws:PrincipalOrgPaths", "String", true},
	{"aws:CalledVia", "String", true},
}

// genValues are the request-side values of each key (those that do not
// depend on the principal).
var genValues = map[string][]string{
	"aws:PrincipalTag/team":      {"dev", "ops", "Dev", "alice"},
	"aws:RequestedRegion":        {"us-east-1", "eu-west-1", "ap-south-1"},
	"aws:RequestTag/env":         {"dev", "prod", "Prod"},
	"aws:ResourceTag/env":        {"dev", "prod", "test"},
	"aws:SourceIdentity":         {"YWxpY2U=", "Ym9i", "Y2Fyb2w="},
	"aws:SourceArn":              {"arn:aws:s3:::app-data", "arn:aws:sns:us-east-1:" + acctA + ":alerts", "arn:aws:lambda:eu-west-1:" + acctB + ":function:report-gen"},
	"aws:MultiFactorAuthPresent": {"true", "false"},
	"aws:SecureTransport":        {"true", "false"},
	"aws:MultiFactorAuthAge":     {"0", "300", "3600", "86400", "12.5"},
	"aws:CurrentTime":            {"2024-01-15T08:00:00Z", "2024-06-30T23:59:59Z", "2025-03-01T12:00:00Z"},
	"aws:EpochTime":              {"1705305600", "1719791999", "1740830400"},
	"aws:SourceIp":               {"203.0.113.7", "198.51.100.20", "10.1.2.3", "192.0.2.1", "2001:db8::1", "2001:db8:1::5"},
	"aws:TagKeys":                {"env", "team", "owner", "Env", "cost-center"},
	"aws:PrincipalOrgPaths":      {"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/", "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/", "o-zz9/r-zz9/"},
	"aws:CalledVia":              {"cloudformation.amazonaws.com", "athena.amazonaws.com", "dynamodb.amazonaws.com"},
}

// The condition operators by the type of key they compare.
var genOperators = map[string][]string{
	"String":  {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"},
	"ARN":     {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"},
	"Bool":    {"Bool"},
	"Binary":  {"BinaryEquals"},
	"Numeric": {"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"},
	"Date":    {"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"},
	"IP":      {"IpAddress", "NotIpAddress"},
}

// gPolicy, gStmt and gCond are a generated policy before it becomes JSON; the
// known-difference rules inspect them.
type gPolicy struct {
	Version   string // "" = no Version element
	Statement []gStmt
}

type gStmt struct {
	Sid, Effect             string
	Principal, NotPrincipal any // "*" or map[string]any; nil = absent
	Action, NotAction       []string
	Resource, NotResource   []string
	Scalar                  bool // write one-element lists as a bare string
	Conds                   []gCond
}

// gCond is one operator/key pair of a Condition block.
type gCond struct {
	Op, Key string
	Values  []any // string or bool
}

func (p gPolicy) MarshalJSON() ([]byte, error) {
	m := map[string]any{"Statement": p.Statement}
	if p.Version != "" {
		m["Version"] = p.Version
	}
	return json.Marshal(m)
}

func (s gStmt) MarshalJSON() ([]byte, error) {
	m := map[string]any{"Effect": s.Effect}
	if s.Sid != "" {
		m["Sid"] = s.Sid
	}
	if s.Principal != nil {
		m["Principal"] = s.Principal
	}
	if s.NotPrincipal != nil {
		m["NotPrincipal"] = s.NotPrincipal
	}
	list := func(name string, v []string) {
		switch {
		case v == nil:
		case s.Scalar && len(v) == 1:
			m[name] = v[0]
		default:
			m[name] = v
		}
	}
	list("Action", s.Action)
	list("NotAction", s.NotAction)
	list("Resource", s.Resource)
	list("NotResource", s.NotResource)
	if len(s.Conds) > 0 {
		c := map[string]map[string]any{}
		for _, cd := range s.Conds {
			if c[cd.Op] == nil {
				c[cd.Op] = map[string]any{}
			}
			if len(cd.Values) == 1 && s.Scalar {
				c[cd.Op][cd.Key] = cd.Values[0]
			} else {
				c[cd.Op][cd.Key] = cd.Values
			}
		}
		m["Condition"] = c
	}
	return json.Marshal(m)
}

// genCase is one generated request with the policies that apply to it.
type genCase struct {
	ID              int
	Identity        []gPolicy
	Boundary        []gPolicy
	SCPs            []gPolicy
	ResourcePolicy  *gPolicy
	Principal       genPrincipal
	Action          string
	Kind            string // the action's resource kind
	Resource        string
	ResourceAccount string
	Context         map[string][]string
}

// generator draws cases from one seeded source.
type generator struct {
	r *rand.Rand
	c *genCase // the case being built
}

func newGenerator(seed int64) *generator { return &generator{r: rand.New(rand.NewSource(seed))} }

func (g *generator) pick(s []string) string { return s[g.r.Intn(len(s))] }
func (g *generator) chance(p float64) bool  { return g.r.Float64() < p }

// weighted returns an index drawn with the given weights.
func (g *generator) weighted(w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := g.r.Intn(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

// flipCase changes the case of one letter of s (s itself when it has none),
// choosing among the letters after skip.
func (g *generator) flipCase(s string, skip int) string {
	var idx []int
	for i := skip; i < len(s); i++ {
		if c := s[i]; ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return s
	}
	i := idx[g.r.Intn(len(idx))]
	b := []byte(s)
	b[i] ^= 0x20
	return string(b)
}

// question replaces one character of s after skip with '?'.
func (g *generator) question(s string, skip int) string {
	if len(s) <= skip {
		return s
	}
	i := skip + g.r.Intn(len(s)-skip)
	return s[:i] + "?" + s[i+1:]
}

// cases generates n cases.
func (g *generator) cases(n int) []*genCase {
	out := make([]*genCase, n)
	for i := range out {
		out[i] = g.newCase(i)
	}
	return out
}

func (g *generator) newCase(id int) *genCase {
	c := &genCase{ID: id}
	g.c = c
	c.Principal = genPrincipals[g.weighted(genPrincipalWeights...)]
	act := genActions[g.r.Intn(len(genActions))]
	c.Action, c.Kind = act.Name, act.Kind
	if act.Kind == "*" {
		c.Resource, c.ResourceAccount = "*", c.Principal.Account
	} else {
		acct := c.Principal.Account
		if g.chance(0.35) {
			acct = otherAccount(acct)
		}
		c.ResourceAccount = acct
		c.Resource = g.resourceFor(act.Kind, acct).String()
	}
	c.Context = g.context()

	for i, n := 0, 1+g.r.Intn(3); i < n; i++ {
		c.Identity = append(c.Identity, g.policy("identity", 1+g.r.Intn(3)))
	}
	if g.chance(0.25) {
		for i, n := 0, 1+g.r.Intn(2); i < n; i++ {
			c.Boundary = append(c.Boundary, g.policy("boundary", 1+g.r.Intn(3)))
		}
	}
	if g.chance(0.2) {
		if g.chance(0.7) {
			c.SCPs = append(c.SCPs, gPolicy{Version: "2012-10-17", Statement: []gStmt{{Sid: "FullAWSAccess", Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}, Scalar: true}}})
		}
		if n := g.r.Intn(3); n > 0 || len(c.SCPs) == 0 {
			c.SCPs = append(c.SCPs, g.policy("scp", max(n, 1)))
		}
	}
	// Every KMS key has a key policy; other resources that can carry a
	// resource-based policy have one now and then.
	if act.Kind == "key" || ((genResourcePolicyKinds[act.Kind] || act.Name == "sts:AssumeRole") && g.chance(0.45)) {
		p := g.policy("resource", 1+g.r.Intn(3))
		c.ResourcePolicy = &p
	}
	return c
}

func otherAccount(a string) string {
	if a == acctA {
		return acctB
	}
	return acctA
}

// context draws the request context: each key present or not, with values
// consistent with the principal.
func (g *generator) context() map[string][]string {
	p := g.c.Principal
	ctx := map[string][]string{}
	for _, k := range genKeys {
		switch k.Name {
		case "aws:username":
			if p.Username != "" && g.chance(0.85) {
				ctx[k.Name] = []string{p.Username}
			}
			continue
		case "aws:PrincipalArn":
			if g.chance(0.6) {
				arn := p.ARN
				if p.RoleARN != "" {
					arn = p.RoleARN
				}
				ctx[k.Name] = []string{arn}
			}
			continue
		case "aws:PrincipalAccount":
			if g.chance(0.5) {
				ctx[k.Name] = []string{p.Account}
			}
			continue
		}
		if !g.chance(0.55) {
			continue
		}
		vals := genValues[k.Name]
		if !k.Multi {
			ctx[k.Name] = []string{g.pick(vals)}
			continue
		}
		perm := g.r.Perm(len(vals))
		var v []string
		for _, i := range perm[:1+g.r.Intn(3)] {
			v = append(v, vals[i])
		}
		ctx[k.Name] = v
	}
	return ctx
}

// policy makes a policy of n statements for a layer ("identity",
// "boundary", "scp", "resource").
func (g *generator) policy(layer string, n int) gPolicy {
	p := gPolicy{Version: "2012-10-17"}
	switch g.weighted(96, 2, 2) {
	case 1:
		p.Version = "2008-10-17"
	case 2:
		p.Version = ""
	}
	for i := 0; i < n; i++ {
		p.Statement = append(p.Statement, g.statement(layer, i))
	}
	return p
}

func (g *generator) statement(layer string, i int) gStmt {
	c := g.c
	s := gStmt{Effect: "Allow", Scalar: g.chance(0.5)}
	if g.chance(0.5) {
		s.Sid = "S" + strconv.Itoa(i)
	}
	deny := map[string]float64{"identity": 0.3, "boundary": 0.2, "scp": 0.4, "resource": 0.35}[layer]
	if g.chance(deny) {
		s.Effect = "Deny"
	}
	if layer == "resource" {
		if s.Effect == "Deny" && g.chance(0.2) {
			s.NotPrincipal = g.principalElement(true)
		} else {
			s.Principal = g.principalElement(false)
		}
	}

	var acts []string
	for j, m := 0, 1+g.weighted(70, 22, 8); j < m; j++ {
		acts = append(acts, g.actionPattern(c.Action))
	}
	if g.chance(0.15) {
		s.NotAction = acts
	} else {
		s.Action = acts
	}

	var res []string
	for j, m := 0, 1+g.weighted(75, 25); j < m; j++ {
		res = append(res, g.resourcePattern())
	}
	switch {
	case layer == "resource" && c.Action == "sts:AssumeRole" && g.chance(0.7):
		// A trust policy: its statements name no resource.
	case g.chance(0.12):
		s.NotResource = res
	default:
		s.Resource = res
	}

	if g.chance(0.5) {
		seen := map[string]bool{}
		for j, m := 0, 1+g.weighted(65, 30, 5); j < m; j++ {
			cd := g.condition()
			if id := cd.Op + "\x00" + strings.ToLower(cd.Key); !seen[id] {
				seen[id] = true
				s.Conds = append(s.Conds, cd)
			}
		}
	}
	return s
}

// principalElement makes a Principal (or, for not, a NotPrincipal) element
// that names the caller in one of the ways AWS allows, or someone else.
func (g *generator) principalElement(not bool) any {
	p := g.c.Principal
	root := func(acct string) string { return "arn:aws:iam::" + acct + ":root" }
	other := g.pick([]string{"arn:aws:iam::" + acctA + ":user/mallory", "arn:aws:iam::" + acctB + ":role/Ops", "arn:aws:sts::" + acctA + ":assumed-role/Ops/x"})
	var v []string
	if not {
		switch g.weighted(30, 25, 20, 25) {
		case 0:
			v = []string{p.ARN}
		case 1:
			v = []string{root(p.Account)}
		case 2:
			v = []string{p.ARN, root(p.Account)}
		default:
			v = []string{other}
		}
		return map[string]any{"AWS": v}
	}
	switch g.weighted(15, 5, 12, 10, 18, 10, 10, 8, 7, 5) {
	case 0:
		return "*"
	case 1:
		return map[string]any{"AWS": "*"}
	case 2:
		return map[string]any{"AWS": p.Account}
	case 3:
		return map[string]any{"AWS": root(p.Account)}
	case 4:
		return map[string]any{"AWS": p.ARN}
	case 5:
		if p.RoleARN != "" {
			return map[string]any{"AWS": p.RoleARN}
		}
		return map[string]any{"AWS": other}
	case 6:
		return map[string]any{"AWS": other}
	case 7:
		return map[string]any{"AWS": otherAccount(p.Account)}
	case 8:
		v = []string{other, g.pick([]string{p.ARN, p.Account, root(p.Account)})}
		return map[string]any{"AWS": v}
	default:
		return map[string]any{"Service": "lambda.amazonaws.com"}
	}
}

// actionPattern makes an Action/NotAction entry, most of them matching the
// requested action: exactly, in another case, or through * and ?.
func (g *generator) actionPattern(req string) string {
	svc, name, _ := strings.Cut(req, ":")
	switch g.weighted(22, 10, 10, 5, 12, 5, 8, 10, 15) {
	case 0:
		return req
	case 1:
		return g.flipCase(g.flipCase(req, 0), 0)
	case 2:
		return svc + ":*"
	case 3:
		return "*"
	case 4:
		return svc + ":" + name[:1+g.r.Intn(len(name)-1)] + "*"
	case 5:
		return svc + ":*" + name[1+g.r.Intn(len(name)-1):]
	case 6:
		return g.question(req, len(svc)+1)
	case 7:
		var same []string
		for _, a := range append(actionNames(), genOtherActions...) {
			if strings.HasPrefix(a, svc+":") && a != req {
				same = append(same, a)
			}
		}
		if len(same) > 0 {
			return g.pick(same)
		}
		return req
	default:
		return g.pick(append(actionNames(), genOtherActions...))
	}
}

func actionNames() []string {
	out := make([]string, len(genActions))
	for i, a := range genActions {
		out[i] = a.Name
	}
	return out
}

// resourcePattern makes a Resource/NotResource entry for the case's request.
func (g *generator) resourcePattern() string {
	c := g.c
	kind := c.Kind
	if kind == "*" {
		// Actions without resource-level permissions: a policy names "*" or,
		// by mistake, some ARN.
		if g.chance(0.7) {
			return "*"
		}
		k := g.pick([]string{"object", "user", "instance", "table"})
		return g.resourceFor(k, c.ResourceAccount).String()
	}
	req := parseGenARN(c.Resource)
	switch g.weighted(12, 20, 12, 6, 6, 8, 5, 14, 12, 3) {
	case 0:
		return "*"
	case 1:
		return c.Resource
	case 2: // a trailing * within the resource id
		a := req
		a.ID = a.ID[:g.r.Intn(len(a.ID))] + "*"
		return a.String()
	case 3:
		a := req
		a.ID = g.question(a.ID, 0)
		return a.String()
	case 4: // resource ARNs are case-sensitive
		a := req
		a.ID = g.flipCase(a.ID, 0)
		return a.String()
	case 5: // a wildcard for the region or account
		a := req
		if a.Region != "" && g.chance(0.5) {
			a.Region = "*"
		} else if a.Account != "" {
			a.Account = "*"
		} else {
			a.ID = "*"
		}
		return a.String()
	case 6: // the whole service
		if req.Service == "s3" {
			return "arn:aws:s3:::*"
		}
		return "arn:aws:" + req.Service + ":*:*:*"
	case 7: // another resource of the kind, maybe in the other account
		acct := c.ResourceAccount
		if g.chance(0.3) {
			acct = otherAccount(acct)
		}
		return g.resourceFor(kind, acct).String()
	case 8:
		return g.variablePattern(req)
	default:
		// A * that ends a segment and spans the following colons.
		if req.Service == "s3" {
			return "arn:aws:s3:::" + strings.SplitN(req.ID, "/", 2)[0] + "*"
		}
		return "arn:aws:" + req.Service + ":*:" + req.Type + "*"
	}
}

// variablePattern makes a resource pattern holding a policy variable.
func (g *generator) variablePattern(req genARN) string {
	a := req
	switch req.Service + "/" + req.Type {
	case "s3/":
		bucket := strings.SplitN(req.ID, "/", 2)[0]
		if g.c.Kind == "bucket" {
			a.ID = g.pick([]string{"${aws:PrincipalTag/team, 'app-data'}", "app-${aws:PrincipalTag/team}", bucket + "${?}"})
			return a.String()
		}
		a.ID = bucket + "/" + g.pick([]string{"${aws:username}/*", "${aws:PrincipalTag/team}/*", "${aws:PrincipalTag/team, 'public'}/*", "${aws:username}${*}", "${aws:userid}/*"})
	case "iam/user/":
		a.ID = g.pick([]string{"${aws:username}", "*${aws:username}", "${aws:username, 'alice'}"})
	case "iam/role/":
		a.ID = g.pick([]string{"${aws:PrincipalTag/team, 'Dev'}", "${aws:PrincipalTag/team}"})
	case "dynamodb/table/":
		a.ID = g.pick([]string{"${aws:PrincipalTag/team}-*", "${aws:PrincipalTag/team, 'dev'}-Orders"})
	default:
		a.ID = "${aws:RequestTag/env}*"
	}
	return a.String()
}

// parseGenARN takes apart an ARN that resourceFor made.
func parseGenARN(s string) genARN {
	p := strings.SplitN(s, ":", 6)
	a := genARN{Service: p[2], Region: p[3], Account: p[4]}
	rest := p[5]
	if i := strings.IndexAny(rest, "/:"); i >= 0 && a.Service != "s3" {
		a.Type, a.ID = rest[:i+1], rest[i+1:]
	} else {
		a.ID = rest
	}
	return a
}

// condition makes one operator/key pair, mostly of a key the request
// carries, with values that match the request's now and then.
func (g *generator) condition() gCond {
	c := g.c
	var k genKey
	if present := presentKeys(c.Context); len(present) > 0 && g.chance(0.7) {
		name := g.pick(present)
		for _, gk := range genKeys {
			if gk.Name == name {
				k = gk
			}
		}
	} else {
		k = genKeys[g.r.Intn(len(genKeys))]
	}
	key := k.Name
	if g.chance(0.1) {
		key = g.flipCase(key, 0) // key names are case-insensitive
	}
	reqVals := c.Context[k.Name]

	if g.chance(0.07) {
		vals := []any{g.pick([]string{"true", "false"})}
		if g.chance(0.3) {
			vals[0] = vals[0] == "true"
		}
		return gCond{Op: "Null", Key: key, Values: vals}
	}

	typ := k.Type
	switch {
	case typ == "Binary" && g.chance(0.3):
		typ = "String"
	case typ == "ARN" && g.chance(0.2):
		typ = "String"
	}
	op := g.pick(genOperators[typ])
	if g.chance(0.2) {
		op += "IfExists"
	}
	switch {
	case k.Multi:
		op = g.pick([]string{"ForAllValues:", "ForAnyValue:"}) + op
	case g.chance(0.08):
		op = g.pick([]string{"ForAllValues:", "ForAnyValue:"}) + op
	}

	var vals []any
	for j, m := 0, 1+g.weighted(60, 30, 10); j < m; j++ {
		vals = append(vals, g.conditionValue(k, typ, op, reqVals))
	}
	return gCond{Op: op, Key: key, Values: vals}
}

func presentKeys(ctx map[string][]string) []string {
	out := make([]string, 0, len(ctx))
	for k := range ctx {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// conditionValue makes one policy value for a condition on key k compared as
// typ.
func (g *generator) conditionValue(k genKey, typ, op string, reqVals []string) any {
	var rv string
	if len(reqVals) > 0 {
		rv = reqVals[g.r.Intn(len(reqVals))]
	}
	p := g.c.Principal
	switch typ {
	case "String":
		pool := genValues[k.Name]
		if k.Name == "aws:username" {
			pool = []string{"alice", "bob", "carol", "Alice"}
		}
		if k.Name == "aws:PrincipalAccount" {
			pool = []string{acctA, acctB}
		}
		if k.Name == "aws:PrincipalArn" || k.Name == "aws:SourceArn" {
			pool = append([]string{p.ARN}, genValues["aws:SourceArn"]...)
			if p.RoleARN != "" {
				pool = append(pool, p.RoleARN)
			}
		}
		like := strings.Contains(op, "Like")
		switch g.weighted(30, 10, 25, 10, 5, 12) {
		case 0:
			if rv != "" {
				return rv
			}
		case 1:
			if rv != "" {
				return g.flipCase(rv, 0)
			}
		case 3:
			if like && rv != "" {
				return rv[:g.r.Intn(len(rv))] + "*"
			}
		case 4:
			if like && rv != "" {
				return g.question(rv, 0)
			}
		case 5:
			return g.pick([]string{"${aws:username}", "${aws:PrincipalTag/team}", "${aws:PrincipalTag/team, 'dev'}", "${aws:RequestTag/env}"})
		}
		return g.pick(pool)
	case "ARN":
		return g.pick([]string{
			p.ARN, "arn:aws:iam::" + p.Account + ":user/*", "arn:aws:iam::*:role/Dev",
			"arn:aws:sts::" + acctA + ":assumed-role/Dev/*", "arn:aws:iam::" + acctA + ":user/${aws:username}",
			"arn:aws:s3:::app-*", "arn:aws:sns:us-east-1:*:alerts", "arn:aws:lambda:*:*:function:*",
			"arn:aws:iam::" + acctB + ":role/Partner", "arn:aws:iam::" + acctA + ":role/Dev",
		})
	case "Bool":
		v := g.pick([]string{"true", "false", "true", "false", "True"})
		if g.chance(0.3) {
			return v == "true"
		}
		return v
	case "Binary":
		if rv != "" && g.chance(0.5) {
			return rv
		}
		return g.pick(genValues["aws:SourceIdentity"])
	case "Numeric":
		if rv != "" && g.chance(0.3) {
			return rv
		}
		return g.pick([]string{"0", "300", "3600", "3600.0", "86400", "12.5"})
	case "Date":
		iso := []string{"2024-01-01T00:00:00Z", "2024-06-30T23:59:59Z", "2025-01-01T00:00:00Z", "2024-06-30", "2024-06-30T23:59:59.000Z"}
		epoch := []string{"1704067200", "1719791999", "1735689600"}
		if rv != "" && g.chance(0.25) {
			return rv
		}
		if (k.Name == "aws:EpochTime") == g.chance(0.8) {
			return g.pick(epoch)
		}
		return g.pick(iso)
	case "IP":
		return g.pick([]string{"203.0.113.0/24", "10.0.0.0/8", "198.51.100.20", "2001:db8::/32", "192.0.2.0/25", "0.0.0.0/0", "203.0.113.7/32"})
	}
	panic("unknown type " + typ)
}
