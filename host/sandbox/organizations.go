package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/strictjson"
)

// AWS Organizations, read-only: what an access review and account
// discovery need, over Organizations' own protocol (awsJson1_1: a POST
// with X-Amz-Target: AWSOrganizationsV20161128.<Op>, a JSON body and a
// JSON answer; errors as {"__type":"<Code>","Message":"…"} with status
// 400, as Organizations sends them).
//
// Only the management account's principals may call it, as in AWS (a
// member's get AccessDeniedException); a sandbox that is no organisation
// answers AWSOrganizationsNotInUseException. Request bodies are decoded
// strictly (decodeOrgRequest): capped, each member named exactly as the
// API spells it, unknown members refused.

const (
	orgTargetPrefix = "AWSOrganizationsV20161128."
	jsonContentType = "application/x-amz-json-1.1"
	// maxJSONBody caps an Organizations request body: the largest request
	// the sandbox takes is a few ids and a token.
	maxJSONBody = 64 << 10
	// orgMaxResults is Organizations' MaxResults range, 1 to 20, and the
	// page size when none is asked.
	orgMaxResults = 20
)

// orgErr is an Organizations error: a code, a message, and for
// InvalidInputException the Reason member Organizations adds.
type orgErr struct {
	Code, Message, Reason string
	Status                int
}

func newOrgErr(code, msg string) *orgErr { return &orgErr{Code: code, Message: msg, Status: 400} }

func invalidInput(reason, msg string) *orgErr {
	return &orgErr{Code: "InvalidInputException", Reason: reason, Message: msg, Status: 400}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = 500, []byte(`{"__type":"ServiceException","Message":"The sandbox could not encode the response."}`)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeOrgErr(w http.ResponseWriter, e *orgErr) {
	body := map[string]string{"__type": e.Code, "Message": capMessage(e.Message)}
	if e.Reason != "" {
		body["Reason"] = e.Reason
	}
	writeJSON(w, e.Status, body)
}

// fromAPIErr turns an error of the sandbox's shared checks (a refused
// key, a fault, the front) into Organizations' shape, code kept.
func fromAPIErr(e *Error) *orgErr { return &orgErr{Code: e.Code, Message: e.Message, Status: e.Status} }

// ---- requests ----

// orgPage is the paging every list takes.
type orgPage struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

type (
	orgNoInput      struct{}
	orgListInput    struct{ orgPage }
	orgAccountInput struct {
		AccountId string `json:"AccountId"`
	}
	orgChildrenInput struct {
		orgPage
		ParentId  string `json:"ParentId"`
		ChildType string `json:"ChildType"`
	}
	orgParentsInput struct {
		orgPage
		ChildId string `json:"ChildId"`
	}
	orgForParentInput struct {
		orgPage
		ParentId string `json:"ParentId"`
	}
	orgPoliciesInput struct {
		orgPage
		Filter string `json:"Filter"`
	}
	orgPolicyInput struct {
		PolicyId string `json:"PolicyId"`
	}
	orgTargetsInput struct {
		orgPage
		PolicyId string `json:"PolicyId"`
	}
	orgPoliciesForTargetInput struct {
		orgPage
		TargetId string `json:"TargetId"`
		Filter   string `json:"Filter"`
	}
)

// orgOps maps each operation the sandbox serves to a new value of its
// input type.
var orgOps = map[string]func() any{
	"DescribeOrganization":             func() any { return &orgNoInput{} },
	"ListAccounts":                     func() any { return &orgListInput{} },
	"DescribeAccount":                  func() any { return &orgAccountInput{} },
	"ListRoots":                        func() any { return &orgListInput{} },
	"ListChildren":                     func() any { return &orgChildrenInput{} },
	"ListParents":                      func() any { return &orgParentsInput{} },
	"ListOrganizationalUnitsForParent": func() any { return &orgForParentInput{} },
	"ListAccountsForParent":            func() any { return &orgForParentInput{} },
	"ListPolicies":                     func() any { return &orgPoliciesInput{} },
	"DescribePolicy":                   func() any { return &orgPolicyInput{} },
	"ListTargetsForPolicy":             func() any { return &orgTargetsInput{} },
	"ListPoliciesForTarget":            func() any { return &orgPoliciesForTargetInput{} },
}

// decodeOrgRequest decodes the body of an Organizations operation into its
// input type: one JSON object (an empty body is {}), each member once and
// spelled as the API spells it; anything else is refused with a message
// that says which member, without echoing the body.
func decodeOrgRequest(op string, body []byte) (any, *orgErr) {
	mk, ok := orgOps[op]
	if !ok {
		return nil, newOrgErr("UnknownOperationException", fmt.Sprintf("The sandbox does not serve the Organizations operation %s; it serves %s.", short(op), strings.Join(orgOpNames(), ", ")))
	}
	if len(body) > maxJSONBody {
		return nil, &orgErr{Code: "RequestEntityTooLarge", Status: 413, Message: fmt.Sprintf("The request body exceeds %d bytes.", maxJSONBody)}
	}
	in := mk()
	if len(strings.TrimSpace(string(body))) == 0 {
		return in, nil
	}
	if err := strictjson.Unmarshal(body, in); err != nil {
		var unknown *strictjson.UnknownKeyError
		if errors.As(err, &unknown) {
			return nil, newOrgErr("SerializationException", fmt.Sprintf("%s: %s; %s takes only the members the Organizations API names.", op, shortErr(err), op))
		}
		return nil, newOrgErr("SerializationException", fmt.Sprintf("%s: the request body is not the operation's JSON input: %s", op, shortErr(err)))
	}
	return in, nil
}

func orgOpNames() []string {
	out := make([]string, 0, len(orgOps))
	for k := range orgOps {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- serving ----

// serveJSON answers one Organizations request (the front has let it in).
// as is MemberTransport's account, nil otherwise.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, as *Server) {
	fail := func(e *orgErr) {
		s.log.Debug("sandbox error", "code", e.Code, "message", e.Message)
		writeOrgErr(w, e)
	}
	target := r.Header.Get("X-Amz-Target")
	op, found := strings.CutPrefix(target, orgTargetPrefix)
	if !found {
		fail(newOrgErr("UnknownOperationException", fmt.Sprintf("The sandbox serves no JSON operation %s; it serves AWS Organizations (X-Amz-Target: %s<Operation>).", short(target), orgTargetPrefix)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(&orgErr{Code: "RequestEntityTooLarge", Status: 413, Message: fmt.Sprintf("The request body exceeds %d bytes.", maxJSONBody)})
			return
		}
		fail(newOrgErr("SerializationException", fmt.Sprintf("The request body could not be read: %v", err)))
		return
	}
	in, oe := decodeOrgRequest(op, body)
	if oe != nil {
		fail(oe)
		return
	}
	if e := s.faults.before(r.Context()); e != nil {
		fail(fromAPIErr(e))
		return
	}
	keyID, signedFor, region := signer(r)
	now := s.now().UTC()
	at, sess, e := s.route(r, keyID, now, as)
	if e != nil {
		fail(fromAPIErr(e))
		return
	}
	if as != nil {
		keyID = ""
	}
	// The caller's key is checked and its use recorded as for any request.
	c := &call{now: now, accessKeyID: keyID, session: sess}
	if _, e := at.run(action{run: func(*Server, *call) (any, *Error) { return nil, nil }}, c,
		use{signedFor: signedFor, region: region, service: "organizations", action: op, record: true}); e != nil {
		fail(fromAPIErr(e))
		return
	}
	o := s.realm.org
	switch {
	case o == nil:
		fail(newOrgErr("AWSOrganizationsNotInUseException", "Your account is not a member of an organization."))
		return
	case at != s.realm.mgmt:
		fail(newOrgErr("AccessDeniedException", "You don't have permissions to access this resource."))
		return
	}
	out, oe := o.serve(op, in, s.realm.created)
	if oe != nil {
		fail(oe)
		return
	}
	s.log.Debug("sandbox", "action", op, "key", keyID, "ok", true)
	writeJSON(w, http.StatusOK, out)
}

// ---- answers ----

type orgPolicyType struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

var scpEnabled = []orgPolicyType{{"SERVICE_CONTROL_POLICY", "ENABLED"}}

type orgAccountOut struct {
	Id, Arn, Email, Name string
	Status, State        string
	JoinedMethod         string
	JoinedTimestamp      float64
}

type orgIDType struct {
	Id   string `json:"Id"`
	Type string `json:"Type"`
}

type orgPolicySummary struct {
	Id, Arn, Name, Description, Type string
	AwsManaged                       bool
}

// serve runs one operation on the organisation. created is when the
// organisation (and every account in it) is reported as created.
func (o *organization) serve(op string, in any, created float64) (any, *orgErr) {
	switch v := in.(type) {
	case *orgNoInput:
		m := o.account(o.mgmtID)
		return map[string]any{"Organization": map[string]any{
			"Id": o.id, "Arn": o.arnOrg(), "FeatureSet": "ALL",
			"MasterAccountArn": o.arn("account", o.mgmtID), "MasterAccountId": o.mgmtID, "MasterAccountEmail": m.email,
			"AvailablePolicyTypes": scpEnabled,
		}}, nil
	case *orgAccountInput:
		if !accountIDPattern.MatchString(v.AccountId) {
			return nil, invalidInput("INVALID_PATTERN", "You provided a value that does not match the required pattern: AccountId is 12 digits.")
		}
		a := o.account(v.AccountId)
		if a == nil {
			return nil, newOrgErr("AccountNotFoundException", "You specified an account that doesn't exist.")
		}
		return map[string]any{"Account": o.accountOut(a, created)}, nil
	case *orgListInput:
		if op == "ListRoots" {
			root := map[string]any{"Id": o.rootID, "Arn": o.arn("root", o.rootID), "Name": "Root", "PolicyTypes": scpEnabled}
			return orgPageOf(op, v.orgPage, []any{root}, "Roots")
		}
		var all []any
		for i := range o.accounts {
			all = append(all, o.accountOut(&o.accounts[i], created))
		}
		return orgPageOf(op, v.orgPage, all, "Accounts")
	case *orgForParentInput:
		if e := o.checkParent(v.ParentId); e != nil {
			return nil, e
		}
		var all []any
		if op == "ListAccountsForParent" {
			for i := range o.accounts {
				if o.accounts[i].parent == v.ParentId {
					all = append(all, o.accountOut(&o.accounts[i], created))
				}
			}
			return orgPageOf(op, v.orgPage, all, "Accounts")
		}
		for _, u := range o.ous {
			if u.parent == v.ParentId {
				all = append(all, map[string]any{"Id": u.id, "Arn": o.arn("ou", u.id), "Name": u.name})
			}
		}
		return orgPageOf(op, v.orgPage, all, "OrganizationalUnits")
	case *orgChildrenInput:
		if e := o.checkParent(v.ParentId); e != nil {
			return nil, e
		}
		var all []any
		switch v.ChildType {
		case "ACCOUNT":
			for _, a := range o.accounts {
				if a.parent == v.ParentId {
					all = append(all, orgIDType{a.id, "ACCOUNT"})
				}
			}
		case "ORGANIZATIONAL_UNIT":
			for _, u := range o.ous {
				if u.parent == v.ParentId {
					all = append(all, orgIDType{u.id, "ORGANIZATIONAL_UNIT"})
				}
			}
		case "":
			return nil, invalidInput("INPUT_REQUIRED", "You must specify ChildType: ACCOUNT or ORGANIZATIONAL_UNIT.")
		default:
			return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for ChildType: it is ACCOUNT or ORGANIZATIONAL_UNIT.")
		}
		return orgPageOf(op, v.orgPage, all, "Children")
	case *orgParentsInput:
		parent := ""
		switch {
		case accountIDPattern.MatchString(v.ChildId):
			if a := o.account(v.ChildId); a != nil {
				parent = a.parent
			}
		case ouIDPattern.MatchString(v.ChildId):
			if u := o.ou(v.ChildId); u != nil {
				parent = u.parent
			}
		default:
			return nil, invalidInput("INVALID_PATTERN", "You provided a value that does not match the required pattern: ChildId is an account id (12 digits) or an OU id (ou-…).")
		}
		if parent == "" {
			return nil, newOrgErr("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		typ := "ORGANIZATIONAL_UNIT"
		if parent == o.rootID {
			typ = "ROOT"
		}
		return orgPageOf(op, v.orgPage, []any{orgIDType{parent, typ}}, "Parents")
	case *orgPoliciesInput:
		if e := checkFilter(v.Filter); e != nil {
			return nil, e
		}
		var all []any
		if v.Filter == "SERVICE_CONTROL_POLICY" {
			for _, p := range o.policies {
				all = append(all, o.policySummary(p))
			}
		}
		return orgPageOf(op, v.orgPage, all, "Policies")
	case *orgPolicyInput:
		p, e := o.policyByID(v.PolicyId)
		if e != nil {
			return nil, e
		}
		return map[string]any{"Policy": map[string]any{"PolicySummary": o.policySummary(p), "Content": p.document}}, nil
	case *orgTargetsInput:
		p, e := o.policyByID(v.PolicyId)
		if e != nil {
			return nil, e
		}
		var all []any
		for _, id := range p.targets {
			all = append(all, o.targetOut(id))
		}
		return orgPageOf(op, v.orgPage, all, "Targets")
	case *orgPoliciesForTargetInput:
		if !targetIDPattern.MatchString(v.TargetId) {
			return nil, invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a policy target ID that doesn't match the required pattern: a root (r-…), an OU (ou-…) or an account id (12 digits).")
		}
		if o.targetOut(v.TargetId) == nil {
			return nil, newOrgErr("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
		}
		if e := checkFilter(v.Filter); e != nil {
			return nil, e
		}
		var all []any
		if v.Filter == "SERVICE_CONTROL_POLICY" {
			for _, p := range o.policies {
				if contains(p.targets, v.TargetId) {
					all = append(all, o.policySummary(p))
				}
			}
		}
		return orgPageOf(op, v.orgPage, all, "Policies")
	}
	return nil, newOrgErr("ServiceException", "The sandbox has no handler for "+op)
}

// Organizations' id patterns.
var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	rootIDPattern    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	policyIDPattern  = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
	targetIDPattern  = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

// policyTypes are Organizations' policy types; only SCPs are enabled in
// the sandbox's organisation, so the others list nothing.
var policyTypes = []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "DECLARATIVE_POLICY_EC2", "BACKUP_POLICY", "TAG_POLICY", "CHATBOT_POLICY", "AISERVICES_OPT_OUT_POLICY", "SECURITYHUB_POLICY", "INSPECTOR_POLICY", "BEDROCK_POLICY", "S3_POLICY", "UPGRADE_ROLLOUT_POLICY", "NETWORK_SECURITY_DIRECTOR_POLICY"}

func checkFilter(f string) *orgErr {
	if f == "" {
		return invalidInput("INPUT_REQUIRED", "You must specify Filter, the policy type to list, e.g. SERVICE_CONTROL_POLICY.")
	}
	if !contains(policyTypes, f) {
		return invalidInput("INVALID_ENUM_POLICY_TYPE", fmt.Sprintf("You specified an invalid policy type %s; the sandbox's organisation has SERVICE_CONTROL_POLICY.", short(f)))
	}
	return nil
}

func (o *organization) checkParent(id string) *orgErr {
	switch {
	case rootIDPattern.MatchString(id):
		if id == o.rootID {
			return nil
		}
	case ouIDPattern.MatchString(id):
		if o.ou(id) != nil {
			return nil
		}
	default:
		return invalidInput("INVALID_PATTERN", "You provided a value that does not match the required pattern: ParentId is a root id (r-…) or an OU id (ou-…).")
	}
	return newOrgErr("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
}

func (o *organization) policyByID(id string) (*orgPolicy, *orgErr) {
	if !policyIDPattern.MatchString(id) {
		return nil, invalidInput("INVALID_SYNTAX_POLICY_ID", "You provided a policy ID that doesn't match the required pattern: p- and 8 to 128 letters, digits or _.")
	}
	for _, p := range o.policies {
		if p.id == id {
			return p, nil
		}
	}
	return nil, newOrgErr("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func (o *organization) accountOut(a *orgAccount, created float64) orgAccountOut {
	joined := "CREATED"
	if a.id == o.mgmtID {
		joined = "INVITED"
	}
	return orgAccountOut{Id: a.id, Arn: o.arn("account", a.id), Email: a.email, Name: a.name,
		Status: "ACTIVE", State: "ACTIVE", JoinedMethod: joined, JoinedTimestamp: created}
}

func (o *organization) policySummary(p *orgPolicy) orgPolicySummary {
	return orgPolicySummary{Id: p.id, Arn: p.arn(o), Name: p.name, Description: p.description, Type: "SERVICE_CONTROL_POLICY", AwsManaged: p.awsManaged}
}

// targetOut describes a policy target (PolicyTargetSummary), or nil when
// id is none of the organisation's.
func (o *organization) targetOut(id string) map[string]any {
	switch {
	case id == o.rootID:
		return map[string]any{"TargetId": id, "Arn": o.arn("root", id), "Name": "Root", "Type": "ROOT"}
	case o.ou(id) != nil:
		return map[string]any{"TargetId": id, "Arn": o.arn("ou", id), "Name": o.ou(id).name, "Type": "ORGANIZATIONAL_UNIT"}
	case o.account(id) != nil:
		return map[string]any{"TargetId": id, "Arn": o.arn("account", id), "Name": o.account(id).name, "Type": "ACCOUNT"}
	}
	return nil
}

// orgPageOf returns one page of all under name, with Organizations' paging:
// MaxResults 1 to 20 (20 when not sent), and a NextToken naming the
// operation and the position, so that a token is good for its own
// operation only. The structure never changes, so positions are stable.
func orgPageOf(op string, pg orgPage, all []any, name string) (any, *orgErr) {
	size := orgMaxResults
	if pg.MaxResults != nil {
		size = *pg.MaxResults
		if size < 1 {
			return nil, invalidInput("MIN_VALUE_EXCEEDED", fmt.Sprintf("You provided a value that is less than the minimum allowed value: MaxResults is 1 to %d, not %d.", orgMaxResults, size))
		}
		if size > orgMaxResults {
			return nil, invalidInput("MAX_VALUE_EXCEEDED", fmt.Sprintf("You provided a value that exceeds the maximum allowed value: MaxResults is 1 to %d, not %d.", orgMaxResults, size))
		}
	}
	start := 0
	if pg.NextToken != nil {
		var ok bool
		if start, ok = readToken(op, *pg.NextToken); !ok || start > len(all) {
			return nil, invalidInput("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.")
		}
	}
	end := min(start+size, len(all))
	items := all[start:end]
	if items == nil {
		items = []any{}
	}
	out := map[string]any{name: items}
	if end < len(all) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(end)))
	}
	return out, nil
}

func readToken(op, token string) (int, bool) {
	if len(token) > 256 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), op+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}
