package sandbox

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// mfaCode is the test's own RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) of a
// raw key at time step n, written apart from the sandbox's totp so that the
// two check each other.
func mfaCode(key []byte, n int64) string {
	msg := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		msg[i] = byte(n)
		n >>= 8
	}
	mac := hmac.New(sha1.New, key)
	mac.Write(msg)
	h := mac.Sum(nil)
	o := int(h[19] & 0xf)
	v := (int(h[o])&0x7f)<<24 | int(h[o+1])<<16 | int(h[o+2])<<8 | int(h[o+3])
	s := strconv.Itoa(v % 1000000)
	return strings.Repeat("0", 6-len(s)) + s
}

// mfaDevice is a virtual device as the test sees it: its serial and the raw
// key decoded from the Base32 seed the SDK handed back.
type mfaDevice struct {
	serial string
	key    []byte
}

// codes returns the codes of steps n-1 and n, n being now's step plus
// shift: what an app shows for two consecutive periods ending now.
func (d mfaDevice) codes(now time.Time, shift int64) [2]string {
	n := now.Unix()/30 + shift
	return [2]string{mfaCode(d.key, n-1), mfaCode(d.key, n)}
}

func mfaCreate(t *testing.T, c *iam.Client, name, path string, tags ...types.Tag) mfaDevice {
	t.Helper()
	in := &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name), Tags: tags}
	if path != "" {
		in.Path = aws.String(path)
	}
	out := must[*iam.CreateVirtualMFADeviceOutput](t)(c.CreateVirtualMFADevice(ctx, in))
	v := out.VirtualMFADevice
	// The SDK decodes the blob to the Base32 text an app would be given.
	seed := string(v.Base32StringSeed)
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(seed)
	if err != nil || len(seed) != 32 || len(key) != 20 {
		t.Fatalf("seed %q is not 20 bytes of unpadded Base32: %v", seed, err)
	}
	if len(v.QRCodePNG) != 0 {
		t.Fatal("unexpected QR code")
	}
	return mfaDevice{serial: *v.SerialNumber, key: key}
}

func mfaEnable(c *iam.Client, user string, d mfaDevice, codes [2]string) error {
	return second(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(d.serial),
		AuthenticationCode1: aws.String(codes[0]), AuthenticationCode2: aws.String(codes[1])}))
}

func mfaResync(c *iam.Client, user string, d mfaDevice, codes [2]string) error {
	return second(c.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(d.serial),
		AuthenticationCode1: aws.String(codes[0]), AuthenticationCode2: aws.String(codes[1])}))
}

func mfaDeactivate(c *iam.Client, user string, d mfaDevice) error {
	in := &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(d.serial)}
	if user != "" {
		in.UserName = aws.String(user)
	}
	return second(c.DeactivateMFADevice(ctx, in))
}

func TestMFATOTPVectors(t *testing.T) {
	// RFC 6238 appendix B (SHA-1 seed), the last six of the eight digits.
	key := []byte("12345678901234567890")
	seed := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	for at, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		got, err := totp(seed, at/30)
		if err != nil || got != want || mfaCode(key, at/30) != want {
			t.Errorf("T=%d: totp %q (%v), test's %q, want %q", at, got, err, mfaCode(key, at/30), want)
		}
	}
	if _, err := totp("not base32!", 1); err == nil {
		t.Error("a bad seed was accepted")
	}
}

func TestMFAVirtualDeviceLifecycle(t *testing.T) {
	sb, clk := credsSandbox(t, "alice", "bob")
	c := sb.iam
	d := mfaCreate(t, c, "alice-phone", "/eng/", types.Tag{Key: aws.String("owner"), Value: aws.String("alice")})
	if d.serial != "arn:aws:iam::123456789012:mfa/eng/alice-phone" {
		t.Fatalf("serial %s", d.serial)
	}
	if other := mfaCreate(t, c, "spare", ""); other.serial != "arn:aws:iam::123456789012:mfa/spare" || string(other.key) == string(d.key) {
		t.Fatalf("second device %s shares a seed or has a bad serial", other.serial)
	}
	for _, name := range []string{"alice-phone", "ALICE-PHONE"} {
		_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name), Path: aws.String("/eng/")})
		credsWantMessage(t, err, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
		wantStatus(t, err, 409)
	}
	for _, name := range []string{"bad name", strings.Repeat("m", 227)} {
		_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)})
		wantCode(t, err, "ValidationError")
	}

	// Enabling takes two consecutive codes of this device, near now.
	now := clk.now()
	good := d.codes(now, 0)
	c1, c2 := good[0], good[1]
	// wrong is a well-formed code that is none of this device's for ±25 steps.
	wrong := func() string {
		for i := 0; ; i++ {
			w := fmt.Sprintf("%06d", i)
			clash := false
			for n := int64(-25); n <= 25; n++ {
				clash = clash || w == mfaCode(d.key, now.Unix()/30+n)
			}
			if !clash {
				return w
			}
		}
	}
	other := mfaDevice{key: []byte("12345678901234567890")}
	for name, codes := range map[string][2]string{
		"wrong codes":        {wrong(), wrong()},
		"wrong second code":  {c1, wrong()},
		"same code twice":    {c2, c2},
		"not consecutive":    {d.codes(now, -1)[0], c2},
		"reversed":           {c2, c1},
		"outside the window": d.codes(now, 10), // five minutes ahead
		"another device's":   other.codes(now, 0),
	} {
		t.Run(name, func(t *testing.T) {
			err := mfaEnable(c, "alice", d, codes)
			credsWantMessage(t, err, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
			wantStatus(t, err, 403)
		})
	}
	wantCode(t, mfaEnable(c, "alice", d, [2]string{"12345", c2}), "ValidationError")
	wantCode(t, mfaEnable(c, "alice", d, [2]string{"12345a", c2}), "ValidationError")
	wantCode(t, mfaEnable(c, "nobody", d, good), "NoSuchEntity")
	credsWantMessage(t, mfaEnable(c, "alice", mfaDevice{serial: "arn:aws:iam::123456789012:mfa/none"}, good), "NoSuchEntity", "mfa/none")
	ok(t, mfaEnable(c, "alice", d, good))

	list := must[*iam.ListMFADevicesOutput](t)(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")}))
	if len(list.MFADevices) != 1 || *list.MFADevices[0].SerialNumber != d.serial || *list.MFADevices[0].UserName != "alice" ||
		!list.MFADevices[0].EnableDate.Equal(now) {
		t.Fatalf("alice's devices %+v", list.MFADevices)
	}
	clk.advance(time.Minute)
	credsWantMessage(t, mfaEnable(c, "bob", d, d.codes(clk.now(), 0)), "EntityAlreadyExists", "MFA Device is already in use.")

	// Resync accepts a drifted device within ten minutes, never a used code.
	clk.advance(time.Minute)
	now = clk.now()
	wantCode(t, mfaResync(c, "alice", d, good), "InvalidAuthenticationCode")
	drifted := d.codes(now, 10)
	ok(t, mfaResync(c, "alice", d, drifted))
	wantCode(t, mfaResync(c, "alice", d, drifted), "InvalidAuthenticationCode")
	wantCode(t, mfaResync(c, "alice", d, d.codes(now, 25)), "InvalidAuthenticationCode")
	credsWantMessage(t, mfaResync(c, "bob", d, d.codes(now, 12)), "NoSuchEntity", d.serial)
	wantCode(t, mfaResync(c, "alice", d, [2]string{"00000", "000000"}), "ValidationError")

	// A device in use cannot be deleted, nor can its user.
	_, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(d.serial)})
	credsWantMessage(t, err, "DeleteConflict", "MFA Device is in use.")
	wantStatus(t, err, 409)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	credsWantMessage(t, err, "DeleteConflict", "delete MFA devices")

	// Deactivation unassigns it from its user only.
	credsWantMessage(t, mfaDeactivate(c, "bob", d), "NoSuchEntity", d.serial)
	ok(t, mfaDeactivate(c, "alice", d))
	wantCode(t, mfaDeactivate(c, "alice", d), "NoSuchEntity")
	list = must[*iam.ListMFADevicesOutput](t)(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")}))
	if len(list.MFADevices) != 0 {
		t.Fatalf("still listed %+v", list.MFADevices)
	}

	// Re-enabling refuses the codes already accepted, then takes fresh ones.
	wantCode(t, mfaEnable(c, "bob", d, drifted), "InvalidAuthenticationCode")
	clk.advance(6 * time.Minute)
	ok(t, mfaEnable(c, "bob", d, d.codes(clk.now(), 0)))
	ok(t, mfaDeactivate(c, "bob", d))

	// Tags.
	ok(t, second(c.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: aws.String(d.serial),
		Tags: []types.Tag{{Key: aws.String("OWNER"), Value: aws.String("bob")}, {Key: aws.String("team"), Value: aws.String("eng")}}})))
	tags := must[*iam.ListMFADeviceTagsOutput](t)(c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(d.serial)}))
	if len(tags.Tags) != 2 || *tags.Tags[0].Value != "bob" {
		t.Fatalf("tags %+v", tags.Tags)
	}
	ok(t, second(c.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: aws.String(d.serial), TagKeys: []string{"owner"}})))
	tags = must[*iam.ListMFADeviceTagsOutput](t)(c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(d.serial)}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Fatalf("tags after untag %+v", tags.Tags)
	}
	none := aws.String("arn:aws:iam::123456789012:mfa/none")
	for name, err := range map[string]error{
		"Tag":    second(c.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: none, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})),
		"Untag":  second(c.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: none, TagKeys: []string{"k"}})),
		"List":   second(c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: none})),
		"Delete": second(c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: none})),
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, err, "NoSuchEntity"); wantStatus(t, err, 404) })
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String("short")})
	wantCode(t, err, "ValidationError")

	ok(t, second(c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(d.serial)})))
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(d.serial)})
	wantCode(t, err, "NoSuchEntity")
	ok(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
}

func TestMFADeviceLists(t *testing.T) {
	sb, clk := credsSandbox(t, "carol", "dave")
	c := sb.iam
	now := clk.now()
	var devices []mfaDevice
	for i := 0; i < 12; i++ {
		devices = append(devices, mfaCreate(t, c, fmt.Sprintf("dev%02d", i), ""))
	}
	// Eight devices per user at most.
	for _, d := range devices[:8] {
		ok(t, mfaEnable(c, "carol", d, d.codes(now, 0)))
	}
	err := mfaEnable(c, "carol", devices[8], devices[8].codes(now, 0))
	credsWantMessage(t, err, "LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")
	wantStatus(t, err, 409)
	ok(t, mfaEnable(c, "dave", devices[8], devices[8].codes(now, 0)))

	// ListMFADevices pages through carol's eight, by serial.
	p := iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{UserName: aws.String("carol"), MaxItems: aws.Int32(3)})
	var serials []string
	pages := 0
	for p.HasMorePages() {
		page := must[*iam.ListMFADevicesOutput](t)(p.NextPage(ctx))
		pages++
		for _, m := range page.MFADevices {
			serials = append(serials, *m.SerialNumber)
		}
	}
	if pages != 3 || len(serials) != 8 || serials[0] != devices[0].serial || serials[7] != devices[7].serial {
		t.Fatalf("%d pages: %v", pages, serials)
	}

	// ListVirtualMFADevices by assignment status.
	virtual := func(status types.AssignmentStatusType, max int32) ([]types.VirtualMFADevice, int) {
		t.Helper()
		in := &iam.ListVirtualMFADevicesInput{AssignmentStatus: status}
		if max > 0 {
			in.MaxItems = aws.Int32(max)
		}
		var all []types.VirtualMFADevice
		pages := 0
		for p := iam.NewListVirtualMFADevicesPaginator(c, in); p.HasMorePages(); pages++ {
			all = append(all, must[*iam.ListVirtualMFADevicesOutput](t)(p.NextPage(ctx)).VirtualMFADevices...)
		}
		return all, pages
	}
	assigned, _ := virtual(types.AssignmentStatusTypeAssigned, 0)
	if len(assigned) != 9 {
		t.Fatalf("%d assigned", len(assigned))
	}
	for _, v := range assigned {
		if v.User == nil || v.EnableDate == nil || !v.EnableDate.Equal(now) || len(v.Base32StringSeed) != 0 ||
			(*v.User.UserName != "carol" && *v.User.UserName != "dave") || !strings.HasPrefix(*v.User.Arn, "arn:aws:iam::123456789012:user/") {
			t.Fatalf("assigned device %+v user %+v", v, v.User)
		}
	}
	unassigned, _ := virtual(types.AssignmentStatusTypeUnassigned, 0)
	if len(unassigned) != 3 || unassigned[0].User != nil || unassigned[0].EnableDate != nil || *unassigned[0].SerialNumber != devices[9].serial {
		t.Fatalf("unassigned %+v", unassigned)
	}
	for _, status := range []types.AssignmentStatusType{types.AssignmentStatusTypeAny, ""} {
		if all, pages := virtual(status, 5); len(all) != 12 || pages != 3 {
			t.Fatalf("status %q: %d devices in %d pages", status, len(all), pages)
		}
	}
	_, err = c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: "Bogus"})
	wantCode(t, err, "ValidationError")

	// Without UserName, the caller's own devices.
	dave := sb.asUser(credsKey(t, sb, "dave"))
	own := must[*iam.ListMFADevicesOutput](t)(dave.ListMFADevices(ctx, &iam.ListMFADevicesInput{}))
	if len(own.MFADevices) != 1 || *own.MFADevices[0].SerialNumber != devices[8].serial {
		t.Fatalf("dave's devices %+v", own.MFADevices)
	}
	ok(t, mfaDeactivate(dave, "", devices[8]))
	_, err = c.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	credsWantMessage(t, err, "ValidationError", "Must specify userName when calling with non-User credentials")
	wantCode(t, mfaDeactivate(c, "", devices[0]), "ValidationError")
	_, err = c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
}
