package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/policy"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Managed policies: customer managed policies and their versions, the AWS
// managed ones (readable and attachable, never changeable), attaching them to
// users, and the listings over them. Attaching to groups and roles belongs to
// those families; the counting that keeps AttachmentCount and
// PermissionsBoundaryUsageCount right is in attach.go.

var policyActions = map[string]action{
	"CreatePolicy":            {mutates: true, run: createPolicy},
	"GetPolicy":               {run: getPolicy},
	"ListPolicies":            {run: listPolicies},
	"DeletePolicy":            {mutates: true, run: deletePolicy},
	"CreatePolicyVersion":     {mutates: true, run: createPolicyVersion},
	"GetPolicyVersion":        {run: getPolicyVersion},
	"ListPolicyVersions":      {run: listPolicyVersions},
	"SetDefaultPolicyVersion": {mutates: true, run: setDefaultPolicyVersion},
	"DeletePolicyVersion":     {mutates: true, run: deletePolicyVersion},
	"ListEntitiesForPolicy":   {run: listEntitiesForPolicy},
}

// IAM's limits on managed policies.
const (
	maxPolicyVersions    = 5
	maxPolicyDescription = 1000
)

// xmlPolicy is IAM's Policy structure, in IAM's element order.
type xmlPolicy struct {
	PolicyName                    string       `xml:"PolicyName"`
	PolicyId                      string       `xml:"PolicyId"`
	Arn                           string       `xml:"Arn"`
	Path                          string       `xml:"Path"`
	DefaultVersionId              string       `xml:"DefaultVersionId"`
	AttachmentCount               int          `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int          `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool         `xml:"IsAttachable"`
	Description                   string       `xml:"Description,omitempty"`
	CreateDate                    isoTime      `xml:"CreateDate"`
	UpdateDate                    isoTime      `xml:"UpdateDate"`
	Tags                          members[Tag] `xml:"Tags,omitempty"`
}

// policyXML renders a policy; full is false for ListPolicies, which (as
// IAM documents) leaves out the description and the tags.
func policyXML(p *ManagedPolicy, full bool) xmlPolicy {
	x := xmlPolicy{
		PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.BoundaryCount, IsAttachable: true,
		CreateDate: isoTime(p.Created), UpdateDate: isoTime(p.Updated),
	}
	if full {
		x.Description, x.Tags = p.Description, p.Tags
	}
	return x
}

// xmlPolicyVersion is IAM's PolicyVersion structure. IAM returns the
// document from GetPolicyVersion only, never from CreatePolicyVersion or
// ListPolicyVersions.
type xmlPolicyVersion struct {
	Document         string  `xml:"Document,omitempty"`
	VersionId        string  `xml:"VersionId"`
	IsDefaultVersion bool    `xml:"IsDefaultVersion"`
	CreateDate       isoTime `xml:"CreateDate"`
}

func versionXML(p *ManagedPolicy, v *PolicyVersion, withDocument bool) xmlPolicyVersion {
	x := xmlPolicyVersion{VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: isoTime(v.Created)}
	if withDocument {
		x.Document = urlEncodedDoc(v.Document)
	}
	return x
}

// ---- parameters ----

// policyParam reads and resolves the PolicyArn parameter.
func policyParam(s *Server, c *call) (*ManagedPolicy, *Error) {
	policyARN, err := checkPolicyARN(c.params, "PolicyArn")
	if err != nil {
		return nil, err
	}
	return s.acct.policy(policyARN)
}

// writablePolicy is policyParam for the actions that change a policy. AWS
// managed policies belong to AWS's account, not this one, so IAM answers any
// change to them as it answers any write to another account's resource that
// no resource-based policy opens: AccessDenied, HTTP 403 ("... is not
// authorized to perform: iam:DeletePolicy on resource: policy
// arn:aws:iam::aws:policy/AdministratorAccess ..."), not UnmodifiableEntity,
// which IAM keeps for service-linked roles.
func writablePolicy(s *Server, c *call, action string) (*ManagedPolicy, *Error) {
	p, err := policyParam(s, c)
	if err != nil {
		return nil, err
	}
	if p.AWSManaged {
		return nil, apiErr("AccessDenied", 403, "User: %s is not authorized to perform: iam:%s on resource: policy %s because no resource-based policy allows the iam:%s action",
			s.callerARN(c), action, p.ARN, action)
	}
	return p, nil
}

// managedDocument reads a managed policy document: IAM's grammar plus the
// rule managed policies add (Version must be 2012-10-17), then the size
// quota of managed policies.
func managedDocument(p params) (string, *Error) {
	if doc := p.str("PolicyDocument"); doc != "" && len(doc) <= 131072 {
		if e := policy.CheckManagedPolicy(doc, policy.Identity); e != nil {
			return "", errMalformedPolicy("%s", e.Error())
		}
	}
	return checkDocument(p, "PolicyDocument", policy.Identity, managedPolicyLimit, "PolicySize")
}

// enumParam reads an optional parameter restricted to IAM's enum values.
func enumParam(p params, name string, allowed ...string) (string, *Error) {
	v := p.str(name)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		v, lowerFirst(name), strings.Join(allowed, ", "))
}

// policyVersion resolves PolicyArn, for the change named (see
// writablePolicy) or for reading when change is "", and then VersionId
// within that policy: the policy and the version's index.
func policyVersion(s *Server, c *call, change string) (*ManagedPolicy, int, *Error) {
	lookup := policyParam
	if change != "" {
		lookup = func(s *Server, c *call) (*ManagedPolicy, *Error) { return writablePolicy(s, c, change) }
	}
	p, err := lookup(s, c)
	if err != nil {
		return nil, -1, err
	}
	id, err := c.required("VersionId")
	if err != nil {
		return nil, -1, err
	}
	if !iamname.VersionID(id) {
		return nil, -1, errValidation("1 validation error detected: Value '%s' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", id, iamname.VersionIDPattern)
	}
	for i, v := range p.Versions {
		if v.ID == id {
			return p, i, nil
		}
	}
	return nil, -1, errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", p.ARN, id)
}

// usageParam reads PolicyUsageFilter: which use of a policy counts, as
// a permissions policy attached or as a permissions boundary set; either
// when absent.
func usageParam(p params) (counts func(attached, boundary bool) bool, err *Error) {
	usage, err := enumParam(p, "PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary")
	if err != nil {
		return nil, err
	}
	return func(attached, boundary bool) bool {
		switch usage {
		case "PermissionsPolicy":
			return attached
		case "PermissionsBoundary":
			return boundary
		}
		return attached || boundary
	}, nil
}

// policySortKey orders policies as IAM lists them: by name, then (for a
// customer policy named like an AWS one) by ARN.
func policySortKey(p *ManagedPolicy) string { return key(p.Name) + "\x00" + p.ARN }

// ---- policies ----

func createPolicy(s *Server, c *call) (any, *Error) {
	name, path, err := nameAndPath(c.params, "PolicyName", iamname.PolicyNameMax)
	if err != nil {
		return nil, err
	}
	desc := c.str("Description")
	if utf8.RuneCountInString(desc) > maxPolicyDescription {
		return nil, errValidation("1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", desc, maxPolicyDescription)
	}
	doc, err := managedDocument(c.params)
	if err != nil {
		return nil, err
	}
	tags, err := c.tags()
	if err != nil {
		return nil, err
	}
	// Names are unique among the account's own policies whatever their
	// path; AWS managed policies are another account's and do not count.
	customer := 0
	for _, p := range s.acct.Policies {
		if p.AWSManaged {
			continue
		}
		customer++
		if strings.EqualFold(p.Name, name) {
			return nil, errAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}
	}
	if customer >= s.quotas.Policies {
		return nil, errLimitExceeded("Cannot exceed quota for PoliciesPerAccount: %d", s.quotas.Policies)
	}
	p := &ManagedPolicy{
		ARN: arn(s.id, "policy", path, name), Name: name, Path: path, ID: newID("ANPA"), Description: desc,
		Created: c.now, Updated: c.now, DefaultVersion: "v1", NextVersion: 2, Tags: tags,
		Versions: []*PolicyVersion{{ID: "v1", Document: doc, Created: c.now}},
	}
	s.acct.Policies[p.ARN] = p
	return struct {
		Policy xmlPolicy `xml:"Policy"`
	}{policyXML(p, true)}, nil
}

func getPolicy(s *Server, c *call) (any, *Error) {
	p, err := policyParam(s, c)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy xmlPolicy `xml:"Policy"`
	}{policyXML(p, true)}, nil
}

// listPolicies answers ListPolicies. Scope defaults to All, as in IAM.
// OnlyAttached keeps the policies in use; PolicyUsageFilter says which use
// counts (attached as a permissions policy, or set as a permissions
// boundary), either when absent. Without OnlyAttached every policy in scope
// is listed, as IAM documents.
func listPolicies(s *Server, c *call) (any, *Error) {
	scope, err := enumParam(c.params, "Scope", "All", "AWS", "Local")
	if err != nil {
		return nil, err
	}
	counts, err := usageParam(c.params)
	if err != nil {
		return nil, err
	}
	onlyAttached, err := c.boolean("OnlyAttached", false)
	if err != nil {
		return nil, err
	}
	prefix, pg, err := prefixAndPage(c.params)
	if err != nil {
		return nil, err
	}
	var all []*ManagedPolicy
	for _, p := range s.acct.Policies {
		if (scope == "AWS" && !p.AWSManaged) || (scope == "Local" && p.AWSManaged) ||
			!inPath(p.Path, prefix) || (onlyAttached && !counts(p.AttachmentCount > 0, p.BoundaryCount > 0)) {
			continue
		}
		all = append(all, p)
	}
	sortByKey(all, policySortKey)
	return listOf("Policies", all, policySortKey, pg, func(p *ManagedPolicy) xmlPolicy { return policyXML(p, false) })
}

// deletePolicy refuses while anything depends on the policy: attachments
// and boundary uses (IAM gives the same message for both) and versions
// other than the default, which IAM makes the caller delete first.
func deletePolicy(s *Server, c *call) (any, *Error) {
	p, err := writablePolicy(s, c, "DeletePolicy")
	if err != nil {
		return nil, err
	}
	switch {
	case p.AttachmentCount > 0 || p.BoundaryCount > 0:
		return nil, errDeleteConflict("Cannot delete a policy attached to entities.")
	case len(p.Versions) > 1:
		return nil, errDeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(s.acct.Policies, p.ARN)
	return nil, nil
}

// ---- versions ----

// createPolicyVersion adds a version. Ids count up from v1 and are never
// reused, even after a version is deleted, as in IAM.
func createPolicyVersion(s *Server, c *call) (any, *Error) {
	p, err := writablePolicy(s, c, "CreatePolicyVersion")
	if err != nil {
		return nil, err
	}
	doc, err := managedDocument(c.params)
	if err != nil {
		return nil, err
	}
	setDefault, err := c.boolean("SetAsDefault", false)
	if err != nil {
		return nil, err
	}
	if len(p.Versions) >= maxPolicyVersions {
		return nil, errLimitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	v := &PolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, Created: c.now}
	p.NextVersion++
	p.Versions = append(p.Versions, v)
	p.Updated = c.now
	if setDefault {
		p.DefaultVersion = v.ID
	}
	return struct {
		PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
	}{versionXML(p, v, false)}, nil
}

func getPolicyVersion(s *Server, c *call) (any, *Error) {
	p, i, err := policyVersion(s, c, "")
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
	}{versionXML(p, p.Versions[i], true)}, nil
}

// listPolicyVersions lists newest first, as IAM does.
func listPolicyVersions(s *Server, c *call) (any, *Error) {
	p, err := policyParam(s, c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	// The key sorts by descending version number and stays the same for a
	// version across calls, so markers survive versions coming and going.
	newestFirst := func(v *PolicyVersion) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		return fmt.Sprintf("%010d", 1<<31-n)
	}
	all := slices.Clone(p.Versions)
	sortByKey(all, newestFirst)
	return listOf("Versions", all, newestFirst, pg, func(v *PolicyVersion) xmlPolicyVersion { return versionXML(p, v, false) })
}

func setDefaultPolicyVersion(s *Server, c *call) (any, *Error) {
	p, i, err := policyVersion(s, c, "SetDefaultPolicyVersion")
	if err != nil {
		return nil, err
	}
	p.DefaultVersion = p.Versions[i].ID
	return nil, nil
}

// deletePolicyVersion removes a non-default version. UpdateDate goes back to
// the newest remaining version's date, which is what IAM reports it as.
func deletePolicyVersion(s *Server, c *call) (any, *Error) {
	p, i, err := policyVersion(s, c, "DeletePolicyVersion")
	if err != nil {
		return nil, err
	}
	if p.Versions[i].ID == p.DefaultVersion {
		return nil, errDeleteConflict("Cannot delete the default version of a policy.")
	}
	p.Versions = slices.Delete(p.Versions, i, i+1)
	p.Updated = p.Created
	for _, v := range p.Versions {
		if v.Created.After(p.Updated) {
			p.Updated = v.Created
		}
	}
	return nil, nil
}

// ---- entities using a policy ----

// xmlPolicyEntity is IAM's PolicyGroup, PolicyUser or PolicyRole: each
// entity sets the one name and id pair of its kind.
type xmlPolicyEntity struct {
	GroupName string `xml:"GroupName,omitempty"`
	GroupId   string `xml:"GroupId,omitempty"`
	UserName  string `xml:"UserName,omitempty"`
	UserId    string `xml:"UserId,omitempty"`
	RoleName  string `xml:"RoleName,omitempty"`
	RoleId    string `xml:"RoleId,omitempty"`
}

// policyEntity is one user, group or role using a policy, ready to page.
type policyEntity struct {
	kind, sortKey string
	xml           xmlPolicyEntity
}

// listEntitiesForPolicy pages over the groups, users and roles using a
// policy (groups, roles, users, each by name) and splits the page into IAM's three
// lists. PolicyUsageFilter chooses attachments or boundary uses (both when
// absent). EntityFilter's LocalManagedPolicy and AWSManagedPolicy come from
// the entity-type enum IAM shares with GetAccountAuthorizationDetails; no
// policy is used by a policy, so they select nothing.
func listEntitiesForPolicy(s *Server, c *call) (any, *Error) {
	p, err := policyParam(s, c)
	if err != nil {
		return nil, err
	}
	filter, err := enumParam(c.params, "EntityFilter", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
	if err != nil {
		return nil, err
	}
	counts, err := usageParam(c.params)
	if err != nil {
		return nil, err
	}
	prefix, pg, err := prefixAndPage(c.params)
	if err != nil {
		return nil, err
	}
	var all []policyEntity
	add := func(kind, path, name string, attached []string, boundary string, x xmlPolicyEntity) {
		uses := counts(slices.Contains(attached, p.ARN), boundary == p.ARN)
		if (filter == "" || filter == kind) && uses && inPath(path, prefix) {
			all = append(all, policyEntity{kind, kind + "\x00" + key(name), x})
		}
	}
	for _, g := range s.acct.Groups {
		add("Group", g.Path, g.Name, g.Attached, "", xmlPolicyEntity{GroupName: g.Name, GroupId: g.ID})
	}
	for _, u := range s.acct.Users {
		add("User", u.Path, u.Name, u.Attached, u.Boundary, xmlPolicyEntity{UserName: u.Name, UserId: u.ID})
	}
	for _, r := range s.acct.Roles {
		add("Role", r.Path, r.Name, r.Attached, r.Boundary, xmlPolicyEntity{RoleName: r.Name, RoleId: r.ID})
	}
	byKey := func(e policyEntity) string { return e.sortKey }
	sortByKey(all, byKey)
	items, truncated, marker, err := paginate(all, byKey, pg)
	if err != nil {
		return nil, err
	}
	lists := map[string]members[xmlPolicyEntity]{"Group": {}, "User": {}, "Role": {}}
	for _, e := range items {
		lists[e.kind] = append(lists[e.kind], e.xml)
	}
	return struct {
		PolicyGroups members[xmlPolicyEntity] `xml:"PolicyGroups"`
		PolicyUsers  members[xmlPolicyEntity] `xml:"PolicyUsers"`
		PolicyRoles  members[xmlPolicyEntity] `xml:"PolicyRoles"`
		IsTruncated  bool                     `xml:"IsTruncated"`
		Marker       string                   `xml:"Marker,omitempty"`
	}{lists["Group"], lists["User"], lists["Role"], truncated, marker}, nil
}
