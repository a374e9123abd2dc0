package sandbox

import "strconv"

// GetAccountAuthorizationDetails: every user, group, role and managed
// policy with everything that grants permissions, in one paged snapshot.
//
// IAM pages the four lists as one sequence (users, then groups, then
// roles, then policies), MaxItems counting entries across them. The marker
// is the next entry's kind and sort key, so that a page boundary survives
// entities being added or removed between calls, as paginate's markers do.

// authFilters are the Filter values, in the order their entries are paged.
var authFilters = []string{"User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"}

// authInline is IAM's PolicyDetail: an inline policy, its document URL-encoded.
type authInline struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type authUser struct {
	Path                    string               `xml:"Path"`
	UserName                string               `xml:"UserName"`
	UserId                  string               `xml:"UserId"`
	Arn                     string               `xml:"Arn"`
	CreateDate              isoTime              `xml:"CreateDate"`
	UserPolicyList          members[authInline]  `xml:"UserPolicyList"`
	GroupList               members[string]      `xml:"GroupList"`
	AttachedManagedPolicies members[attachedXML] `xml:"AttachedManagedPolicies"`
	PermissionsBoundary     *xmlBoundary         `xml:"PermissionsBoundary,omitempty"`
	Tags                    members[Tag]         `xml:"Tags,omitempty"`
}

type authGroup struct {
	Path                    string               `xml:"Path"`
	GroupName               string               `xml:"GroupName"`
	GroupId                 string               `xml:"GroupId"`
	Arn                     string               `xml:"Arn"`
	CreateDate              isoTime              `xml:"CreateDate"`
	GroupPolicyList         members[authInline]  `xml:"GroupPolicyList"`
	AttachedManagedPolicies members[attachedXML] `xml:"AttachedManagedPolicies"`
}

// authRole is IAM's RoleDetail: a Role's first and last elements (see
// xmlRole) around the role's instance profiles and policies.
type authRole struct {
	roleHead
	InstanceProfileList     members[xmlInstanceProfile] `xml:"InstanceProfileList"`
	RolePolicyList          members[authInline]         `xml:"RolePolicyList"`
	AttachedManagedPolicies members[attachedXML]        `xml:"AttachedManagedPolicies"`
	roleTail
}

// authPolicy is IAM's ManagedPolicyDetail: the Policy structure without
// tags (xmlPolicy leaves them out when empty), then every version with its
// document.
type authPolicy struct {
	xmlPolicy
	PolicyVersionList members[xmlPolicyVersion] `xml:"PolicyVersionList"`
}

type authDetails struct {
	UserDetailList  members[authUser]   `xml:"UserDetailList"`
	GroupDetailList members[authGroup]  `xml:"GroupDetailList"`
	RoleDetailList  members[authRole]   `xml:"RoleDetailList"`
	Policies        members[authPolicy] `xml:"Policies"`
	IsTruncated     bool                `xml:"IsTruncated"`
	Marker          string              `xml:"Marker,omitempty"`
}

// authEntry is one entry of the combined sequence: its position (kind
// digit, NUL, sort key within the kind) and how it renders into a page.
type authEntry struct {
	pos string
	add func(*authDetails)
}

func getAccountAuthorizationDetails(s *Server, c *call) (any, *Error) {
	want, err := authFilter(c.list("Filter"))
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	entries := s.authEntries(want)
	page, truncated, marker, err := paginate(entries, func(e authEntry) string { return e.pos }, pg)
	if err != nil {
		return nil, err
	}
	out := &authDetails{IsTruncated: truncated, Marker: marker}
	for _, e := range page {
		e.add(out)
	}
	return out, nil
}

// authFilter validates Filter values; none means every kind.
func authFilter(values []string) (map[string]bool, *Error) {
	want := map[string]bool{}
	for _, v := range values {
		known := false
		for _, f := range authFilters {
			known = known || v == f
		}
		if !known {
			return nil, errValidation("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]", v)
		}
		want[v] = true
	}
	if len(values) == 0 {
		for _, f := range authFilters {
			want[f] = true
		}
	}
	return want, nil
}

// authEntries lists the selected entities in paging order.
func (s *Server) authEntries(want map[string]bool) []authEntry {
	a := s.acct
	var out []authEntry
	pos := func(kind int, k string) string { return strconv.Itoa(kind) + "\x00" + k }
	if want["User"] {
		for _, u := range sorted(s, a.Users) {
			out = append(out, authEntry{pos(0, key(u.Name)), func(d *authDetails) { d.UserDetailList = append(d.UserDetailList, s.authUser(u)) }})
		}
	}
	if want["Group"] {
		for _, g := range sorted(s, a.Groups) {
			out = append(out, authEntry{pos(1, key(g.Name)), func(d *authDetails) { d.GroupDetailList = append(d.GroupDetailList, s.authGroup(g)) }})
		}
	}
	if want["Role"] {
		for _, r := range sorted(s, a.Roles) {
			out = append(out, authEntry{pos(2, key(r.Name)), func(d *authDetails) { d.RoleDetailList = append(d.RoleDetailList, s.authRole(r)) }})
		}
	}
	for _, p := range sorted(s, a.Policies) {
		// IAM reports the customer managed policies all, and of the many
		// AWS managed ones only those in use in the account.
		if p.AWSManaged && (!want["AWSManagedPolicy"] || p.AttachmentCount+p.BoundaryCount == 0) ||
			!p.AWSManaged && !want["LocalManagedPolicy"] {
			continue
		}
		out = append(out, authEntry{pos(3, p.ARN), func(d *authDetails) { d.Policies = append(d.Policies, authManaged(p)) }})
	}
	return out
}

func authInlines(list []InlinePolicy) members[authInline] {
	out := make(members[authInline], len(list))
	for i, p := range list {
		out[i] = authInline{PolicyName: p.Name, PolicyDocument: urlEncodedDoc(p.Document)}
	}
	return out
}

// authAttached names a principal's attached policies in attach order.
func (s *Server) authAttached(arns []string) members[attachedXML] {
	out := make(members[attachedXML], 0, len(arns))
	for _, arn := range arns {
		if p := s.acct.Policies[arn]; p != nil {
			out = append(out, attachedXML{PolicyName: p.Name, PolicyArn: arn})
		}
	}
	return out
}

func (s *Server) authUser(u *User) authUser {
	var groups members[string]
	for _, g := range s.acct.groupsOf(u.Name) {
		groups = append(groups, g.Name)
	}
	return authUser{
		Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN(s.id), CreateDate: isoTime(u.Created),
		UserPolicyList: authInlines(u.Inline), GroupList: groups, AttachedManagedPolicies: s.authAttached(u.Attached),
		PermissionsBoundary: boundaryXML(u.Boundary), Tags: u.Tags,
	}
}

func (s *Server) authGroup(g *Group) authGroup {
	return authGroup{
		Path: g.Path, GroupName: g.Name, GroupId: g.ID, Arn: g.ARN(s.id), CreateDate: isoTime(g.Created),
		GroupPolicyList: authInlines(g.Inline), AttachedManagedPolicies: s.authAttached(g.Attached),
	}
}

func (s *Server) authRole(r *Role) authRole {
	var profiles members[xmlInstanceProfile]
	for _, ip := range s.acct.instanceProfilesOf(r.Name) {
		profiles = append(profiles, s.instanceProfileXML(ip, true))
	}
	full := s.roleXML(r, true)
	return authRole{
		roleHead: full.roleHead, InstanceProfileList: profiles,
		RolePolicyList: authInlines(r.Inline), AttachedManagedPolicies: s.authAttached(r.Attached),
		roleTail: full.roleTail,
	}
}

func authManaged(p *ManagedPolicy) authPolicy {
	x := policyXML(p, false)
	x.Description = p.Description
	return authPolicy{x, membersOf(p.Versions, func(v *PolicyVersion) xmlPolicyVersion { return versionXML(p, v, true) })}
}
