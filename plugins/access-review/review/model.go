package review

import (
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The account as the checks see it: principals with every policy that
// grants them permissions, resolved once from the authorization details.

// Policy types of evidence.
const (
	ptAWS      = "aws-managed"
	ptCustomer = "customer-managed"
	ptInline   = "inline"
	ptBoundary = "permissions-boundary"
	ptTrust    = "trust"
)

// policyRef is one policy a principal has, and how it has it.
type policyRef struct {
	doc     *docInfo
	typ     string // ptAWS, ptCustomer, ptInline
	name    string
	arn     string // managed policies
	version string // managed policies: the default version
	via     *principal
	owner   *principal // the principal the policy is attached to or written on
}

// label names the policy in evidence: an ARN, or an inline policy's name.
func (r *policyRef) label() string {
	if r.arn != "" {
		return r.arn
	}
	return r.name
}

// viaText says how a principal has the policy ("group Admins"), "" when
// the policy is its own.
func (r *policyRef) viaText() string {
	if r.via == nil {
		return ""
	}
	return string(r.via.kind) + " " + r.via.name
}

// managed is a managed policy of the account.
type managed struct {
	detail     *api.ManagedPolicyDetail
	aws        bool
	version    string
	doc        *docInfo // the default version's document; nil when absent
	attached   []*principal
	boundaryOf []*principal
}

func (m *managed) typ() string {
	if m.aws {
		return ptAWS
	}
	return ptCustomer
}

// principal is a user, group or role.
type principal struct {
	kind          Kind
	name, arn     string
	path          string
	created       time.Time
	user          *api.UserDetail
	group         *api.GroupDetail
	role          *api.RoleDetail
	own           []*policyRef // attached and inline on the principal itself
	groups        []*principal // a user's groups
	boundary      *policyRef
	set           *policySet // users and roles: the effective policy set
	inScope       bool
	missingGroups []string
}

// effective is every identity policy of the principal: its own and, for a
// user, its groups'.
func (p *principal) effective() []*policyRef {
	out := append([]*policyRef(nil), p.own...)
	for _, g := range p.groups {
		for _, r := range g.own {
			rr := *r
			rr.via = g
			out = append(out, &rr)
		}
	}
	return out
}

// refsFor returns the principal's policies whose document is the docInfo
// with the given id: the evidence for a statement the engine matched.
func (p *principal) refsFor(id int) []*policyRef {
	var out []*policyRef
	for _, r := range p.effective() {
		if r.doc != nil && r.doc.id == id {
			out = append(out, r)
		}
	}
	return out
}

// model is the resolved account.
type model struct {
	users, groups, roles []*principal
	byARN                map[string]*principal
	policies             []*managed
	policyByARN          map[string]*managed
	inline               int
	missing              []string // policies attached to someone but absent from the details
}

// buildModel resolves the authorization details: managed policies by ARN
// with their default version, then groups, users and roles with their
// policies, and each user's and role's effective policy set.
func buildModel(auth *api.AuthorizationDetailsOutput, e *engine, cfg *config, partition string) *model {
	m := &model{byARN: map[string]*principal{}, policyByARN: map[string]*managed{}}
	if auth == nil {
		return m
	}
	awsPrefix := "arn:" + partition + ":iam::aws:policy/"
	for i := range auth.Policies {
		pd := &auth.Policies[i]
		mp := &managed{detail: pd, aws: strings.HasPrefix(pd.Arn, awsPrefix)}
		for _, v := range pd.Versions {
			if v.IsDefaultVersion || (mp.doc == nil && v.VersionID == pd.DefaultVersionID) {
				if len(v.Document) > 0 {
					mp.doc, mp.version = e.doc(string(v.Document)), v.VersionID
				}
			}
		}
		m.policies = append(m.policies, mp)
		m.policyByARN[pd.Arn] = mp
	}
	missing := map[string]bool{}
	attach := func(p *principal, list []api.AttachedPolicy) {
		for _, a := range list {
			mp := m.policyByARN[a.PolicyArn]
			if mp == nil {
				if !missing[a.PolicyArn] {
					missing[a.PolicyArn] = true
					m.missing = append(m.missing, a.PolicyArn)
				}
				continue
			}
			mp.attached = append(mp.attached, p)
			p.own = append(p.own, &policyRef{doc: mp.doc, typ: mp.typ(), name: mp.detail.PolicyName, arn: mp.detail.Arn, version: mp.version, owner: p})
		}
	}
	inline := func(p *principal, list []api.InlinePolicy) {
		for _, ip := range list {
			m.inline++
			p.own = append(p.own, &policyRef{doc: e.doc(string(ip.PolicyDocument)), typ: ptInline, name: ip.PolicyName, owner: p})
		}
	}
	boundary := func(p *principal, arn string) {
		if arn == "" {
			return
		}
		mp := m.policyByARN[arn]
		if mp == nil {
			if !missing[arn] {
				missing[arn] = true
				m.missing = append(m.missing, arn)
			}
			return
		}
		mp.boundaryOf = append(mp.boundaryOf, p)
		p.boundary = &policyRef{doc: mp.doc, typ: ptBoundary, name: mp.detail.PolicyName, arn: arn, version: mp.version, owner: p}
	}
	groupByName := map[string]*principal{}
	for i := range auth.Groups {
		g := &auth.Groups[i]
		p := &principal{kind: KindGroup, name: g.GroupName, arn: g.Arn, path: g.Path, created: g.CreateDate, group: g}
		attach(p, g.AttachedPolicies)
		inline(p, g.InlinePolicies)
		p.inScope = cfg.wants(KindGroup) && cfg.inPath(p.path)
		m.groups = append(m.groups, p)
		m.byARN[p.arn] = p
		groupByName[g.GroupName] = p
	}
	for i := range auth.Users {
		u := &auth.Users[i]
		p := &principal{kind: KindUser, name: u.UserName, arn: u.Arn, path: u.Path, created: u.CreateDate, user: u}
		attach(p, u.AttachedPolicies)
		inline(p, u.InlinePolicies)
		boundary(p, u.PermissionsBoundary)
		for _, gn := range u.Groups {
			if g := groupByName[gn]; g != nil {
				p.groups = append(p.groups, g)
			} else {
				p.missingGroups = append(p.missingGroups, gn)
			}
		}
		p.inScope = cfg.wants(KindUser) && cfg.inPath(p.path)
		m.users = append(m.users, p)
		m.byARN[p.arn] = p
	}
	for i := range auth.Roles {
		r := &auth.Roles[i]
		p := &principal{kind: KindRole, name: r.RoleName, arn: r.Arn, path: r.Path, created: r.CreateDate, role: r}
		attach(p, r.AttachedPolicies)
		inline(p, r.InlinePolicies)
		boundary(p, r.PermissionsBoundary)
		p.inScope = cfg.wants(KindRole) && cfg.inPath(p.path)
		m.roles = append(m.roles, p)
		m.byARN[p.arn] = p
	}
	for _, p := range append(append([]*principal(nil), m.users...), m.roles...) {
		var docs []*docInfo
		for _, r := range p.effective() {
			if r.doc != nil {
				docs = append(docs, r.doc)
			}
		}
		var b *docInfo
		if p.boundary != nil {
			b = p.boundary.doc
		}
		p.set = e.set(docs, b)
	}
	sort.Strings(m.missing)
	return m
}

// policyInScope reports whether findings about a managed policy belong in
// the review: the scope asks for policies (under the path prefix, for a
// customer managed policy), or the policy is attached to a principal the
// review covers.
func (m *model) policyInScope(mp *managed, cfg *config) bool {
	if cfg.wants(KindPolicy) && (mp.aws || cfg.inPath(mp.detail.Path)) {
		if cfg.pathPrefix == "" || !mp.aws {
			return true
		}
	}
	for _, p := range mp.attached {
		if p.inScope {
			return true
		}
	}
	return false
}
