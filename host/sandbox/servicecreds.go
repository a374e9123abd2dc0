package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Service-specific credentials: a user name and an IAM-generated password
// for one service (CodeCommit's Git over HTTPS, Keyspaces' Cassandra
// drivers). Their actions are registered in sshCertActions (sshcerts.go),
// with the other per-user credentials they share credKind with.

// credentialServices are the services IAM issues service-specific
// credentials (user name and password) for.
var credentialServices = map[string]bool{
	"codecommit.amazonaws.com": true,
	"cassandra.amazonaws.com":  true,
}

// IAM allows two credentials per user for each service.
const maxServiceCredsPerService = 2

var serviceCreds = credKind[ServiceCredential]{
	idParam: "ServiceSpecificCredentialId", idMin: 20,
	notFound: "No such service specific credential: %s",
	list:     func(u *User) *[]*ServiceCredential { return &u.ServiceCreds },
	id:       func(x *ServiceCredential) string { return x.ID },
	status:   func(x *ServiceCredential) *string { return &x.Status },
	created:  func(x *ServiceCredential) time.Time { return x.Created },
}

// xmlServiceCredential is IAM's ServiceSpecificCredential, and without the
// password its ServiceSpecificCredentialMetadata.
type xmlServiceCredential struct {
	CreateDate                  isoTime `xml:"CreateDate"`
	ServiceName                 string  `xml:"ServiceName"`
	ServicePassword             string  `xml:"ServicePassword,omitempty"`
	ServiceSpecificCredentialId string  `xml:"ServiceSpecificCredentialId"`
	ServiceUserName             string  `xml:"ServiceUserName"`
	Status                      string  `xml:"Status"`
	UserName                    string  `xml:"UserName"`
}

func serviceCredentialXML(u *User, x *ServiceCredential, withPassword bool) xmlServiceCredential {
	out := xmlServiceCredential{isoTime(x.Created), x.ServiceName, "", x.ID, x.ServiceUserName, x.Status, u.Name}
	if withPassword {
		out.ServicePassword = x.Password
	}
	return out
}

// serviceCredentialResult is what create and reset return: the only two
// moments IAM shows the password.
func serviceCredentialResult(u *User, x *ServiceCredential) any {
	return struct {
		ServiceSpecificCredential xmlServiceCredential `xml:"ServiceSpecificCredential"`
	}{serviceCredentialXML(u, x, true)}
}

func errServiceNotSupported(service string) *Error {
	return apiErr("NotSupportedService", 404, "The service %s does not support service-specific credentials.", service)
}

// newServicePassword is a password like IAM's: 32 random bytes in base64.
func newServicePassword() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func createServiceCredential(s *Server, c *call) (any, *Error) {
	service, err := c.required("ServiceName")
	if err != nil {
		return nil, err
	}
	if !credentialServices[service] {
		return nil, errServiceNotSupported(service)
	}
	// Expiring credentials exist only for the API-key services (Bedrock,
	// CloudWatch Logs), which the sandbox does not offer.
	if c.has("CredentialAgeDays") {
		return nil, errInvalidInput("CredentialAgeDays is only valid for services that support long-term API keys, not %s.", service)
	}
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, x := range u.ServiceCreds {
		if x.ServiceName == service {
			n++
		}
	}
	if n >= maxServiceCredsPerService {
		return nil, errLimitExceeded("Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", maxServiceCredsPerService)
	}
	x := &ServiceCredential{
		ID: newID("ACCA"), ServiceName: service, Password: newServicePassword(),
		// IAM derives the service user name from the user and the account;
		// it does not follow a later rename of the user.
		ServiceUserName: u.Name + "-at-" + s.id,
		Status:          "Active", Created: c.now,
	}
	u.ServiceCreds = append(u.ServiceCreds, x)
	return serviceCredentialResult(u, x), nil
}

// listServiceCredentials lists one user's credentials (named, or the
// caller), or with AllUsers every user's, optionally for one service; never
// with passwords.
func listServiceCredentials(s *Server, c *call) (any, *Error) {
	all, err := c.boolean("AllUsers", false)
	if err != nil {
		return nil, err
	}
	service := c.str("ServiceName")
	if service != "" && !credentialServices[service] {
		return nil, errServiceNotSupported(service)
	}
	var users []*User
	if all {
		if c.str("UserName") != "" {
			return nil, errInvalidInput("AllUsers cannot be specified together with UserName.")
		}
		users = sorted(s, s.acct.Users)
	} else {
		u, err := credentialOwner(s, c, false)
		if err != nil {
			return nil, err
		}
		users = owners(u)
	}
	creds, truncated, marker, err := serviceCreds.page(c, users, func(x *ServiceCredential) bool {
		return service == "" || x.ServiceName == service
	})
	if err != nil {
		return nil, err
	}
	return pageOf("ServiceSpecificCredentials", creds, truncated, marker, func(x owned[ServiceCredential]) xmlServiceCredential {
		return serviceCredentialXML(x.user, x.item, false)
	}), nil
}

// resetServiceCredential replaces the password; the old one stops working.
func resetServiceCredential(s *Server, c *call) (any, *Error) {
	u, i, err := serviceCreds.find(s, c)
	if err != nil {
		return nil, err
	}
	x := u.ServiceCreds[i]
	x.Password = newServicePassword()
	return serviceCredentialResult(u, x), nil
}
