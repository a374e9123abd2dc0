package sandbox

import (
	"regexp"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// Roles: CRUD with IAM's validation (trust policy grammar and size, session
// duration range, description), managed policy attachments and tags.
// Inline role policies and role boundaries live in inline.go.
var roleActions = map[string]action{
	"CreateRole":             {mutates: true, run: createRole},
	"GetRole":                {run: getRole},
	"ListRoles":              {run: listRoles},
	"UpdateRole":             {mutates: true, run: updateRole},
	"UpdateRoleDescription":  {mutates: true, run: updateRoleDescription},
	"UpdateAssumeRolePolicy": {mutates: true, run: updateAssumeRolePolicy},
	"DeleteRole":             {mutates: true, run: deleteRole},
}

// IAM's MaxSessionDuration range (1 to 12 hours); the minimum is the default.
const (
	minSessionDuration = 3600
	maxSessionDuration = 43200
)

// descriptionPattern is IAM's roleDescriptionType pattern.
var descriptionPattern = regexp.MustCompile("^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$")

// xmlRole is IAM's Role structure. Its first and last elements are also
// those of GetAccountAuthorizationDetails' RoleDetail (authRole), which
// has others between.
type xmlRole struct {
	roleHead
	Description        string `xml:"Description,omitempty"`
	MaxSessionDuration int    `xml:"MaxSessionDuration"`
	roleTail
}

type roleHead struct {
	Path                     string  `xml:"Path"`
	RoleName                 string  `xml:"RoleName"`
	RoleId                   string  `xml:"RoleId"`
	Arn                      string  `xml:"Arn"`
	CreateDate               isoTime `xml:"CreateDate"`
	AssumeRolePolicyDocument string  `xml:"AssumeRolePolicyDocument"`
}

type roleTail struct {
	PermissionsBoundary *xmlBoundary     `xml:"PermissionsBoundary,omitempty"`
	Tags                members[Tag]     `xml:"Tags,omitempty"`
	RoleLastUsed        *xmlRoleLastUsed `xml:"RoleLastUsed,omitempty"`
}

// xmlRoleLastUsed is IAM's RoleLastUsed: present (possibly empty) in GetRole
// even for a role never used, as IAM sends it.
type xmlRoleLastUsed struct {
	LastUsedDate *isoTime `xml:"LastUsedDate,omitempty"`
	Region       string   `xml:"Region,omitempty"`
}

// roleXML renders a role. full is the GetRole/CreateRole shape; list
// actions (ListRoles, and the roles inside an instance profile) pass false
// and, like IAM, leave out tags, boundary and last use — the trust policy
// stays in both.
func (s *Server) roleXML(r *Role, full bool) xmlRole {
	x := xmlRole{
		roleHead: roleHead{
			Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN(s.id),
			CreateDate:               isoTime(r.Created),
			AssumeRolePolicyDocument: urlEncodedDoc(r.TrustPolicy),
		},
		Description:        r.Description,
		MaxSessionDuration: r.MaxSessionDuration,
	}
	if full {
		x.PermissionsBoundary = boundaryXML(r.Boundary)
		x.Tags = r.Tags
		x.RoleLastUsed = &xmlRoleLastUsed{LastUsedDate: optTime(r.LastUsed), Region: r.LastUsedRegion}
	}
	return x
}

// roleResult is the result of every action answering with one full role.
type roleResult struct {
	Role xmlRole `xml:"Role"`
}

// checkDescription reads an optional role Description (≤1000 characters of
// IAM's allowed set).
func checkDescription(p params) (string, *Error) {
	v := p.str("Description")
	if utf8.RuneCountInString(v) > 1000 {
		return "", errValidation("1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000", v)
	}
	if !descriptionPattern.MatchString(v) {
		return "", errValidation(`1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`, v)
	}
	return v, nil
}

// checkTrust validates a trust policy parameter: a trust policy grammar
// (Principal required, only STS actions) and IAM's 2,048-character quota.
func checkTrust(p params, param string) (string, *Error) {
	return checkDocument(p, param, policy.Trust, trustPolicyLimit, "ACLSizePerRole")
}

// sessionDuration reads MaxSessionDuration; def is what an absent value
// means (the default on create, the current value on update).
func sessionDuration(p params, def int) (int, *Error) {
	return p.integer("MaxSessionDuration", def, minSessionDuration, maxSessionDuration)
}

func createRole(s *Server, c *call) (any, *Error) {
	name, path, err := nameAndPath(c.params, "RoleName", iamname.RoleNameMax)
	if err != nil {
		return nil, err
	}
	trust, err := checkTrust(c.params, "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(c.params)
	if err != nil {
		return nil, err
	}
	dur, err := sessionDuration(c.params, minSessionDuration)
	if err != nil {
		return nil, err
	}
	tags, err := c.tags()
	if err != nil {
		return nil, err
	}
	a := s.acct
	if err := roomFor(a.Roles, name, "Role with name %s already exists.", s.quotas.Roles, "RolesPerAccount"); err != nil {
		return nil, err
	}
	r := &Role{Name: name, Path: path, ID: newID("AROA"), Created: c.now, TrustPolicy: trust,
		Description: desc, MaxSessionDuration: dur, Tags: tags}
	// Last, so that a refused boundary leaves no count behind.
	if b := c.str("PermissionsBoundary"); b != "" {
		if err := s.setBoundary(&r.Boundary, b); err != nil {
			return nil, err
		}
	}
	a.Roles[key(name)] = r
	return roleResult{s.roleXML(r, true)}, nil
}

func getRole(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	return roleResult{s.roleXML(r, true)}, nil
}

func listRoles(s *Server, c *call) (any, *Error) {
	all, pg, err := underPath(s, s.acct.Roles, func(r *Role) string { return r.Path }, c.params)
	if err != nil {
		return nil, err
	}
	return listOf("Roles", all, func(r *Role) string { return key(r.Name) }, pg, s.roleListXML)
}

// roleListXML renders a role in the list shape.
func (s *Server) roleListXML(r *Role) xmlRole { return s.roleXML(r, false) }

// updateRole changes only what was sent; IAM answers with an empty
// UpdateRoleResult element, hence the empty struct.
func updateRole(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(c.params)
	if err != nil {
		return nil, err
	}
	dur, err := sessionDuration(c.params, r.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	if c.has("Description") {
		r.Description = desc
	}
	r.MaxSessionDuration = dur
	return struct{}{}, nil
}

func updateRoleDescription(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	// Required, but may be empty (which clears it), so c.required won't do.
	if !c.has("Description") {
		return nil, errValidation("1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null")
	}
	desc, err := checkDescription(c.params)
	if err != nil {
		return nil, err
	}
	r.Description = desc
	return roleResult{s.roleXML(r, true)}, nil
}

func updateAssumeRolePolicy(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	trust, err := checkTrust(c.params, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	r.TrustPolicy = trust
	return nil, nil
}

func deleteRole(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	// IAM refuses while anything still hangs off the role.
	switch {
	case len(s.acct.instanceProfilesOf(r.Name)) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	case len(r.Attached) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	case len(r.Inline) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	s.clearBoundary(&r.Boundary)
	delete(s.acct.Roles, key(r.Name))
	delete(s.acct.ServiceUse, r.ID) // as for users: the history is the entity's
	return nil, nil
}

// roleParam reads and resolves the RoleName parameter.
func roleParam(s *Server, c *call) (*Role, *Error) {
	return named(c, "RoleName", iamname.RoleNameMax, s.acct.role)
}
