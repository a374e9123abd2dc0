package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/policy"
)

// Trust policy checks. Who may assume a role is decided the way AWS
// decides it: policy.TrustRisks for principals outside the account, and
// policy.Evaluate of the trust policy (as the role's resource policy)
// against a request an outsider could make — a GitHub token from another
// organisation, a service acting for another account. A trust policy
// "restricts the subject" when the engine refuses the outsider's request,
// whatever operators or wildcards the conditions use.

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
// organisation or exact ARN.
var pinningKeys = []string{"sts:ExternalId", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn", "aws:SourceIdentity"}

// trustHit is one finding a trust policy gives, whichever role holds it.
type trustHit struct {
	rule   string
	stmt   *policy.Statement
	who    string // the outside principal, the OIDC host or the service
	detail string // evidence
	aud    string // OIDC: the audience the fix pins
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
	for _, p := range r.m.roles {
		if !p.inScope || len(p.role.AssumeRolePolicyDocument) == 0 {
			continue
		}
		text := string(p.role.AssumeRolePolicyDocument)
		ta := cache[text]
		if ta == nil {
			ta = r.analyseTrust(text)
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

// analyseTrust asks the engine about one trust policy text.
func (r *reviewCtx) analyseTrust(text string) *trustAnalysis {
	doc, err := policy.Parse(text)
	if err != nil {
		return &trustAnalysis{err: err}
	}
	ta := &trustAnalysis{}
	// Principals outside the account, from TrustRisks.
	for _, tf := range policy.TrustRisks(doc, r.account) {
		st := &doc.Statements[tf.Statement]
		switch tf.Kind {
		case "anyone":
			rule := RuleTrustAnyone
			if len(st.Condition) > 0 {
				rule = RuleTrustAnyoneCond
			}
			ta.hits = append(ta.hits, trustHit{rule: rule, stmt: st, who: tf.Principal, detail: tf.Message})
		case "other-account-unconditioned":
			ta.hits = append(ta.hits, trustHit{rule: RuleTrustCrossAccount, stmt: st, who: tf.Principal, detail: tf.Message})
		case "other-account":
			if !hasAnyKey(st, pinningKeys) {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustCrossAccountCnd, stmt: st, who: tf.Principal, detail: tf.Message})
			}
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
		// OIDC: may a token of the same provider, for an outsider's
		// workload (any subject), assume the role? The audience the policy
		// expects is granted (GitHub lets any workflow choose its own).
		for _, fed := range st.Principal.Values["Federated"] {
			_, host, ok := strings.Cut(fed, ":oidc-provider/")
			if !ok || host == "" {
				continue
			}
			aud := "sts.amazonaws.com"
			auds := condValues(st, host+":aud")
			if len(auds) > 0 {
				aud = auds[0]
			} else {
				auds = []string{aud}
			}
			res := policy.Evaluate(trust, policy.Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: role, Principal: fed,
				Context: map[string][]string{host + ":sub": {outsiderSubject(host)}, host + ":aud": auds}})
			if res.Decision == policy.Allowed {
				ta.hits = append(ta.hits, trustHit{rule: RuleTrustOIDCNoSub, stmt: st, who: host, aud: aud,
					detail: fmt.Sprintf("the policy engine allowed sts:AssumeRoleWithWebIdentity for a token with sub %q (another organisation's); conditions: %s", outsiderSubject(host), orNone(st.ConditionKeys()))})
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

func trustEvidence(p *principal, st *policy.Statement, detail string) Evidence {
	return Evidence{Source: "trust_policy", Policy: "trust policy of " + p.name, PolicyType: ptTrust, Statement: intp(st.Index), Sid: st.Sid, Detail: detail}
}

// trustFinding reports one hit on one role, with the fixed trust policy as
// its plan.
func (r *reviewCtx) trustFinding(p *principal, text string, h trustHit) {
	ev := []Evidence{trustEvidence(p, h.stmt, h.detail)}
	update := func(summary, note string, edit func(map[string]any)) func() Remediation {
		return func() Remediation {
			return Remediation{Summary: summary, Steps: []Step{
				step("update_assume_role_policy", map[string]any{"role_name": p.name, "policy_document": editStatement(text, h.stmt.Index, edit)}, note)}}
		}
	}
	externalID := addCondition("StringEquals", "sts:ExternalId", "<external id agreed with the owner of "+h.who+">")
	switch h.rule {
	case RuleTrustAnyone, RuleTrustAnyoneCond:
		plan := update("Name who may assume the role instead of everyone.", "replace the placeholder with the principals that need the role", func(s map[string]any) {
			delete(s, "NotPrincipal")
			s["Principal"] = map[string]any{"AWS": "<ARN of the role or user that must assume " + p.name + ", e.g. arn:" + r.partition + ":iam::" + r.account + ":role/NAME>"}
		})
		if h.rule == RuleTrustAnyone {
			r.emit(h.rule, p.subject(), fmt.Sprintf("role %s can be assumed by any principal of any AWS account, with no condition", p.name), ev, plan)
		} else {
			r.emit(h.rule, p.subject(), fmt.Sprintf("role %s can be assumed by anyone meeting conditions on %s", p.name, strings.Join(h.stmt.ConditionKeys(), ", ")), ev, plan)
		}
	case RuleTrustCrossAccount:
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s can be assumed from %s without any condition", p.name, h.who), ev,
			update("Require an external id (for a third party) or pin the caller with aws:PrincipalArn or aws:PrincipalOrgID.",
				"tell the other account's owner the external id; replace it with aws:PrincipalArn if the caller is one known role", externalID))
	case RuleTrustCrossAccountCnd:
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s can be assumed from %s under conditions on %s, none of which pins the caller", p.name, h.who, strings.Join(h.stmt.ConditionKeys(), ", ")), ev,
			update("Add sts:ExternalId (third party) or aws:PrincipalArn / aws:PrincipalOrgID to the conditions.", "", externalID))
	case RuleTrustOIDCNoSub:
		subj := "repo:<org>/<repo>:ref:refs/heads/<branch>"
		if h.who != "token.actions.githubusercontent.com" {
			subj = "<the subject of the workload that needs the role>"
		}
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s accepts tokens from %s for any subject: a token with sub %q was allowed", p.name, h.who, outsiderSubject(h.who)), ev,
			update("Restrict "+h.who+":sub to the repositories (and branches or environments) that deploy with this role.", "fill in the subject", func(s map[string]any) {
				addCondition("StringLike", h.who+":sub", subj)(s)
				addCondition("StringEquals", h.who+":aud", h.aud)(s)
			}))
	case RuleTrustServiceNoSource:
		r.emit(h.rule, p.subject(), fmt.Sprintf("role %s trusts %s without tying it to this account: a request for another account's resource was allowed", p.name, h.who), ev,
			update("Add aws:SourceAccount (or aws:SourceArn of the resources that use the role).",
				"check first that "+h.who+" sends aws:SourceAccount when it assumes roles (its documentation says); a condition it does not send breaks the role",
				addCondition("StringEquals", "aws:SourceAccount", r.account)))
	}
}

// outsiderSubject is a subject no legitimate workload has.
func outsiderSubject(host string) string {
	if host == "token.actions.githubusercontent.com" {
		return "repo:outsider-org/any-repo:ref:refs/heads/main"
	}
	return "outsider-subject"
}

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

func hasAnyKey(st *policy.Statement, keys []string) bool {
	for _, k := range st.ConditionKeys() {
		for _, want := range keys {
			if strings.EqualFold(k, want) {
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

// addCondition adds operator → key → value to a statement.
func addCondition(op, key, value string) func(map[string]any) {
	return func(s map[string]any) {
		cond, _ := s["Condition"].(map[string]any)
		if cond == nil {
			cond = map[string]any{}
			s["Condition"] = cond
		}
		o, _ := cond[op].(map[string]any)
		if o == nil {
			o = map[string]any{}
			cond[op] = o
		}
		if _, exists := o[key]; !exists {
			o[key] = value
		}
	}
}
