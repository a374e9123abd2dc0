package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// STS: AssumeRole and the role sessions it makes.
//
// AssumeRole is decided as AWS decides it, by the project's evaluator
// (policy.Evaluate): the role's trust policy is the resource policy; the
// caller's identity policies and permissions boundary are the identity
// side; the SCPs of the caller's account apply, one level at a time (see
// decideAssume). A trust policy that names the caller's ARN lets it in
// alone within the account; one that names the account needs the caller's
// identity policy to allow too; across accounts both must allow.
//
// A session is an access key id (ASIA…), a secret and a session token,
// valid until its expiration on the sandbox's clock (Options.Now). A
// request signed by the key acts in the role's account as the session: its
// token must come in X-Amz-Security-Token (header or query), or it is
// refused as STS refuses it (InvalidClientTokenId), and after its
// expiration it is refused with ExpiredToken. Sessions live in memory
// only: a restarted sandbox refuses the keys of the sessions it made
// before, as AWS refuses a key it does not know.

// session is one role session.
type session struct {
	keyID, secret, token string
	account              string // the role's account, where the session acts
	roleName, roleID     string
	roleARN              string
	name                 string // RoleSessionName
	expires              time.Time
}

// arn is the assumed-role ARN of the session.
func (ss *session) arn() string {
	return "arn:aws:sts::" + ss.account + ":assumed-role/" + ss.roleName + "/" + ss.name
}

// userID is what GetCallerIdentity and aws:userid say of the session.
func (ss *session) userID() string { return ss.roleID + ":" + ss.name }

// sessions are the live role sessions of a sandbox, by access key id.
type sessions struct {
	mu    sync.Mutex
	byKey map[string]*session
}

// maxSessions bounds the sessions kept: beyond it, expired ones are
// dropped, then the one that expires first. A client assuming roles in a
// loop cannot grow the sandbox's memory without bound.
const maxSessions = 100000

func (ss *sessions) get(keyID string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byKey[keyID]
}

func (ss *sessions) add(n *session, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byKey == nil {
		ss.byKey = map[string]*session{}
	}
	if len(ss.byKey) >= maxSessions {
		for k, s := range ss.byKey {
			if !now.Before(s.expires) {
				delete(ss.byKey, k)
			}
		}
	}
	if len(ss.byKey) >= maxSessions {
		var first *session
		for _, s := range ss.byKey {
			if first == nil || s.expires.Before(first.expires) {
				first = s
			}
		}
		delete(ss.byKey, first.keyID)
	}
	ss.byKey[n.keyID] = n
}

// errExpiredToken is STS's answer to a session key past its expiration.
func errExpiredToken() *Error {
	return apiErr("ExpiredToken", 403, "The security token included in the request is expired")
}

// route finds the account a request is served in, by its signing key
// (org.go): a session's key in its role's account, a key an account holds
// in that account, any other key in the management account. as, when not
// nil, is the account MemberTransport serves in, as its root: the key is
// then not looked at.
func (s *Server) route(r *http.Request, keyID string, now time.Time, as *Server) (*Server, *session, *Error) {
	rl := s.realm
	if as != nil {
		return as, nil, nil
	}
	if keyID == "" {
		return rl.mgmt, nil, nil
	}
	if ss := rl.sessions.get(keyID); ss != nil {
		token := r.Header.Get("X-Amz-Security-Token")
		if token == "" {
			token = r.URL.Query().Get("X-Amz-Security-Token")
		}
		if len(token) != len(ss.token) || token != ss.token {
			return nil, nil, errInvalidToken()
		}
		if !now.Before(ss.expires) {
			return nil, nil, errExpiredToken()
		}
		return rl.accounts[ss.account], ss, nil
	}
	// A temporary key the sandbox does not know (one of a sandbox that has
	// since restarted) is refused, as STS refuses it: taken for the
	// bootstrap, it would act as the root.
	if strings.HasPrefix(keyID, "ASIA") {
		return nil, nil, errInvalidToken()
	}
	for _, id := range rl.members {
		if m := rl.accounts[id]; m.holdsKey(keyID) {
			return m, nil, nil
		}
	}
	return rl.mgmt, nil, nil
}

// holdsKey reports whether the account holds (or deleted) the access key.
func (s *Server) holdsKey(keyID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keyOwner(keyID) != nil || findKey(s.acct.Root.AccessKeys, keyID) != nil || s.acct.deleted[keyID]
}

// ---- AssumeRole ----

// Parameters AssumeRole takes, as STS constrains them.
var (
	sessionNameChars = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDChars  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// assumeParams are what an AssumeRole request asks for.
type assumeParams struct {
	roleARN, sessionName string
	duration             int // seconds; 0: not sent
	externalID           string
	hasExternalID        bool
}

// assumeRoleParams reads AssumeRole's parameters, refusing what the
// sandbox does not do rather than ignore it: session policies would narrow
// the session, and a sandbox that dropped them would grant more than asked.
func assumeRoleParams(c *call) (assumeParams, *Error) {
	var p assumeParams
	for k := range c.form {
		switch {
		case k == "Action" || k == "Version" || k == "RoleArn" || k == "RoleSessionName" || k == "DurationSeconds" || k == "ExternalId":
		case k == "Policy" || strings.HasPrefix(k, "PolicyArns."):
			return p, errValidation("The sandbox does not take session policies (%s): it would have to narrow the session by them, and does not. Assume the role without Policy and PolicyArns, or give the role itself the narrower policy.", short(k))
		default:
			return p, errValidation("The sandbox does not take the AssumeRole parameter %s (it takes RoleArn, RoleSessionName, DurationSeconds and ExternalId); leave it out.", short(k))
		}
	}
	var err *Error
	if p.roleARN, err = c.required("RoleArn"); err != nil {
		return p, err
	}
	if n := len(p.roleARN); n < 20 || n > 2048 {
		return p, errValidation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048", capValue(p.roleARN))
	}
	if p.sessionName, err = c.required("RoleSessionName"); err != nil {
		return p, err
	}
	if n := len(p.sessionName); n < 2 || n > 64 {
		return p, errValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64", capValue(p.sessionName))
	}
	if !sessionNameChars.MatchString(p.sessionName) {
		return p, errValidation(`1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, capValue(p.sessionName))
	}
	if p.duration, err = c.integer("DurationSeconds", 0, 900, 43200); err != nil {
		return p, err
	}
	if p.hasExternalID = c.has("ExternalId"); p.hasExternalID {
		p.externalID = c.str("ExternalId")
		if n := len(p.externalID); n < 2 || n > 1224 {
			return p, errValidation("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224", capValue(p.externalID))
		}
		if !externalIDChars.MatchString(p.externalID) {
			return p, errValidation(`1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`, capValue(p.externalID))
		}
	}
	return p, nil
}

// capValue cuts a value quoted in a validation message; the message is
// capped on the wire too (capMessage), this keeps its end readable.
func capValue(v string) string {
	if len(v) > 128 {
		return v[:128] + "…"
	}
	return v
}

// caller is who signs an AssumeRole: what the evaluator needs of it.
type caller struct {
	root      bool
	arn       string // the user's or the session's ARN
	account   string
	identity  []policy.Source
	boundary  []policy.Source
	vars      map[string][]string
	chained   bool // a role session assuming a role
	principal string
}

// callerOf is the action that reads the caller of an AssumeRole in its
// account, under that account's read lock: it goes through run, so that
// a refused key is refused and a user key's use is recorded.
var callerOf = action{run: func(s *Server, c *call) (any, *Error) {
	who := &caller{account: s.id}
	switch {
	case c.session != nil:
		ss := c.session
		who.arn, who.chained = ss.arn(), true
		// The session has its role's policies as they are now: a role
		// deleted (or deleted and made again) since leaves it none.
		if r := s.acct.Roles[key(ss.roleName)]; r != nil && r.ID == ss.roleID {
			id, b, sub, err := s.principalPolicies(r.ARN(s.id))
			if err != nil {
				return nil, err
			}
			who.identity, who.boundary, who.vars = id, b, sub.vars
		} else {
			who.vars = map[string][]string{"aws:PrincipalArn": {ss.roleARN}, "aws:PrincipalAccount": {s.id}, "aws:PrincipalType": {"AssumedRole"}}
		}
		who.vars["aws:userid"] = []string{ss.userID()}
	default:
		u := s.keyOwner(c.accessKeyID)
		if u == nil {
			who.root = true
			who.arn = "arn:aws:iam::" + s.id + ":root"
			return who, nil
		}
		who.arn = u.ARN(s.id)
		id, b, sub, err := s.principalPolicies(who.arn)
		if err != nil {
			return nil, err
		}
		who.identity, who.boundary, who.vars = id, b, sub.vars
	}
	if o := s.realm.org; o != nil {
		who.vars["aws:PrincipalOrgID"] = []string{o.id}
	}
	return who, nil
}}

// assumeRole serves AssumeRole for a request served in account at (the
// caller's), outside every account lock: it reads the caller in its
// account, then the role in the role's, each under its own lock.
func (s *Server) assumeRole(at *Server, c *call, u use) (any, *Error) {
	p, err := assumeRoleParams(c)
	if err != nil {
		return nil, err
	}
	got, err := at.run(callerOf, c, u)
	if err != nil {
		return nil, err
	}
	who := got.(*caller)
	if who.root {
		return nil, apiErr("AccessDenied", 403, "Roles may not be assumed by root accounts.")
	}
	who.principal = who.arn
	denied := apiErr("AccessDenied", 403, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", who.arn, p.roleARN)
	a, ok := iamname.ParseARN(p.roleARN)
	if !ok || a.Type != "role" || !strings.HasPrefix(p.roleARN, "arn:aws:iam::") {
		return nil, errValidation("%s is not the ARN of a role, such as arn:aws:iam::123456789012:role/Name.", short(p.roleARN))
	}
	owner := s.realm.accounts[a.Account]
	if owner == nil {
		// A role of an account outside the sandbox does not exist here.
		return nil, denied
	}
	owner.mu.RLock()
	r := owner.acct.Roles[key(a.Name)]
	var role Role
	if r != nil && r.ARN(owner.id) == p.roleARN {
		role = *r
	}
	owner.mu.RUnlock()
	if role.ID == "" {
		return nil, denied
	}
	trust, perr := policy.Parse(role.TrustPolicy)
	if perr != nil {
		return nil, denied
	}
	if res := s.realm.decideAssume(who, p, role.ARN(owner.id), owner.id, trust); res.Decision != policy.Allowed {
		s.log.Debug("sandbox: AssumeRole refused", "caller", who.arn, "role", p.roleARN, "reason", res.Reason)
		return nil, denied
	}
	maxDur := role.MaxSessionDuration
	if maxDur == 0 {
		maxDur = 3600
	}
	dur := p.duration
	switch {
	case who.chained && dur > 3600:
		return nil, errValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case dur > maxDur:
		return nil, errValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	case dur == 0:
		dur = 3600
		if who.chained || maxDur < dur {
			dur = min(3600, maxDur)
		}
	}
	ss := &session{
		keyID: newSessionKeyID(), secret: newSecret(), token: newSessionToken(),
		account: owner.id, roleName: role.Name, roleID: role.ID, roleARN: role.ARN(owner.id),
		// Whole seconds, as the Expiration the client is told.
		name: p.sessionName, expires: c.now.Truncate(time.Second).Add(time.Duration(dur) * time.Second),
	}
	s.realm.sessions.add(ss, c.now)
	owner.noteRoleUse(role.Name, role.ID, c.now, u.region)

	type credentials struct {
		AccessKeyId     string  `xml:"AccessKeyId"`
		SecretAccessKey string  `xml:"SecretAccessKey"`
		SessionToken    string  `xml:"SessionToken"`
		Expiration      isoTime `xml:"Expiration"`
	}
	type assumedRoleUser struct {
		AssumedRoleId string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	return struct {
		Credentials     credentials     `xml:"Credentials"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	}{
		credentials{ss.keyID, ss.secret, ss.token, isoTime(ss.expires)},
		assumedRoleUser{ss.userID(), ss.arn()},
	}, nil
}

// decideAssume evaluates an AssumeRole, with the SCPs of the caller's
// account a level at a time (evaluateWithSCPs).
func (rl *realm) decideAssume(who *caller, p assumeParams, roleARN, roleAccount string, trust *policy.Document) policy.Result {
	ctx := make(map[string][]string, len(who.vars)+2)
	for k, v := range who.vars {
		ctx[k] = v
	}
	if p.hasExternalID {
		ctx["sts:ExternalId"] = []string{p.externalID}
	}
	in := policy.Input{
		Identity:   who.identity,
		Boundaries: who.boundary,
		Resource:   []policy.Source{{ID: "TrustPolicy", Type: "resource", Doc: trust}},
	}
	req := policy.Request{Action: "sts:AssumeRole", Resource: roleARN, Context: ctx,
		Principal: who.principal, PrincipalAccount: who.account, ResourceAccount: roleAccount}
	return evaluateWithSCPs(in, req, rl.org.scpLevels(who.account))
}

// noteRoleUse records a role's last use (GetRole's RoleLastUsed) when a
// session of it is made, as IAM does.
func (s *Server) noteRoleUse(name, id string, now time.Time, region string) {
	if region == "" {
		region = "us-east-1"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.acct.Roles[key(name)]
	if r == nil || r.ID != id {
		return
	}
	t := now.UTC()
	r.LastUsed, r.LastUsedRegion = &t, region
	s.changed()
	// Saved as the keys' last use is (persist.go): evidence of use.
	s.useUnsaved.Store(true)
	s.saveBookkeeping()
}

// newSessionKeyID mints a temporary access key id: ASIA and 16 characters,
// as STS's.
func newSessionKeyID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "ASIA" + string(b)
}

// newSessionToken mints a session token: long and random, as STS's are.
func newSessionToken() string {
	b := make([]byte, 264)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
