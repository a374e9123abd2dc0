package sandbox

import (
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Instance profiles: CRUD, tags, and role membership with IAM's limit of
// one role per profile.
var instanceProfileActions = map[string]action{
	"CreateInstanceProfile":         {mutates: true, run: createInstanceProfile},
	"GetInstanceProfile":            {run: getInstanceProfile},
	"ListInstanceProfiles":          {run: listInstanceProfiles},
	"ListInstanceProfilesForRole":   {run: listInstanceProfilesForRole},
	"AddRoleToInstanceProfile":      {mutates: true, run: addRoleToInstanceProfile},
	"RemoveRoleFromInstanceProfile": {mutates: true, run: removeRoleFromInstanceProfile},
	"DeleteInstanceProfile":         {mutates: true, run: deleteInstanceProfile},
}

// maxRolesPerProfile is IAM's InstanceSessionsPerInstanceProfile quota.
const maxRolesPerProfile = 1

// xmlInstanceProfile is IAM's InstanceProfile structure.
type xmlInstanceProfile struct {
	Path                string           `xml:"Path"`
	InstanceProfileName string           `xml:"InstanceProfileName"`
	InstanceProfileId   string           `xml:"InstanceProfileId"`
	Arn                 string           `xml:"Arn"`
	CreateDate          isoTime          `xml:"CreateDate"`
	Roles               members[xmlRole] `xml:"Roles"`
	Tags                members[Tag]     `xml:"Tags,omitempty"`
}

// instanceProfileXML renders a profile with its roles in the list shape, as
// IAM does; withTags is false for the list actions, which (like IAM) leave
// the profile's tags out.
func (s *Server) instanceProfileXML(p *InstanceProfile, withTags bool) xmlInstanceProfile {
	var roles []*Role
	for _, name := range p.Roles {
		if r := s.acct.Roles[key(name)]; r != nil {
			roles = append(roles, r)
		}
	}
	x := xmlInstanceProfile{
		Path: p.Path, InstanceProfileName: p.Name, InstanceProfileId: p.ID, Arn: p.ARN(s.id),
		CreateDate: isoTime(p.Created), Roles: membersOf(roles, s.roleListXML),
	}
	if withTags {
		x.Tags = p.Tags
	}
	return x
}

// instanceProfileResult is the result of Create/GetInstanceProfile.
type instanceProfileResult struct {
	InstanceProfile xmlInstanceProfile `xml:"InstanceProfile"`
}

// instanceProfilesOf returns the instance profiles holding a role, sorted
// by name.
func (a *account) instanceProfilesOf(roleName string) []*InstanceProfile {
	var out []*InstanceProfile
	for _, p := range sortedValues(a.InstanceProfiles) {
		for _, r := range p.Roles {
			if strings.EqualFold(r, roleName) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// instanceProfileParam reads and resolves the InstanceProfileName parameter.
func instanceProfileParam(s *Server, c *call) (*InstanceProfile, *Error) {
	return named(c, "InstanceProfileName", iamname.InstanceProfileNameMax, s.acct.instanceProfile)
}

func createInstanceProfile(s *Server, c *call) (any, *Error) {
	name, path, tags, err := taggedNameAndPath(c, "InstanceProfileName", iamname.InstanceProfileNameMax)
	if err != nil {
		return nil, err
	}
	a := s.acct
	if err := roomFor(a.InstanceProfiles, name, "Instance Profile %s already exists.", s.quotas.InstanceProfiles, "InstanceProfilesPerAccount"); err != nil {
		return nil, err
	}
	p := &InstanceProfile{Name: name, Path: path, ID: newID("AIPA"), Created: c.now, Tags: tags}
	a.InstanceProfiles[key(name)] = p
	return instanceProfileResult{s.instanceProfileXML(p, true)}, nil
}

func getInstanceProfile(s *Server, c *call) (any, *Error) {
	p, err := instanceProfileParam(s, c)
	if err != nil {
		return nil, err
	}
	return instanceProfileResult{s.instanceProfileXML(p, true)}, nil
}

func listInstanceProfiles(s *Server, c *call) (any, *Error) {
	all, pg, err := underPath(s, s.acct.InstanceProfiles, func(p *InstanceProfile) string { return p.Path }, c.params)
	if err != nil {
		return nil, err
	}
	return s.instanceProfilesPage(all, pg)
}

func listInstanceProfilesForRole(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	return s.instanceProfilesPage(s.acct.instanceProfilesOf(r.Name), pg)
}

// instanceProfilesPage renders one page of profiles, already sorted by key.
func (s *Server) instanceProfilesPage(all []*InstanceProfile, pg page) (any, *Error) {
	return listOf("InstanceProfiles", all, func(p *InstanceProfile) string { return key(p.Name) }, pg,
		func(p *InstanceProfile) xmlInstanceProfile { return s.instanceProfileXML(p, false) })
}

func addRoleToInstanceProfile(s *Server, c *call) (any, *Error) {
	p, r, err := both(s, c, instanceProfileParam, roleParam)
	if err != nil {
		return nil, err
	}
	// IAM counts the slot, not the role: adding the role already there is
	// refused too.
	if len(p.Roles) >= maxRolesPerProfile {
		return nil, errLimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerProfile)
	}
	p.Roles = append(p.Roles, r.Name)
	return nil, nil
}

func removeRoleFromInstanceProfile(s *Server, c *call) (any, *Error) {
	p, r, err := both(s, c, instanceProfileParam, roleParam)
	if err != nil {
		return nil, err
	}
	for i, name := range p.Roles {
		if strings.EqualFold(name, r.Name) {
			p.Roles = append(p.Roles[:i:i], p.Roles[i+1:]...)
			return nil, nil
		}
	}
	return nil, errNoSuchEntity("The role with name %s cannot be found in instance profile %s.", r.Name, p.Name)
}

func deleteInstanceProfile(s *Server, c *call) (any, *Error) {
	p, err := instanceProfileParam(s, c)
	if err != nil {
		return nil, err
	}
	if len(p.Roles) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.acct.InstanceProfiles, key(p.Name))
	return nil, nil
}
