package review

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
)

// Trust policy checks. Who may assume a role is decided the way AWS
// decides it, with a concrete outsider, never by which condition keys a
// policy happens to name: policy.TrustRisks evaluates an assume request of
// a principal outside the account (a role or user of another account, the
// named account's own principals, a token of a public identity provider
// minted by whoever likes) against the trust policy, with each condition
// decided as that caller would meet it, and says whether the grant is Open
// (nothing in the policy stops the caller). aws:SecureTransport,
// aws:PrincipalAccount like "*" or aws:PrincipalArn like
// arn:aws:iam::*:role/x stop nobody, so a trust that relies on them rates
// as the same trust without conditions. What TrustRisks does not judge —
// service principals steered by another account's resource, and OIDC
// providers that are not public (an EKS cluster's, a company's own) — is
// asked of policy.Evaluate here with the same kind of concrete request.

// References of the trust rules (the others are with the rule table).
const (
	docPrincipalOrgID = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid"
	docEKSIRSA        = "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"
)

// outsiderAccount is the account the outsider requests come from.
const outsiderAccount = "999999999999"

// passedRoleServices are service principals whose use of a role requires
// an identity of the role's own account to pass it (iam:PassRole) to a
// resource of that account: another account cannot steer them into the
// role, so the cross-service confused deputy does not apply, and some of
// them do not send aws:SourceAccount, so a condition on it would break the
// role.
var passedRoleServices = map[string]bool{
	"ec2.amazonaws.com": true, "lambda.amazonaws.com": true, "edgelambda.amazonaws.com": true,
	"ecs-tasks.amazonaws.com": true, "eks.amazonaws.com": true, "eks-fargate-pods.amazonaws.com": true,
	"batch.amazonaws.com": true, "states.amazonaws.com": true,
}

// pinningKeys are the condition keys that tie a cross-account assume to a
// caller: the external id a third party must present, or the caller's
// account, organisation, exact ARN or name. They are asked only once the
// engine has found that the conditions do stop an outsider, to tell a pin
// from a condition that merely narrows (a network, MFA, a date): whether a
// condition stops anyone at all is never read from its key's name.
var pinningKeys = []string{"sts:ExternalId", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn", "aws:PrincipalAccount",
	"aws:username", "aws:userid", "aws:SourceIdentity"}

// TrustRisks' finding kinds, as policy names them.
const (
	trustKindAnyone       = "anyone"
	trustKindOtherUncond  = "other-account-unconditioned"
	trustKindOtherAccount = "other-account"
	trustKindFedOpen      = "federated-open"
	trustKindFedOwner     = "federated-owner-wide"
)

// trustHit is one finding a trust policy gives, whichever role holds it.
type trustHit struct {
	rule   string
	stmt   *policy.Statement
	who    string   // the outside principal, the OIDC host or the service
	detail string   // evidence
	keys   []string // the conditions that restrict nothing (open), or that stop the outsider (not open)
	aud    string   // OIDC: the audience the fix pins
	owner  string   // OIDC, owner-wide: the organisation the sub names
	public bool     // OIDC: a public provider (anyone can obtain its tokens)
}

// trustAnalysis is what a trust policy text gives. Roles often share trust
// policies (every Lambda function's role trusts lambda.amazonaws.com the
// same way), so each distinct text is analysed once: none of the answers
// depends on which role holds it, since a trust policy applies to its
// role whatever its name.
type trustAnalysis struct {
	err  error
	hits []trustHit
}

// checkTrust runs the trust rules on every role in scope.
func (r *reviewCtx) checkTrust() {
	cache := map[string]*trustAnalysis{}
	public := map[string]bool{}
	for _, p := range r.m.roles {
		if !p.inScope || len(p.role.AssumeRolePolicyDocument) == 0 {
			continue
		}
		text := string(p.role.AssumeRolePolicyDocument)
		ta := cache[text]
		if ta == nil {
			ta = r.analyseTrust(text, public)
			cache[text] = ta
		}
		if ta.err != nil {
			r.notes = append(r.notes, fmt.Sprintf("the trust policy of role %s does not parse and was not checked: %v", p.name, ta.err))
			continue
		}
		for _, h := range ta.hits {
			r.trustFinding(p, text, h)
		}
	}
}

// analyseTrust asks the engine about one trust policy text. public caches
// which federated principals are public providers, across texts.
func (r *reviewCtx) analyseTrust(text string, public map[string]bool) *trustAnalysis {
	doc, err := policy.Parse(text)
	if err != nil {
		return &trustAnalysis{err: err}
	}
	ta := &trustAnalysis{}
	// Principals outside the account, and public identity providers, from
	// TrustRisks: its Open is the decision.
	for _, tf := range policy.TrustRisks(doc, r.account) {
		if tf.Statement < 0 || tf.Statement >= len(doc.Statements) {
			continue
		}
		st := &doc.Statements[tf.Statement]
		switch tf.Kind {
		case trustKindAnyone:
			if tf.Open {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustAnyone, stmt: st, who: tf.Principal, detail: tf.Message, keys: st.ConditionKeys()})
			} else {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustAnyoneCond, stmt: st, who: tf.Principal, detail: tf.Message, keys: stoppingKeys(doc, st)})
			}
		case trustKindOtherUncond, trustKindOtherAccount:
			if tf.Open {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustCrossAccount, stmt: st, who: tf.Principal, detail: tf.Message, keys: st.ConditionKeys()})
				continue
			}
			// Refused: by conditions (or a Deny) of some kind. A pin is
			// right; anything else narrows without naming the caller. A
			// Deny with no condition stops the account outright.
			keys := stoppingKeys(doc, st)
			if len(keys) > 0 && !anyKey(keys, pinningKeys) {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustCrossAccountCnd, stmt: st, who: tf.Principal, detail: tf.Message, keys: keys})
			}
		case trustKindFedOpen:
			host := oidcHost(tf.Principal)
			ta.hits = append(ta.hits, trustHit{rule: RuleTrustOIDCNoSub, stmt: st, who: host, detail: tf.Message, keys: st.ConditionKeys(), aud: firstAud(st, host), public: true})
		case trustKindFedOwner:
			host := oidcHost(tf.Principal)
			ta.hits = append(ta.hits, trustHit{rule: RuleTrustOIDCBroad, stmt: st, who: host, detail: tf.Message, keys: st.ConditionKeys(), aud: firstAud(st, host), owner: subOwner(st, host), public: true})
		}
	}
	role := "arn:" + r.partition + ":iam::" + r.account + ":role/any"
	for i := range doc.Statements {
		st := &doc.Statements[i]
		if st.Effect != "Allow" || st.Principal == nil {
			continue
		}
		one := &policy.Document{Version: doc.Version, Statements: []policy.Statement{*st}}
		trust := policy.Input{Resource: []policy.Source{{ID: "trust", Type: "resource", Doc: one}}}
		// OIDC providers TrustRisks does not judge (not public: an EKS
		// cluster's, a company's own identity provider): may a token of
		// the provider for any subject — any workload of the cluster, any
		// user of the IdP — assume the role? The audience the policy
		// expects is granted.
		for _, fed := range st.Principal.Values["Federated"] {
			host := oidcHost(fed)
			if !strings.Contains(fed, ":oidc-provider/") || host == "" || r.publicProvider(fed, public) {
				continue
			}
			aud := firstAud(st, host)
			res := policy.Evaluate(trust, policy.Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: role, Principal: fed,
				Context: map[string][]string{host + ":sub": {outsiderSubject}, host + ":aud": {aud}}})
			if res.Decision == policy.Allowed {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustOIDCBroad, stmt: st, who: host, aud: aud, keys: st.ConditionKeys(),
					detail: fmt.Sprintf("the policy engine allowed sts:AssumeRoleWithWebIdentity for a token of %s with sub %q (any subject); conditions: %s", host, outsiderSubject, orNone(st.ConditionKeys()))})
			}
		}
		// Services: may the service, acting for another account's
		// resource, assume the role?
		svcs := append([]string(nil), st.Principal.Values["Service"]...)
		sort.Strings(svcs)
		for _, svc := range svcs {
			if passedRoleServices[svc] {
				continue
			}
			prefix, _, _ := strings.Cut(svc, ".")
			res := policy.Evaluate(trust, policy.Request{Action: "sts:AssumeRole", Resource: role, Principal: svc, Context: map[string][]string{
				"aws:SourceAccount": {outsiderAccount},
				"aws:SourceArn":     {"arn:" + r.partition + ":" + prefix + ":us-east-1:" + outsiderAccount + ":outsider"},
			}})
			if res.Decision == policy.Allowed {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustServiceNoSource, stmt: st, who: svc,
					detail: "the policy engine allowed sts:AssumeRole by " + svc + " with aws:SourceAccount " + outsiderAccount + "; conditions: " + orNone(st.ConditionKeys())})
			}
		}
	}
	return ta
}

// publicProvider reports whether anyone can obtain tokens of the federated
// principal fed, by asking TrustRisks about a bare trust in it: the engine
// keeps the list of public providers (GitHub Actions, GitLab, Terraform
// Cloud, Cognito, Google, Facebook, Amazon), so the plugin does not keep a
// second one to drift.
func (r *reviewCtx) publicProvider(fed string, cache map[string]bool) bool {
	if v, ok := cache[fed]; ok {
		return v
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"Federated": fed}, "Action": "sts:AssumeRoleWithWebIdentity"}}})
	pub := false
	if d, err := policy.Parse(string(b)); err == nil {
		for _, tf := range policy.TrustRisks(d, r.account) {
			pub = pub || tf.Kind == trustKindFedOpen
		}
	}
	cache[fed] = pub
	return pub
}

// stoppingKeys are the condition keys that can have stopped an outsider
// through statement st: its own, and those of the document's Deny
// statements (a Deny with aws:PrincipalOrgID pins as well as an Allow
// with it).
func stoppingKeys(doc *policy.Document, st *policy.Statement) []string {
	seen := map[string]bool{}
	var out []string
	add := func(keys []string) {
		for _, k := range keys {
			if !seen[strings.ToLower(k)] {
				seen[strings.ToLower(k)] = true
				out = append(out, k)
			}
		}
	}
	add(st.ConditionKeys())
	for i := range doc.Statements {
		if doc.Statements[i].Effect == "Deny" {
			add(doc.Statements[i].ConditionKeys())
		}
	}
	return out
}

// oidcHost is the issuer of a federated principal: the host of an OIDC
// provider ARN, or the provider's name (accounts.google.com).
func oidcHost(fed string) string {
	if _, host, ok := strings.Cut(fed, ":oidc-provider/"); ok {
		return host
	}
	return fed
}

// firstAud is the audience a statement expects of host's tokens, or the
// one AWS documents for the provider.
func firstAud(st *policy.Statement, host string) string {
	if auds := condValues(st, host+":aud"); len(auds) > 0 {
		return auds[0]
	}
	return "sts.amazonaws.com"
}

// subOwner is the owner (organisation, group) a sub condition names
// literally, for the owner-wide fix.
func subOwner(st *policy.Statement, host string) string {
	for _, v := range condValues(st, host+":sub") {
		_, rest, ok := strings.Cut(v, ":")
		if !ok {
			continue
		}
		owner, _, _ := strings.Cut(rest, "/")
		if i := strings.IndexByte(owner, ':'); i >= 0 {
			owner = owner[:i]
		}
		if owner != "" && !strings.ContainsAny(owner, "*?") {
			return owner
		}
	}
	return ""
}

func trustEvidence(p *principal, st *policy.Statement, detail string) Evidence {
	return Evidence{Source: "trust_policy", Policy: "trust policy of " + p.name, PolicyType: ptTrust, Statement: intp(st.Index), Sid: st.Sid, Detail: detail}
}

// trustFinding reports one hit on one role, with the fixed trust policy as
// its plan, checked before it is shown (checkTrustPlan).
func (r *reviewCtx) trustFinding(p *principal, text string, h trustHit) {
	ev := []Evidence{trustEvidence(p, h.stmt, h.detail)}
	update := func(summary, note string, edit func(map[string]any)) func() Remediation {
		return func() Remediation {
			doc := editStatement(text, h.stmt.Index, edit)
			return Remediation{Summary: summary, Steps: []Step{
				step("update_assume_role_policy", map[string]any{"role_name": p.name, "policy_document": doc}, note)},
				Check: r.checkTrustPlan(text, doc, h)}
		}
	}
	externalID := setCondition("StringEquals", "sts:ExternalId", "<external id agreed with the owner of "+h.who+">")
	switch h.rule {
	case RuleTrustAnyone, RuleTrustAnyoneCond:
		name := func(s map[string]any) {
			delete(s, "NotPrincipal")
			s["Principal"] = map[string]any{"AWS": "<ARN of the role or user that must assume " + p.name + ", e.g. arn:" + r.partition + ":iam::" + r.account + ":role/NAME>"}
		}
		if h.rule == RuleTrustAnyone {
			msg := fmt.Sprintf("role %s can be assumed by any principal of any AWS account, with no condition", p.name)
			if len(h.keys) > 0 {
				msg = fmt.Sprintf("role %s can be assumed by any principal of any AWS account: its conditions on %s restrict nothing (the policy engine let a principal of another account through)", p.name, strings.Join(h.keys, ", "))
			}
			r.emit(h.rule, p.subject(), msg, ev, update("Name who may assume the role instead of everyone.", "replace the placeholder with the principals that need the role", name))
			return
		}
		what := "a Deny statement"
		if len(h.keys) > 0 {
			what = "conditions on " + strings.Join(h.keys, ", ")
		}
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s names every principal as trusted; the policy engine found that %s refuse a principal of another account, so the role is not open — check that they admit only the callers intended", p.name, what), ev,
			update("Name who may assume the role, so that its conditions are no longer all that stands between it and every AWS account.", "replace the placeholder with the principals that need the role; the conditions stay", name))
	case RuleTrustCrossAccount:
		if r.orgAccessRole(p, h.who) {
			r.emit(RuleTrustOrgAccess, p.subject(), fmt.Sprintf("role %s is the organisation's access role: the management account %s can assume it (AWS Organizations creates it with AdministratorAccess); review who in the management account can", p.name, r.org.mgmt), ev, fixed(Remediation{Summary: "Nothing to change if the organisation uses this role; limit who may assume roles in the management account, which administers this one through it.", Steps: []Step{}}))
			return
		}
		msg := fmt.Sprintf("role %s can be assumed from %s without any condition", p.name, h.who)
		if len(h.keys) > 0 {
			msg = fmt.Sprintf("role %s can be assumed from %s: its conditions on %s restrict nothing for a principal of that account (the policy engine let one through)", p.name, h.who, strings.Join(h.keys, ", "))
		}
		r.emit(h.rule, p.subject(), msg, ev,
			update("Require an external id (for a third party) or pin the caller with aws:PrincipalArn or aws:PrincipalOrgID.",
				"tell the other account's owner the external id; replace it with aws:PrincipalArn if the caller is one known role", externalID))
	case RuleTrustCrossAccountCnd:
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s can be assumed from %s under conditions on %s: the policy engine found that they stop some of its principals, but none pins the caller (sts:ExternalId, aws:PrincipalOrgID, aws:PrincipalArn)", p.name, h.who, strings.Join(h.keys, ", ")), ev,
			update("Add sts:ExternalId (third party) or aws:PrincipalArn / aws:PrincipalOrgID to the conditions.", "tell the other account's owner the external id", externalID))
	case RuleTrustOIDCNoSub:
		summary, note, edit := oidcFix(h)
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s accepts tokens of %s, which anyone can obtain, without pinning whose they are: the policy engine let a token the outsider mints for itself through", p.name, h.who), ev,
			update(summary, note, edit))
	case RuleTrustOIDCBroad:
		summary, note, edit := oidcFix(h)
		msg := fmt.Sprintf("role %s accepts tokens of %s for every repository or project of %s: anyone who can run a workflow in any of them gets the role", p.name, h.who, h.owner)
		if !h.public {
			msg = fmt.Sprintf("role %s accepts tokens of %s for any subject: every workload or user that provider issues tokens to gets the role", p.name, h.who)
		}
		r.emit(h.rule, p.subject(), msg, ev, update(summary, note, edit))
	case RuleTrustServiceNoSource:
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s trusts %s without tying it to this account: a request for another account's resource was allowed", p.name, h.who), ev,
			update("Add aws:SourceAccount (or aws:SourceArn of the resources that use the role).",
				"check first that "+h.who+" sends aws:SourceAccount when it assumes roles (its documentation says); a condition it does not send breaks the role",
				setCondition("StringEquals", "aws:SourceAccount", r.account)))
	}
}

// orgAccessRole reports whether p is the organisation's access role
// trusted by the management account (who names the trusted account, as
// TrustRisks does): the intended way in, reported once as such.
func (r *reviewCtx) orgAccessRole(p *principal, who string) bool {
	if r.org == nil || r.org.mgmt == "" || p.name != OrgAccessRoleName || r.account == r.org.mgmt {
		return false
	}
	return who == r.org.mgmt || strings.HasSuffix(who, ":iam::"+r.org.mgmt+":root")
}

// trustsOnlyManagement reports whether a role's trust policy lets in the
// management account's root and nothing else: the organisation's access
// role as AWS Organizations creates it.
func (r *reviewCtx) trustsOnlyManagement(p *principal) bool {
	if p == nil || p.role == nil || r.org == nil || r.org.mgmt == "" || r.account == r.org.mgmt {
		return false
	}
	d := r.e.doc(string(p.role.AssumeRolePolicyDocument))
	if d.doc == nil {
		return false
	}
	n := 0
	for _, st := range d.doc.Statements {
		if st.Effect != "Allow" {
			continue
		}
		if st.NotPrincipal != nil || st.Principal == nil || st.Principal.Wildcard || len(st.Principal.Values) != 1 {
			return false
		}
		for _, v := range st.Principal.Values["AWS"] {
			if acct, root := trustedAccount(v); acct != r.org.mgmt || !root {
				return false
			}
			n++
		}
	}
	return n > 0
}

// oidcFix is the condition that pins whose tokens count, in the shape the
// provider's tokens have. The decision that they are needed is the
// engine's; this only writes them.
func oidcFix(h trustHit) (summary, note string, edit func(map[string]any)) {
	sub := func(v string) func(map[string]any) { return setCondition("StringLike", h.who+":sub", v) }
	owner := "<org>"
	if h.owner != "" {
		owner = h.owner
	}
	switch h.who {
	case "token.actions.githubusercontent.com":
		return "Restrict " + h.who + ":sub to the repositories (and branches or environments) that deploy with this role.", "fill in the repository and branch",
			func(s map[string]any) {
				sub("repo:" + owner + "/<repo>:ref:refs/heads/<branch>")(s)
				setCondition("StringEquals", h.who+":aud", "sts.amazonaws.com")(s)
			}
	case "gitlab.com":
		return "Restrict " + h.who + ":sub to the projects (and branches) that deploy with this role.", "fill in the project and branch",
			sub("project_path:" + strings.Trim(owner, "<>") + "/<project>:ref_type:branch:ref:<branch>")
	case "app.terraform.io":
		return "Restrict " + h.who + ":sub to the organisation, project and workspace that use this role.", "fill in the organisation, project and workspace",
			sub("organization:<organisation>:project:<project>:workspace:<workspace>:run_phase:*")
	case "cognito-identity.amazonaws.com":
		aud := "<identity pool id, e.g. us-east-1:…>"
		if v := h.aud; v != "sts.amazonaws.com" && !strings.ContainsAny(v, "*?") {
			aud = v
		}
		return "Require the identity pool (aud) and authenticated identities (amr), as AWS requires for Cognito.", "fill in the identity pool id",
			func(s map[string]any) {
				setCondition("StringEquals", h.who+":aud", aud)(s)
				setCondition("ForAnyValue:StringLike", h.who+":amr", "authenticated")(s)
			}
	case "accounts.google.com", "graph.facebook.com", "www.amazon.com":
		return "Require " + h.who + ":aud to be your application's client id.", "fill in the client id",
			setCondition("StringEquals", h.who+":aud", "<your application's client id>")
	}
	if !h.public && strings.Contains(h.who, "oidc.eks.") {
		return "Restrict " + h.who + ":sub to the Kubernetes service account that needs the role.", "fill in the namespace and service account",
			func(s map[string]any) {
				setCondition("StringEquals", h.who+":sub", "system:serviceaccount:<namespace>:<service account>")(s)
				setCondition("StringEquals", h.who+":aud", "sts.amazonaws.com")(s)
			}
	}
	return "Restrict " + h.who + ":sub to the workloads that need the role.", "fill in the subject",
		setCondition("StringEquals", h.who+":sub", "<the subject of the workload that needs the role>")
}

// checkTrustPlan checks a rewritten trust policy before it is shown: with
// each value in angle brackets replaced by a stand-in (a principal of this
// account, a literal), the document must pass the server's guardrails for
// trust policies, and the engine asked again must find the hit's risk gone
// and no new one.
func (r *reviewCtx) checkTrustPlan(oldText string, doc map[string]any, h trustHit) *PlanCheck {
	check := &PlanCheck{Result: CheckPasses}
	if doc == nil {
		check.Result = CheckRefused
		check.Problems = []string{"the trust policy could not be rewritten (it does not decode as a JSON object); edit it by hand"}
		return check
	}
	filled, holes := fillPlaceholders(oldText, doc, "arn:"+r.partition+":iam::"+r.account+":role/access-review-stand-in")
	text, err := json.Marshal(filled)
	if err != nil {
		check.Result = CheckRefused
		check.Problems = []string{"the rewritten trust policy does not encode: " + err.Error()}
		return check
	}
	var bad []string
	for _, f := range r.validate(string(text), policy.TrustPolicy, policy.ValidateOptions{SizeLimit: -1, Account: r.account}) {
		if f.Severity == policy.SeverityError || f.Severity == policy.SeveritySecurityWarning {
			bad = append(bad, string(f.Severity)+" "+f.Code+": "+f.Message)
		}
	}
	if len(bad) > 0 {
		check.Result = CheckRefused
		check.Problems = append(check.Problems, "the server's guardrails would refuse the new trust policy: "+capList(bad, 3))
	} else {
		check.Checks = append(check.Checks, "the new trust policy passes the server's guardrails for trust policies (no ERROR or SECURITY_WARNING)")
	}
	after := r.analyseTrust(string(text), map[string]bool{})
	var left []string
	for _, a := range after.hits {
		if a.rule == h.rule || rulesByID[a.rule].Severity > rulesByID[h.rule].Severity {
			left = append(left, a.rule+" ("+a.detail+")")
		}
	}
	switch {
	case after.err != nil:
		check.Result = CheckRefused
		check.Problems = append(check.Problems, "the new trust policy does not parse: "+after.err.Error())
	case len(left) > 0:
		check.Result = CheckRefused
		check.Problems = append(check.Problems, "asked again, the policy engine still finds "+capList(left, 2))
	default:
		check.Checks = append(check.Checks, "asked again with the same outsider, the policy engine finds "+h.rule+" gone and no trust risk as severe")
	}
	if len(holes) > 0 && check.Result == CheckPasses {
		check.Result = CheckNeedsInput
		check.Checks = append(check.Checks, "checked with stand-ins for the values in angle brackets, which a person fills in: "+capList(holes, 3))
	}
	return check
}

// angleValue matches a value in angle brackets, for a person to fill in.
var angleValue = regexp.MustCompile(`<[^<>]*>`)

// fillPlaceholders copies doc with its placeholders replaced by stand-ins:
// a principal ARN (arn) in Principal, "standin" in any other string. Only
// strings the plan wrote count: a value already in the old policy is the
// account's, even if it has angle brackets. It returns the copy and the
// placeholders found.
func fillPlaceholders(oldText string, doc map[string]any, arn string) (map[string]any, []string) {
	old := map[string]bool{}
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case string:
			old[x] = true
		case []any:
			for _, e := range x {
				collect(e)
			}
		case map[string]any:
			for _, e := range x {
				collect(e)
			}
		}
	}
	var od any
	if json.Unmarshal([]byte(oldText), &od) == nil {
		collect(od)
	}
	var holes []string
	var fill func(v any, inPrincipal bool) any
	fill = func(v any, inPrincipal bool) any {
		switch x := v.(type) {
		case string:
			if old[x] || !angleValue.MatchString(x) {
				return x
			}
			holes = append(holes, x)
			if inPrincipal {
				return arn
			}
			return angleValue.ReplaceAllString(x, "standin")
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = fill(e, inPrincipal)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = fill(e, inPrincipal || k == "Principal" || k == "NotPrincipal")
			}
			return out
		}
		return v
	}
	out, _ := fill(doc, false).(map[string]any)
	sort.Strings(holes)
	return out, holes
}

// outsiderSubject is a subject no legitimate workload has: allowed, it
// shows that the subject is not restricted at all. (Public providers'
// tokens are TrustRisks' to judge, with the subjects an outsider can mint.)
const outsiderSubject = "outsider-subject"

// condValues are the values a statement's conditions give a key, any
// operator.
func condValues(st *policy.Statement, key string) []string {
	var out []string
	for _, keys := range st.Condition {
		for k, v := range keys {
			if strings.EqualFold(k, key) {
				out = append(out, v...)
			}
		}
	}
	return out
}

// anyKey reports whether one of keys is one of want (condition keys are
// case-insensitive in IAM).
func anyKey(keys, want []string) bool {
	for _, k := range keys {
		for _, w := range want {
			if strings.EqualFold(k, w) {
				return true
			}
		}
	}
	return false
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// editStatement returns the document with one statement changed, as a JSON
// object for a plan's policy_document.
func editStatement(doc string, index int, edit func(map[string]any)) map[string]any {
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil
	}
	switch s := d["Statement"].(type) {
	case []any:
		if index < len(s) {
			if m, ok := s[index].(map[string]any); ok {
				edit(m)
			}
		}
	case map[string]any:
		if index == 0 {
			edit(s)
		}
	}
	return d
}

// setCondition makes operator → key → value the statement's only test of
// key: the key is first removed from every operator (IAM compares keys
// case-insensitively), so a test that restricted nothing — StringLike
// "repo:*", StringEqualsIfExists — cannot stay beside the new one, and an
// operator left empty goes.
func setCondition(op, key, value string) func(map[string]any) {
	return func(s map[string]any) {
		cond, _ := s["Condition"].(map[string]any)
		if cond == nil {
			cond = map[string]any{}
			s["Condition"] = cond
		}
		for name, v := range cond {
			keys, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for k := range keys {
				if strings.EqualFold(k, key) {
					delete(keys, k)
				}
			}
			if len(keys) == 0 {
				delete(cond, name)
			}
		}
		o, _ := cond[op].(map[string]any)
		if o == nil {
			o = map[string]any{}
			cond[op] = o
		}
		o[key] = value
	}
}
