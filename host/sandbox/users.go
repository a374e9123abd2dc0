package sandbox

import (
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

var userActions = map[string]action{
	"CreateUser": {mutates: true, run: createUser},
	"GetUser":    {run: getUser},
	"ListUsers":  {run: listUsers},
	"UpdateUser": {mutates: true, run: updateUser},
	"DeleteUser": {mutates: true, run: deleteUser},
}

// xmlUser is IAM's User structure.
type xmlUser struct {
	Path                string       `xml:"Path,omitempty"`
	UserName            string       `xml:"UserName,omitempty"`
	UserId              string       `xml:"UserId"`
	Arn                 string       `xml:"Arn"`
	CreateDate          isoTime      `xml:"CreateDate"`
	PasswordLastUsed    *isoTime     `xml:"PasswordLastUsed,omitempty"`
	PermissionsBoundary *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                members[Tag] `xml:"Tags,omitempty"`
}

type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

func boundaryXML(arn string) *xmlBoundary {
	if arn == "" {
		return nil
	}
	return &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: arn}
}

// userXML renders a user; withTags is false for ListUsers, which (like IAM)
// leaves tags out.
func (s *Server) userXML(u *User, withTags bool) xmlUser {
	x := xmlUser{
		Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN(s.id),
		CreateDate:          isoTime(u.Created),
		PasswordLastUsed:    optTime(u.PasswordLastUsed),
		PermissionsBoundary: boundaryXML(u.Boundary),
	}
	if withTags {
		x.Tags = u.Tags
	}
	return x
}

func createUser(s *Server, c *call) (any, *Error) {
	name, path, tags, err := taggedNameAndPath(c, "UserName", iamname.UserNameMax)
	if err != nil {
		return nil, err
	}
	a := s.acct
	if err := roomFor(a.Users, name, "User with name %s already exists.", s.quotas.Users, "UsersPerAccount"); err != nil {
		return nil, err
	}
	u := &User{Name: name, Path: path, ID: newID("AIDA"), Created: c.now, Tags: tags}
	if b := c.str("PermissionsBoundary"); b != "" {
		if err := s.setBoundary(&u.Boundary, b); err != nil {
			return nil, err
		}
	}
	a.Users[key(name)] = u
	return struct {
		User xmlUser `xml:"User"`
	}{s.userXML(u, true)}, nil
}

func getUser(s *Server, c *call) (any, *Error) {
	type result struct {
		User xmlUser `xml:"User"`
	}
	name := c.str("UserName")
	if name == "" {
		// Without a name IAM answers for the caller: the user owning the
		// signing key, or the account root; a role session is neither.
		if c.session != nil {
			return nil, errValidation("Must specify userName when calling with non-User credentials")
		}
		if u := s.acct.userByAccessKey(c.accessKeyID); u != nil {
			return result{s.userXML(u, true)}, nil
		}
		return result{xmlUser{UserId: s.id, Arn: "arn:aws:iam::" + s.id + ":root", CreateDate: isoTime(s.rootCreated())}}, nil
	}
	if err := validateName("UserName", name, iamname.UserNameMax); err != nil {
		return nil, err
	}
	u, err := s.acct.user(name)
	if err != nil {
		return nil, err
	}
	return result{s.userXML(u, true)}, nil
}

func listUsers(s *Server, c *call) (any, *Error) {
	all, pg, err := underPath(s, s.acct.Users, func(u *User) string { return u.Path }, c.params)
	if err != nil {
		return nil, err
	}
	return listOf("Users", all, userOrder, pg, s.userListXML)
}

// userOrder is the order users are listed in; userListXML their list shape.
func userOrder(u *User) string                { return key(u.Name) }
func (s *Server) userListXML(u *User) xmlUser { return s.userXML(u, false) }

func updateUser(s *Server, c *call) (any, *Error) {
	name, err := checkName(c.params, "UserName", iamname.UserNameMax)
	if err != nil {
		return nil, err
	}
	u, err := s.acct.user(name)
	if err != nil {
		return nil, err
	}
	newName, newPath, err := renameTo(c, s.acct.Users, u, "User", iamname.UserNameMax, u.Name, u.Path)
	if err != nil {
		return nil, err
	}
	if newName != u.Name {
		// Everything that names the user follows the rename.
		for _, g := range s.acct.Groups {
			for i, m := range g.Members {
				if strings.EqualFold(m, u.Name) {
					g.Members[i] = newName
				}
			}
		}
		for _, d := range s.acct.MFADevices {
			if strings.EqualFold(d.User, u.Name) {
				d.User = newName
			}
		}
		delete(s.acct.Users, key(u.Name))
		u.Name = newName
		s.acct.Users[key(newName)] = u
	}
	u.Path = newPath
	return nil, nil
}

func deleteUser(s *Server, c *call) (any, *Error) {
	name, err := checkName(c.params, "UserName", iamname.UserNameMax)
	if err != nil {
		return nil, err
	}
	a := s.acct
	u, err := a.user(name)
	if err != nil {
		return nil, err
	}
	// IAM refuses while anything still hangs off the user; the message says
	// what to remove first.
	blockers := []struct {
		present bool
		what    string
	}{
		{u.LoginProfile != nil, "delete login profile"},
		{len(u.AccessKeys) > 0, "delete access keys"},
		{len(u.Certificates) > 0, "delete signing certificates"},
		{len(u.SSHKeys) > 0, "delete SSH public keys"},
		{len(u.ServiceCreds) > 0, "delete service specific credentials"},
		{len(a.mfaDevicesOf(u.Name)) > 0, "delete MFA devices"},
		{len(a.groupsOf(u.Name)) > 0, "remove users from group"},
		{len(u.Attached) > 0, "detach all policies"},
		{len(u.Inline) > 0, "delete policies"},
	}
	for _, b := range blockers {
		if b.present {
			return nil, errDeleteConflict("Cannot delete entity, must %s first.", b.what)
		}
	}
	if u.Boundary != "" {
		s.clearBoundary(&u.Boundary)
	}
	delete(a.Users, key(u.Name))
	// Its service history goes with it: a new user of the same name is a
	// new entity to IAM, with a new id and no past.
	delete(a.ServiceUse, u.ID)
	return nil, nil
}

// userParam reads and resolves the UserName parameter.
func userParam(s *Server, c *call) (*User, *Error) {
	return named(c, "UserName", iamname.UserNameMax, s.acct.user)
}

// userByAccessKey finds the user owning an access key id, or nil.
func (a *account) userByAccessKey(keyID string) *User {
	if keyID == "" {
		return nil
	}
	for _, u := range a.Users {
		for _, k := range u.AccessKeys {
			if k.ID == keyID {
				return u
			}
		}
	}
	return nil
}

// mfaDevicesOf returns the MFA devices enabled for a user.
func (a *account) mfaDevicesOf(userName string) []*MFADevice {
	var out []*MFADevice
	for _, d := range sortedValues(a.MFADevices) {
		if d.User != "" && strings.EqualFold(d.User, userName) {
			out = append(out, d)
		}
	}
	return out
}

// rootCreated is the account's creation date as the sandbox reports it: the
// oldest user's or root access key's, or now for an empty account.
func (s *Server) rootCreated() (t0 time.Time) {
	t0 = s.now().UTC()
	for _, u := range s.acct.Users {
		if u.Created.Before(t0) {
			t0 = u.Created
		}
	}
	for _, k := range s.acct.Root.AccessKeys {
		if k.Created.Before(t0) {
			t0 = k.Created
		}
	}
	return t0
}
