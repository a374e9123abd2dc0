package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/policy"
)

// The differential test runs thousands of generated cases through Evaluate
// and through an independent implementation of IAM's evaluation logic, the
// npm package @cloud-copilot/iam-simulate, and fails on every disagreement
// that known-differences.json does not record. The oracle is AGPL-licensed:
// it is only ever run as a separate node process by the tests (see
// testdata/oracle/driver.mjs), never linked into or shipped with the server.
//
// A disagreement is resolved either by fixing policy, or, where AWS's
// documentation says our answer is the right one, by recording its class in
// testdata/oracle/known-differences.json with the documentation's address.

var (
	oracleSeedFlag = flag.Int64("oracle.seed", 0, "seed of the differential test's case generator (default $IAM_MCP_ORACLE_SEED, else 1)")
	oracleNFlag    = flag.Int("oracle.n", 0, "number of cases the differential test generates (default $IAM_MCP_ORACLE_N, else 5000)")
)

const (
	defaultOracleSeed = 1
	defaultOracleN    = 5000

	oracleDir     = "testdata/oracle"
	oracleInstall = "npm ci --prefix policy/testdata/oracle"
	knownDiffFile = "testdata/oracle/known-differences.json"
)

// oracleParams returns the generator's seed and case count: the flags, else
// the environment, else the defaults.
func oracleParams(tb testing.TB) (seed int64, n int) {
	seed, n = defaultOracleSeed, defaultOracleN
	if v := os.Getenv("IAM_MCP_ORACLE_SEED"); v != "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			tb.Fatalf("IAM_MCP_ORACLE_SEED=%q: %v", v, err)
		}
		seed = s
	}
	if v := os.Getenv("IAM_MCP_ORACLE_N"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x <= 0 {
			tb.Fatalf("IAM_MCP_ORACLE_N=%q: want a positive number", v)
		}
		n = x
	}
	if *oracleSeedFlag != 0 {
		seed = *oracleSeedFlag
	}
	if *oracleNFlag > 0 {
		n = *oracleNFlag
	}
	return seed, n
}

// requireOracle returns the path of node, once node and the installed oracle
// are there; otherwise it skips the test (fails it under
// IAM_MCP_REQUIRE_ALL=1) saying how to install them.
func requireOracle(tb testing.TB) string {
	tb.Helper()
	node := testenv.LookTool(tb, "node", "install Node.js 20 or later, then run "+oracleInstall)
	testenv.RequirePath(tb, filepath.Join(oracleDir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json"),
		"the differential test's oracle is not installed: run "+oracleInstall)
	return node
}

// runOracle runs the driver once over all cases (JSON lines on its stdin):
// one node process per batch, since starting node costs far more than a
// case does.
func runOracle(tb testing.TB, node string, args []string, lines [][]byte) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard against a hang
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"driver.mjs"}, args...)...)
	cmd.Dir = oracleDir
	// Date.parse reads zone-less date-times in local time; pin it.
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin = bytes.NewReader(bytes.Join(lines, []byte("\n")))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("oracle driver: %v\n%s", err, stderr.String())
	}
	return stdout.Bytes()
}

// oracleAnswer is the driver's line for one case.
type oracleAnswer struct {
	ID                 int      `json:"id"`
	Decision           string   `json:"decision"`
	Error              string   `json:"error"`
	IgnoredContextKeys []string `json:"ignoredContextKeys"`
}

// wireCase is a case as the driver reads it.
type wireCase struct {
	ID              int                 `json:"id"`
	Identity        []json.RawMessage   `json:"identity"`
	Boundary        []json.RawMessage   `json:"boundary,omitempty"`
	SCPs            []json.RawMessage   `json:"scps,omitempty"`
	ResourcePolicy  json.RawMessage     `json:"resourcePolicy,omitempty"`
	Principal       string              `json:"principal"`
	Action          string              `json:"action"`
	Resource        string              `json:"resource"`
	ResourceAccount string              `json:"resourceAccount"`
	Context         map[string][]string `json:"context"`
}

// preparedCase is a generated case made ready for both engines from the
// same JSON text of its policies.
type preparedCase struct {
	gen  *genCase
	wire []byte
	in   policy.Input
	req  policy.Request
}

func prepare(c *genCase) (*preparedCase, error) {
	p := &preparedCase{gen: c}
	w := wireCase{ID: c.ID, Principal: c.Principal.ARN, Action: c.Action, Resource: c.Resource,
		ResourceAccount: c.ResourceAccount, Context: c.Context}
	layer := func(prefix, typ string, pols []gPolicy) ([]json.RawMessage, []policy.Source, error) {
		var raws []json.RawMessage
		var srcs []policy.Source
		for i, pol := range pols {
			raw, err := json.Marshal(pol)
			if err != nil {
				return nil, nil, err
			}
			doc, err := policy.Parse(string(raw))
			if err != nil {
				return nil, nil, fmt.Errorf("%s%d: %w", prefix, i, err)
			}
			raws = append(raws, raw)
			srcs = append(srcs, policy.Source{ID: prefix + strconv.Itoa(i), Type: typ, Doc: doc})
		}
		return raws, srcs, nil
	}
	var err error
	if w.Identity, p.in.Identity, err = layer("identity", "user-managed", c.Identity); err != nil {
		return nil, err
	}
	if w.Boundary, p.in.Boundaries, err = layer("boundary", "user-managed", c.Boundary); err != nil {
		return nil, err
	}
	if w.SCPs, p.in.SCPs, err = layer("scp", "scp", c.SCPs); err != nil {
		return nil, err
	}
	if c.ResourcePolicy != nil {
		raws, srcs, err := layer("resource", "resource", []gPolicy{*c.ResourcePolicy})
		if err != nil {
			return nil, err
		}
		w.ResourcePolicy, p.in.Resource = raws[0], srcs
	}
	if p.wire, err = json.Marshal(w); err != nil {
		return nil, err
	}
	p.req = policy.Request{Action: c.Action, Resource: c.Resource, Context: c.Context,
		Principal: c.Principal.ARN, ResourceAccount: c.ResourceAccount}
	return p, nil
}

// describeCase renders a case in full for a failure message.
func describeCase(p *preparedCase) string {
	var b bytes.Buffer
	if err := json.Indent(&b, p.wire, "    ", "  "); err != nil {
		return string(p.wire)
	}
	return "    " + b.String()
}

func TestDifferentialOracle(t *testing.T) {
	node := requireOracle(t)
	version := oracleVersion(t)
	seed, n := oracleParams(t)
	known := loadKnownDifferences(t)

	gen := newGenerator(seed)
	var cases []*preparedCase
	var lines [][]byte
	for _, c := range gen.cases(n) {
		p, err := prepare(c)
		if err != nil {
			t.Fatalf("case %d: the generator made a policy Parse refuses: %v", c.ID, err)
		}
		cases = append(cases, p)
		lines = append(lines, p.wire)
	}

	answers := map[int]oracleAnswer{}
	for _, line := range bytes.Split(bytes.TrimSpace(runOracle(t, node, nil, lines)), []byte("\n")) {
		var a oracleAnswer
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatalf("oracle driver printed %q: %v", line, err)
		}
		answers[a.ID] = a
	}

	cov := coverage(cases)
	var unrecorded []string
	var dump [][]byte
	explained := map[string]int{}
	agreed := 0
	for _, p := range cases {
		a, ok := answers[p.gen.ID]
		switch {
		case !ok:
			t.Fatalf("case %d: the oracle gave no answer", p.gen.ID)
		case a.Error != "":
			// The generator must stay within what both engines accept.
			t.Errorf("case %d: the oracle refused the case: %s\n%s", p.gen.ID, a.Error, describeCase(p))
			continue
		case len(a.IgnoredContextKeys) > 0:
			t.Errorf("case %d: the oracle ignored context keys %v as not applicable to %s; the generator must use keys it applies\n%s",
				p.gen.ID, a.IgnoredContextKeys, p.gen.Action, describeCase(p))
			continue
		}
		cov["decision:"+a.Decision]++
		res := policy.Evaluate(p.in, p.req)
		if string(res.Decision) == a.Decision {
			agreed++
			continue
		}
		id := known.explain(p.gen)
		d, _ := json.Marshal(map[string]any{"case": json.RawMessage(p.wire), "ours": res.Decision, "oracle": a.Decision, "reason": res.Reason, "known": id})
		dump = append(dump, d)
		if id != "" {
			explained[id]++
			continue
		}
		unrecorded = append(unrecorded, fmt.Sprintf("case %d: ours %s, oracle %s\n  our reason: %s\n%s",
			p.gen.ID, res.Decision, a.Decision, res.Reason, describeCase(p)))
	}

	recorded := 0
	for _, k := range explained {
		recorded += k
	}
	t.Logf("oracle @cloud-copilot/iam-simulate %s, seed %d: %d cases, %d agree, %d disagree as recorded %v, %d unrecorded",
		version, seed, len(cases), agreed, recorded, explained, len(unrecorded))
	checkCoverage(t, cov, n)

	// IAM_MCP_ORACLE_DUMP=file writes every disagreement there, one JSON
	// line each with the entry that explains it ("known", "" when none), for
	// study with other tools.
	if path := os.Getenv("IAM_MCP_ORACLE_DUMP"); path != "" {
		var out []byte
		for _, d := range dump {
			out = append(append(out, d...), '\n')
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Error(err)
		}
	}

	const show = 100
	for i, u := range unrecorded {
		if i == show {
			t.Errorf("… and %d more unrecorded disagreements (rerun with a smaller -oracle.n to see them)", len(unrecorded)-show)
			break
		}
		t.Errorf("unrecorded disagreement, %s", u)
	}

	// An entry that explains nothing any more has rotted: the difference was
	// fixed on one side, or the generator lost the cases. Only the default
	// run is sure to meet every class.
	for _, d := range known.Differences {
		if explained[d.ID] > 0 {
			continue
		}
		if n >= defaultOracleN && seed == defaultOracleSeed {
			t.Errorf("%s: known difference %q explains no disagreement any more; delete it (or restore the cases that show it)", knownDiffFile, d.ID)
		} else {
			t.Logf("known difference %q explains no disagreement in this run", d.ID)
		}
	}
}

// oracleVersion returns the installed oracle's version, after checking that
// it is the one package.json pins: the known differences hold for that
// version, and an `npm install` of another would make the test's verdicts
// about a different oracle.
func oracleVersion(tb testing.TB) string {
	tb.Helper()
	read := func(path string, v any) {
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			tb.Fatalf("%v (run %s)", err, oracleInstall)
		}
	}
	var pinned struct{ Dependencies map[string]string }
	var installed struct{ Version string }
	read(filepath.Join(oracleDir, "package.json"), &pinned)
	read(filepath.Join(oracleDir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json"), &installed)
	if want := pinned.Dependencies["@cloud-copilot/iam-simulate"]; installed.Version != want {
		tb.Fatalf("the installed oracle is @cloud-copilot/iam-simulate %s, package.json pins %s: run %s", installed.Version, want, oracleInstall)
	}
	return installed.Version
}

// coverage counts the elements, operators and situations the cases hold, so
// that checkCoverage can tell when the generator stops producing one.
func coverage(cases []*preparedCase) map[string]int {
	cov := map[string]int{}
	for _, p := range cases {
		c := p.gen
		if len(c.Identity) > 1 {
			cov["layer:several-identity-policies"]++
		}
		if len(c.Boundary) > 0 {
			cov["layer:permissions-boundary"]++
		}
		if len(c.SCPs) > 0 {
			cov["layer:scp"]++
		}
		cross := c.Principal.Account != c.ResourceAccount
		if cross {
			cov["request:cross-account"]++
		} else {
			cov["request:same-account"]++
		}
		if c.ResourcePolicy != nil {
			if cross {
				cov["layer:resource-policy-cross-account"]++
			} else {
				cov["layer:resource-policy-same-account"]++
			}
		}
		if strings.Contains(c.Principal.ARN, ":assumed-role/") {
			cov["principal:role-session"]++
		} else {
			cov["principal:user"]++
		}
		for _, v := range c.Context {
			if len(v) > 1 {
				cov["context:multi-valued"]++
				break
			}
		}
		layers := []struct {
			name string
			pols []gPolicy
		}{{"identity", c.Identity}, {"boundary", c.Boundary}, {"scp", c.SCPs}}
		if c.ResourcePolicy != nil {
			layers = append(layers, struct {
				name string
				pols []gPolicy
			}{"resource", []gPolicy{*c.ResourcePolicy}})
		}
		for _, l := range layers {
			for _, pol := range l.pols {
				switch pol.Version {
				case "":
					cov["version:absent"]++
				case "2008-10-17":
					cov["version:2008-10-17"]++
				}
				for _, s := range pol.Statement {
					if s.Effect == "Deny" {
						cov["deny:"+l.name]++
					}
					coverStatement(cov, c, s)
				}
			}
		}
	}
	return cov
}

// resourceVariables are the forms of policy variable coverage counts in
// Resource and NotResource elements.
var resourceVariables = map[string]string{
	"aws:username": "${aws:username", "aws:PrincipalTag": "${aws:PrincipalTag/",
	"default": ", '", "escape-*": "${*}", "escape-?": "${?}",
}

func coverStatement(cov map[string]int, c *genCase, s gStmt) {
	count := func(elem string, v []string) {
		if v != nil {
			cov["element:"+elem]++
		}
	}
	count("Action", s.Action)
	count("NotAction", s.NotAction)
	count("Resource", s.Resource)
	count("NotResource", s.NotResource)
	if len(s.Conds) > 0 {
		cov["element:Condition"]++
	}
	if s.Principal != nil {
		cov["element:Principal"]++
		coverPrincipal(cov, c, s.Principal)
	}
	if s.NotPrincipal != nil {
		cov["element:NotPrincipal"]++
	}
	for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
		switch {
		case strings.Contains(a, "*"):
			cov["action:*"]++
		case strings.Contains(a, "?"):
			cov["action:?"]++
		case a != c.Action && strings.EqualFold(a, c.Action):
			cov["action:case-differs"]++
		}
	}
	for _, r := range append(append([]string{}, s.Resource...), s.NotResource...) {
		switch {
		case strings.Contains(r, "${"):
			for label, v := range resourceVariables {
				if strings.Contains(r, v) {
					cov["variable:"+label]++
				}
			}
		case strings.Contains(r, "*"):
			cov["resource:*"]++
		case strings.Contains(r, "?"):
			cov["resource:?"]++
		case r != c.Resource && strings.EqualFold(r, c.Resource):
			cov["resource:case-differs"]++
		}
	}
	for _, cd := range s.Conds {
		base, set, ifExists := splitOperator(cd.Op)
		vals, present := c.Context[canonicalKey(cd.Key)]
		state := "absent"
		switch {
		case len(vals) > 1:
			state = "multi-valued"
		case present:
			state = "present"
		}
		cov["operator:"+base]++
		cov["operator:"+base+":key-"+map[bool]string{true: "present", false: "absent"}[present]]++
		if ifExists {
			cov["operator:"+base+"IfExists"]++
			cov["qualifier:IfExists:key-"+state]++
		}
		if set != "" {
			cov["qualifier:"+set+":key-"+state]++
		}
		for _, v := range cd.Values {
			if s, ok := v.(string); ok && strings.Contains(s, "${") {
				cov["variable:in-condition"]++
			}
		}
	}
}

func coverPrincipal(cov map[string]int, c *genCase, p any) {
	if p == "*" {
		cov["principal-element:*"]++
		return
	}
	m := p.(map[string]any)
	for typ, v := range m {
		vals, ok := v.([]string)
		if !ok {
			vals = []string{v.(string)}
		}
		for _, x := range vals {
			switch {
			case typ == "Service":
				cov["principal-element:service"]++
			case x == "*":
				cov["principal-element:AWS-*"]++
			case len(x) == 12:
				cov["principal-element:account-id"]++
			case strings.HasSuffix(x, ":root"):
				cov["principal-element:account-root-arn"]++
			case x == c.Principal.ARN:
				cov["principal-element:caller-arn"]++
			case x == c.Principal.RoleARN:
				cov["principal-element:role-of-session"]++
			default:
				cov["principal-element:other-arn"]++
			}
		}
	}
}

// splitOperator takes "ForAnyValue:StringLikeIfExists" apart.
func splitOperator(op string) (base, set string, ifExists bool) {
	if s, rest, ok := strings.Cut(op, ":"); ok {
		set, op = s, rest
	}
	base, ifExists = strings.CutSuffix(op, "IfExists")
	return base, set, ifExists
}

// canonicalKey returns the spelling genKeys uses for a key written in any
// case.
func canonicalKey(k string) string {
	for _, gk := range genKeys {
		if strings.EqualFold(gk.Name, k) {
			return gk.Name
		}
	}
	return k
}

// checkCoverage fails when an element, operator or situation the test is
// meant to exercise did not occur, so the generator cannot silently stop
// producing it. The counts are logged with -v.
func checkCoverage(t *testing.T, cov map[string]int, n int) {
	t.Helper()
	want := []string{
		"layer:several-identity-policies", "layer:permissions-boundary", "layer:scp",
		"layer:resource-policy-same-account", "layer:resource-policy-cross-account",
		"request:same-account", "request:cross-account", "principal:user", "principal:role-session",
		"deny:identity", "deny:boundary", "deny:scp", "deny:resource",
		"element:Action", "element:NotAction", "element:Resource", "element:NotResource",
		"element:Principal", "element:NotPrincipal", "element:Condition",
		"principal-element:*", "principal-element:AWS-*", "principal-element:account-id",
		"principal-element:account-root-arn", "principal-element:caller-arn", "principal-element:role-of-session",
		"principal-element:other-arn", "principal-element:service",
		"action:*", "action:?", "action:case-differs",
		"resource:*", "resource:?", "resource:case-differs",
		"variable:aws:username", "variable:aws:PrincipalTag", "variable:default", "variable:escape-*", "variable:escape-?", "variable:in-condition",
		"version:2008-10-17", "version:absent",
		"context:multi-valued",
		"qualifier:ForAllValues:key-present", "qualifier:ForAllValues:key-absent", "qualifier:ForAllValues:key-multi-valued",
		"qualifier:ForAnyValue:key-present", "qualifier:ForAnyValue:key-absent", "qualifier:ForAnyValue:key-multi-valued",
		"qualifier:IfExists:key-present", "qualifier:IfExists:key-absent", "qualifier:IfExists:key-multi-valued",
		"decision:allowed", "decision:explicitDeny", "decision:implicitDeny",
	}
	var ops []string
	for _, typ := range []string{"String", "Numeric", "Date", "Bool", "Binary", "IP", "ARN"} {
		ops = append(ops, genOperators[typ]...)
	}
	for _, op := range ops {
		want = append(want, "operator:"+op, "operator:"+op+"IfExists",
			"operator:"+op+":key-present", "operator:"+op+":key-absent")
	}
	want = append(want, "operator:Null", "operator:Null:key-present", "operator:Null:key-absent")

	for _, k := range want {
		if cov[k] == 0 {
			t.Errorf("coverage: no case has %s; the generator must produce it", k)
		}
	}
	// Every decision must be common, or agreement says little.
	for _, d := range []string{"allowed", "explicitDeny", "implicitDeny"} {
		if cov["decision:"+d] < n/20 {
			t.Errorf("coverage: only %d of %d cases are %s by the oracle; want at least 5%%", cov["decision:"+d], n, d)
		}
	}
	keys := make([]string, 0, len(cov))
	for k := range cov {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-52s %6d\n", k, cov[k])
	}
	t.Logf("coverage:\n%s", b.String())
}

// knownDifferences is testdata/oracle/known-differences.json: the classes of
// case on which the oracle and Evaluate are known to disagree, each with the
// side that follows AWS's documentation and where the documentation says so.
type knownDifferences struct {
	About       string            `json:"about"`
	Differences []knownDifference `json:"differences"`
}

// knownDifference is one entry. ID names the rule in knownDifferenceRules
// that recognises the class's cases; Class says in words what those cases
// are; Follows is "ours" when Evaluate follows AWS's documentation there (an
// entry where the oracle does is a bug to fix in Evaluate, not to record), or
// "undocumented" when the documentation does not decide; Doc is the
// documentation's address; Why explains the two answers.
type knownDifference struct {
	ID      string `json:"id"`
	Class   string `json:"class"`
	Follows string `json:"follows"`
	Doc     string `json:"doc"`
	Why     string `json:"why"`
}

func loadKnownDifferences(t *testing.T) *knownDifferences {
	t.Helper()
	b, err := os.ReadFile(knownDiffFile)
	if err != nil {
		t.Fatal(err)
	}
	var k knownDifferences
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("%s: %v", knownDiffFile, err)
	}
	seen := map[string]bool{}
	for _, d := range k.Differences {
		switch {
		case seen[d.ID]:
			t.Fatalf("%s: %q is listed twice", knownDiffFile, d.ID)
		case knownDifferenceRules[d.ID] == nil:
			t.Fatalf("%s: %q has no rule in knownDifferenceRules (differential_test.go)", knownDiffFile, d.ID)
		case d.Follows == "oracle":
			t.Fatalf("%s: %q: where the oracle follows AWS's documentation and Evaluate does not, fix Evaluate instead of recording the difference", knownDiffFile, d.ID)
		case d.Follows != "ours" && d.Follows != "undocumented":
			t.Fatalf("%s: %q: follows is %q; want \"ours\" (Evaluate follows AWS's documentation) or \"undocumented\" (AWS's documentation does not decide; why says which reading Evaluate takes)", knownDiffFile, d.ID, d.Follows)
		case !strings.HasPrefix(d.Doc, "https://docs.aws.amazon.com/"):
			t.Fatalf("%s: %q: doc must be the address of AWS's documentation that decides it", knownDiffFile, d.ID)
		case d.Class == "" || d.Why == "":
			t.Fatalf("%s: %q: class and why must say what the cases are and why the sides differ", knownDiffFile, d.ID)
		}
		seen[d.ID] = true
	}
	return &k
}

// explain returns the ID of the first entry whose rule matches the case, or
// "".
func (k *knownDifferences) explain(c *genCase) string {
	for _, d := range k.Differences {
		if knownDifferenceRules[d.ID](c) {
			return d.ID
		}
	}
	return ""
}

// knownDifferenceRules recognise the cases of each known difference. A rule
// must be as narrow as the difference: it looks for the construct that makes
// the engines differ, in a statement whose action could apply, so that it
// cannot hide an unrelated disagreement in a case that merely contains it.
var knownDifferenceRules = map[string]func(*genCase) bool{
	// A '*' that ends an ARN segment may match beyond the colons that
	// follow; the oracle matches each of the six segments on its own.
	"arn-segment-trailing-wildcard": func(c *genCase) bool {
		if c.Resource == "*" {
			return false
		}
		return anyStatement(c, func(_ string, _ gPolicy, s gStmt) bool {
			for _, p := range append(append([]string{}, s.Resource...), s.NotResource...) {
				if !strings.Contains(p, "${") && glob(p, c.Resource, false) != segmentGlob(p, c.Resource) {
					return true
				}
			}
			return false
		})
	},
	// The oracle compares epoch seconds with ISO 8601 dates read as
	// milliseconds.
	"date-epoch-and-iso8601": func(c *genCase) bool {
		return anyCondition(c, func(base string, cd gCond, req []string) bool {
			if !strings.HasPrefix(base, "Date") {
				return false
			}
			for _, rv := range req {
				for _, pv := range cd.Values {
					if s, ok := pv.(string); ok && allDigits(rv) != allDigits(s) {
						return true
					}
				}
			}
			return false
		})
	},
	// The oracle's 0.0.0.0/0 matches only 0.0.0.0 (a 32-bit shift by 32).
	"ipv4-cidr-slash-zero": func(c *genCase) bool {
		return anyCondition(c, func(base string, cd gCond, req []string) bool {
			return strings.HasSuffix(base, "IpAddress") && len(req) > 0 && slices.Contains(cd.Values, any("0.0.0.0/0"))
		})
	},
	// NotIpAddress: an IPv6 address is not the IPv4 address listed, so the
	// condition holds; the oracle answers false.
	"ipv6-request-against-ipv4-address": func(c *genCase) bool {
		return anyCondition(c, func(base string, cd gCond, req []string) bool {
			if base != "NotIpAddress" || len(req) == 0 || !strings.Contains(req[0], ":") {
				return false
			}
			for _, v := range cd.Values {
				if s, ok := v.(string); ok && !strings.Contains(s, "/") && !strings.Contains(s, ":") {
					return true
				}
			}
			return false
		})
	},
	// Without Version 2012-10-17, ${...} is literal text; the oracle
	// substitutes it anyway.
	"policy-variables-before-2012-10-17": func(c *genCase) bool {
		return anyStatement(c, func(_ string, p gPolicy, s gStmt) bool {
			if p.Version == "2012-10-17" {
				return false
			}
			b, _ := json.Marshal(s)
			return strings.Contains(string(b), "${")
		})
	},
	// The oracle takes the text up to the first '/' or ':' of the resource
	// part as the resource type, and so splits ${aws:RequestTag/env} at
	// its colon when it opens the resource part (SQS queues, SNS topics).
	"variable-where-resource-type-starts": func(c *genCase) bool {
		return anyStatement(c, func(_ string, _ gPolicy, s gStmt) bool {
			for _, p := range append(append([]string{}, s.Resource...), s.NotResource...) {
				f := strings.SplitN(p, ":", 6)
				if len(f) < 6 || f[2] == "s3" {
					continue
				}
				i, j := strings.Index(f[5], "${"), strings.IndexAny(f[5], "/:")
				if i >= 0 && j > i {
					return true
				}
			}
			return false
		})
	},
	// ArnNotEquals/ArnNotLike with a variable that cannot be resolved: AWS
	// makes the statement invalid (Evaluate: it does not apply); the oracle
	// notices the variable only when the ARN's other parts match.
	"negated-arn-operator-with-unresolved-variable": func(c *genCase) bool {
		return anyCondition(c, func(base string, cd gCond, req []string) bool {
			if (base != "ArnNotEquals" && base != "ArnNotLike") || len(req) == 0 {
				return false
			}
			for _, v := range cd.Values {
				if s, ok := v.(string); ok && hasUnresolvedVariable(s, c.Context) {
					return true
				}
			}
			return false
		})
	},
	// A resource policy's "*" principal, same account, with a permissions
	// boundary: the oracle lets the grant bypass the boundary as if it named
	// the caller's ARN; Evaluate treats it like a role ARN.
	"wildcard-principal-with-boundary": func(c *genCase) bool {
		if len(c.Boundary) == 0 || c.ResourcePolicy == nil || c.Principal.Account != c.ResourceAccount {
			return false
		}
		for _, s := range c.ResourcePolicy.Statement {
			if s.Effect == "Allow" && wildcardPrincipal(s.Principal) && actionApplies(s, c.Action) {
				return true
			}
		}
		return false
	},
}

// anyStatement reports whether f holds for a statement, of any policy of the
// case, whose Action or NotAction covers the requested action: only those
// can make the engines differ.
func anyStatement(c *genCase, f func(layer string, p gPolicy, s gStmt) bool) bool {
	check := func(layer string, pols []gPolicy) bool {
		for _, p := range pols {
			for _, s := range p.Statement {
				if actionApplies(s, c.Action) && f(layer, p, s) {
					return true
				}
			}
		}
		return false
	}
	if check("identity", c.Identity) || check("boundary", c.Boundary) || check("scp", c.SCPs) {
		return true
	}
	return c.ResourcePolicy != nil && check("resource", []gPolicy{*c.ResourcePolicy})
}

// anyCondition reports whether f holds for a condition of an applicable
// statement; base is its operator without qualifiers, req the request's
// values of its key.
func anyCondition(c *genCase, f func(base string, cd gCond, req []string) bool) bool {
	return anyStatement(c, func(_ string, _ gPolicy, s gStmt) bool {
		for _, cd := range s.Conds {
			base, _, _ := splitOperator(cd.Op)
			if f(base, cd, c.Context[canonicalKey(cd.Key)]) {
				return true
			}
		}
		return false
	})
}

// actionApplies: the statement's Action, or NotAction, covers action.
func actionApplies(s gStmt, action string) bool {
	hit := func(pats []string) bool {
		for _, p := range pats {
			if glob(p, action, true) {
				return true
			}
		}
		return false
	}
	if s.Action != nil {
		return hit(s.Action)
	}
	return !hit(s.NotAction)
}

// glob matches s against a pattern of * and ? wildcards, the whole string at
// once (a * spans any characters). It is the test's own, so that the rules
// do not lean on the code under test.
func glob(p, s string, fold bool) bool {
	if fold {
		p, s = strings.ToLower(p), strings.ToLower(s)
	}
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if glob(p[1:], s[i:], false) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && glob(p[1:], s[1:], false)
	}
	return s != "" && p[0] == s[0] && glob(p[1:], s[1:], false)
}

// segmentGlob matches an ARN pattern against an ARN segment by segment, the
// way the oracle does: six colon-separated parts, a pattern with fewer parts
// padded with "*".
func segmentGlob(p, s string) bool {
	pf, sf := strings.SplitN(p, ":", 6), strings.SplitN(s, ":", 6)
	if len(sf) != 6 {
		return glob(p, s, false)
	}
	for len(pf) < 6 {
		pf = append(pf, "*")
	}
	for i := range sf {
		if !glob(pf[i], sf[i], false) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// hasUnresolvedVariable reports whether s holds a ${key} with no default
// whose key the context lacks (or holds several values of).
func hasUnresolvedVariable(s string, ctx map[string][]string) bool {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return false
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return false
		}
		body := s[i+2 : i+j]
		s = s[i+j+1:]
		if body == "*" || body == "?" || body == "$" || strings.Contains(body, ",") {
			continue
		}
		if len(ctx[canonicalKey(strings.TrimSpace(body))]) != 1 {
			return true
		}
	}
}

func wildcardPrincipal(p any) bool {
	if p == "*" {
		return true
	}
	m, ok := p.(map[string]any)
	if !ok {
		return false
	}
	switch v := m["AWS"].(type) {
	case string:
		return v == "*"
	case []string:
		return slices.Contains(v, "*")
	}
	return false
}
