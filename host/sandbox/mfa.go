package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Virtual MFA devices: created with a random seed, then enabled for a user
// with two consecutive codes computed from that seed (RFC 6238 TOTP), as an
// authenticator app would compute them.
var mfaActions = map[string]action{
	"CreateVirtualMFADevice": {mutates: true, run: createVirtualMFADevice},
	"EnableMFADevice":        {mutates: true, run: enableMFADevice},
	"ResyncMFADevice":        {mutates: true, run: resyncMFADevice},
	"DeactivateMFADevice":    {mutates: true, run: deactivateMFADevice},
	"DeleteVirtualMFADevice": {mutates: true, run: deleteVirtualMFADevice},
	"ListMFADevices":         {run: listMFADevices},
	"ListVirtualMFADevices":  {run: listVirtualMFADevices},
}

const (
	// maxMFADevicesPerUser is IAM's limit of MFA devices per user.
	maxMFADevicesPerUser = 8
	// totpStep is RFC 6238's default time step, the one authenticator apps use.
	totpStep = 30
	// enableWindow is how many steps either side of now EnableMFADevice
	// accepts: enough for two codes typed one after the other and a little
	// clock skew.
	enableWindow = 2
	// resyncWindow is ResyncMFADevice's wider window (±10 minutes): resync
	// exists to recover a device whose clock has drifted.
	resyncWindow = 20
)

// seedEncoding is RFC 4648 Base32 without padding, the form authenticator
// apps take a seed in.
var seedEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// totp computes the 6-digit RFC 6238 code (HMAC-SHA1) of a Base32 seed for
// one time step.
func totp(seedBase32 string, counter int64) (string, error) {
	key, err := seedEncoding.DecodeString(strings.TrimRight(strings.ToUpper(seedBase32), "="))
	if err != nil {
		return "", err
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// RFC 4226 dynamic truncation.
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", bin%1000000), nil
}

// acceptCodes reports whether code1 and code2 are the codes of two
// consecutive time steps within window steps of now, both later than the
// last step the device accepted, so that no code is ever accepted twice.
// On success the device remembers the second step.
func (d *MFADevice) acceptCodes(code1, code2 string, now time.Time, window int64) bool {
	cur := now.Unix() / totpStep
	for t := cur - window - 1; t <= cur+window; t++ {
		if t <= d.LastCounter {
			continue
		}
		c1, err := totp(d.Seed, t)
		if err != nil {
			return false
		}
		if !hmac.Equal([]byte(c1), []byte(code1)) {
			continue
		}
		if c2, _ := totp(d.Seed, t+1); hmac.Equal([]byte(c2), []byte(code2)) {
			d.LastCounter = t + 1
			return true
		}
	}
	return false
}

// ---- parameters and lookups ----

var authCodePattern = regexp.MustCompile(`^\d{6}$`)

func serialParam(c *call) (string, *Error) {
	serial, err := c.required("SerialNumber")
	if err != nil {
		return "", err
	}
	if n := len(serial); n < iamname.SerialNumberMin || n > iamname.SerialNumberMax {
		return "", errValidation("1 validation error detected: Value '%s' at 'serialNumber' failed to satisfy constraint: Member must have length between %d and %d", serial, iamname.SerialNumberMin, iamname.SerialNumberMax)
	}
	if !iamname.SerialNumber(serial) {
		return "", errValidation("1 validation error detected: Value '%s' at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", serial, iamname.SerialNumberPattern)
	}
	return serial, nil
}

// codesParam reads AuthenticationCode1 and AuthenticationCode2: six digits each.
func codesParam(c *call) (code1, code2 string, err *Error) {
	var codes [2]string
	for i, name := range []string{"AuthenticationCode1", "AuthenticationCode2"} {
		if codes[i], err = c.required(name); err != nil {
			return "", "", err
		}
		if !authCodePattern.MatchString(codes[i]) {
			return "", "", errValidation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length 6 and satisfy regular expression pattern: [\d]+`, codes[i], lowerFirst(name))
		}
	}
	return codes[0], codes[1], nil
}

func errNoMFADevice(serial string) *Error {
	return errNoSuchEntity("MFA Device with serial number %s does not exist.", serial)
}

// mfaDevice finds a device by serial number; serials, like names, compare
// case-insensitively.
func (a *account) mfaDevice(serial string) (*MFADevice, *Error) {
	if d := a.MFADevices[serial]; d != nil {
		return d, nil
	}
	for _, d := range a.MFADevices {
		if strings.EqualFold(d.Serial, serial) {
			return d, nil
		}
	}
	return nil, errNoMFADevice(serial)
}

// deviceParam reads and resolves the SerialNumber parameter.
func deviceParam(s *Server, c *call) (*MFADevice, *Error) {
	serial, err := serialParam(c)
	if err != nil {
		return nil, err
	}
	return s.acct.mfaDevice(serial)
}

// userDeviceCodes reads what EnableMFADevice and ResyncMFADevice share, all
// validated before any lookup as IAM does.
func userDeviceCodes(s *Server, c *call) (u *User, d *MFADevice, code1, code2 string, err *Error) {
	name, err := checkName(c.params, "UserName", iamname.UserNameMax)
	if err != nil {
		return
	}
	serial, err := serialParam(c)
	if err != nil {
		return
	}
	if code1, code2, err = codesParam(c); err != nil {
		return
	}
	if u, err = s.acct.user(name); err != nil {
		return
	}
	d, err = s.acct.mfaDevice(serial)
	return
}

func errInvalidCode() *Error {
	return apiErr("InvalidAuthenticationCode", 403, "Authentication code for device is not valid.")
}

func enabledAt(d *MFADevice) time.Time {
	if d.Enabled != nil {
		return *d.Enabled
	}
	return d.Created
}

// ---- handlers ----

// xmlVirtualMFADevice is IAM's VirtualMFADevice. QRCodePNG is left out: a
// QR encoder is out of the sandbox's scope, and Base32StringSeed carries the
// same secret for any client that enrols a device by hand.
type xmlVirtualMFADevice struct {
	SerialNumber string `xml:"SerialNumber"`
	// Base32StringSeed is a blob: base64 of the Base32 text, which the SDK
	// decodes back to the Base32 text.
	Base32StringSeed string       `xml:"Base32StringSeed,omitempty"`
	User             *xmlUser     `xml:"User,omitempty"`
	EnableDate       *isoTime     `xml:"EnableDate,omitempty"`
	Tags             members[Tag] `xml:"Tags,omitempty"`
}

func createVirtualMFADevice(s *Server, c *call) (any, *Error) {
	name, path, tags, err := taggedNameAndPath(c, "VirtualMFADeviceName", iamname.MFADeviceNameMax)
	if err != nil {
		return nil, err
	}
	serial := arn(s.id, "mfa", path, name)
	if _, e := s.acct.mfaDevice(serial); e == nil {
		return nil, errAlreadyExists("MFADevice entity at the same path and name already exists.")
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	d := &MFADevice{Serial: serial, Path: path, Name: name, Seed: seedEncoding.EncodeToString(secret), Created: c.now, Tags: tags}
	s.acct.MFADevices[serial] = d
	return struct {
		VirtualMFADevice xmlVirtualMFADevice `xml:"VirtualMFADevice"`
	}{xmlVirtualMFADevice{SerialNumber: serial, Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(d.Seed)), Tags: tags}}, nil
}

func enableMFADevice(s *Server, c *call) (any, *Error) {
	u, d, code1, code2, err := userDeviceCodes(s, c)
	if err != nil {
		return nil, err
	}
	if d.User != "" {
		return nil, errAlreadyExists("MFA Device is already in use.")
	}
	if len(s.acct.mfaDevicesOf(u.Name)) >= maxMFADevicesPerUser {
		return nil, errLimitExceeded("Cannot exceed quota for MFADevicesPerUser: %d", maxMFADevicesPerUser)
	}
	if !d.acceptCodes(code1, code2, c.now, enableWindow) {
		return nil, errInvalidCode()
	}
	now := c.now
	d.User, d.Enabled = u.Name, &now
	return nil, nil
}

func resyncMFADevice(s *Server, c *call) (any, *Error) {
	u, d, code1, code2, err := userDeviceCodes(s, c)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(d.User, u.Name) {
		return nil, errNoMFADevice(d.Serial)
	}
	if !d.acceptCodes(code1, code2, c.now, resyncWindow) {
		return nil, errInvalidCode()
	}
	return nil, nil
}

// deactivateMFADevice unassigns the device; a virtual device stays in the
// account, unassigned, until deleted.
func deactivateMFADevice(s *Server, c *call) (any, *Error) {
	serial, err := serialParam(c)
	if err != nil {
		return nil, err
	}
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	d, err := s.acct.mfaDevice(serial)
	if err != nil {
		return nil, err
	}
	if d.User == "" || !strings.EqualFold(d.User, u.Name) {
		return nil, errNoMFADevice(serial)
	}
	d.User, d.Enabled = "", nil
	return nil, nil
}

func deleteVirtualMFADevice(s *Server, c *call) (any, *Error) {
	d, err := deviceParam(s, c)
	if err != nil {
		return nil, err
	}
	if d.User != "" {
		return nil, errDeleteConflict("MFA Device is in use.")
	}
	for k, v := range s.acct.MFADevices {
		if v == d {
			delete(s.acct.MFADevices, k)
		}
	}
	return nil, nil
}

// listDevices answers a list of devices: sorted by serial number, one page.
func listDevices[X any](elem string, devices []*MFADevice, p params, render func(*MFADevice) X) (any, *Error) {
	pg, err := readPage(p)
	if err != nil {
		return nil, err
	}
	serial := func(d *MFADevice) string { return d.Serial }
	sortByKey(devices, serial)
	return listOf(elem, devices, serial, pg, render)
}

// xmlMFADevice is IAM's MFADevice.
type xmlMFADevice struct {
	UserName     string  `xml:"UserName"`
	SerialNumber string  `xml:"SerialNumber"`
	EnableDate   isoTime `xml:"EnableDate"`
}

func listMFADevices(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	return listDevices("MFADevices", s.acct.mfaDevicesOf(u.Name), c.params, func(d *MFADevice) xmlMFADevice {
		return xmlMFADevice{u.Name, d.Serial, isoTime(enabledAt(d))}
	})
}

// listVirtualMFADevices lists the account's virtual devices, with the user
// of each assigned one; seeds are never listed, as IAM returns them only at
// creation.
func listVirtualMFADevices(s *Server, c *call) (any, *Error) {
	status := c.str("AssignmentStatus")
	switch status {
	case "":
		status = "Any"
	case "Assigned", "Unassigned", "Any":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Assigned, Unassigned, Any]", status)
	}
	var all []*MFADevice
	for _, d := range s.acct.MFADevices {
		if status == "Any" || (status == "Assigned") == (d.User != "") {
			all = append(all, d)
		}
	}
	return listDevices("VirtualMFADevices", all, c.params, func(d *MFADevice) xmlVirtualMFADevice {
		x := xmlVirtualMFADevice{SerialNumber: d.Serial}
		if u := s.acct.Users[key(d.User)]; d.User != "" && u != nil {
			ux := s.userListXML(u)
			x.User, x.EnableDate = &ux, optTime(d.Enabled)
		}
		return x
	})
}
