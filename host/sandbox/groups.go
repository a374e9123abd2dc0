package sandbox

import (
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

var groupActions = map[string]action{
	"CreateGroup":         {mutates: true, run: createGroup},
	"GetGroup":            {run: getGroup},
	"ListGroups":          {run: listGroups},
	"UpdateGroup":         {mutates: true, run: updateGroup},
	"DeleteGroup":         {mutates: true, run: deleteGroup},
	"AddUserToGroup":      {mutates: true, run: addUserToGroup},
	"RemoveUserFromGroup": {mutates: true, run: removeUserFromGroup},
	"ListGroupsForUser":   {run: listGroupsForUser},
}

// maxGroupsPerUser is IAM's GroupsPerUser quota.
const maxGroupsPerUser = 10

type xmlGroup struct {
	Path       string  `xml:"Path"`
	GroupName  string  `xml:"GroupName"`
	GroupId    string  `xml:"GroupId"`
	Arn        string  `xml:"Arn"`
	CreateDate isoTime `xml:"CreateDate"`
}

func (s *Server) groupXML(g *Group) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupId: g.ID, Arn: g.ARN(s.id), CreateDate: isoTime(g.Created)}
}

// groupParam reads and resolves the GroupName parameter.
func groupParam(s *Server, c *call) (*Group, *Error) {
	return named(c, "GroupName", iamname.GroupNameMax, s.acct.group)
}

func createGroup(s *Server, c *call) (any, *Error) {
	name, path, err := nameAndPath(c.params, "GroupName", iamname.GroupNameMax)
	if err != nil {
		return nil, err
	}
	a := s.acct
	if err := roomFor(a.Groups, name, "Group with name %s already exists.", s.quotas.Groups, "GroupsPerAccount"); err != nil {
		return nil, err
	}
	g := &Group{Name: name, Path: path, ID: newID("AGPA"), Created: c.now}
	a.Groups[key(name)] = g
	return struct {
		Group xmlGroup `xml:"Group"`
	}{s.groupXML(g)}, nil
}

func getGroup(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	var all []*User
	for _, m := range g.Members {
		if u := s.acct.Users[key(m)]; u != nil {
			all = append(all, u)
		}
	}
	sortByKey(all, userOrder)
	users, truncated, marker, err := paginate(all, userOrder, pg)
	if err != nil {
		return nil, err
	}
	return struct {
		Group       xmlGroup         `xml:"Group"`
		Users       members[xmlUser] `xml:"Users"`
		IsTruncated bool             `xml:"IsTruncated"`
		Marker      string           `xml:"Marker,omitempty"`
	}{s.groupXML(g), membersOf(users, s.userListXML), truncated, marker}, nil
}

func listGroups(s *Server, c *call) (any, *Error) {
	all, pg, err := underPath(s, s.acct.Groups, func(g *Group) string { return g.Path }, c.params)
	if err != nil {
		return nil, err
	}
	return s.groupsPage(all, pg)
}

// groupsPage renders one page of groups, already sorted by key.
func (s *Server) groupsPage(all []*Group, pg page) (any, *Error) {
	return listOf("Groups", all, func(g *Group) string { return key(g.Name) }, pg, s.groupXML)
}

func updateGroup(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	newName, newPath, err := renameTo(c, s.acct.Groups, g, "Group", iamname.GroupNameMax, g.Name, g.Path)
	if err != nil {
		return nil, err
	}
	delete(s.acct.Groups, key(g.Name))
	g.Name, g.Path = newName, newPath
	s.acct.Groups[key(g.Name)] = g
	return nil, nil
}

func deleteGroup(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	switch {
	case len(g.Members) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must remove users from group first.")
	case len(g.Attached) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	case len(g.Inline) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	delete(s.acct.Groups, key(g.Name))
	return nil, nil
}

func addUserToGroup(s *Server, c *call) (any, *Error) {
	g, u, err := both(s, c, groupParam, userParam)
	if err != nil {
		return nil, err
	}
	for _, m := range g.Members {
		if strings.EqualFold(m, u.Name) {
			return nil, nil // IAM accepts adding a member twice
		}
	}
	if len(s.acct.groupsOf(u.Name)) >= maxGroupsPerUser {
		return nil, errLimitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
	}
	g.Members = append(g.Members, u.Name)
	return nil, nil
}

func removeUserFromGroup(s *Server, c *call) (any, *Error) {
	g, u, err := both(s, c, groupParam, userParam)
	if err != nil {
		return nil, err
	}
	for i, m := range g.Members {
		if strings.EqualFold(m, u.Name) {
			g.Members = append(g.Members[:i:i], g.Members[i+1:]...)
			return nil, nil
		}
	}
	return nil, errNoSuchEntity("The user with name %s cannot be found in group %s.", u.Name, g.Name)
}

func listGroupsForUser(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	return s.groupsPage(s.acct.groupsOf(u.Name), pg)
}
