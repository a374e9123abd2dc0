package catalogue

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Credentials of users: access keys, console passwords (login profiles) and
// MFA devices. Two secrets pass through here — a new secret access key and a
// console password given as input — and neither may reach a result, an
// error message or a log unless the operator asked for it.

func init() {
	implementChange("create_access_key", createAccessKey)
	implementChange("delete_access_key", deleteAccessKey)
	implement("list_access_keys", listAccessKeys)
	implementChange("update_access_key", updateAccessKey)
	implement("get_access_key_last_used", getAccessKeyLastUsed)
	implement("get_login_profile", getLoginProfile)
	implementChange("create_login_profile", createLoginProfile)
	implementChange("delete_login_profile", deleteLoginProfile)
	implement("list_mfa_devices", listMFADevices)
	implementChange("deactivate_mfa_device", deactivateMFADevice)
}

// ---- access keys ----

// maxAccessKeys is IAM's quota of access keys per user (not adjustable).
const maxAccessKeys = 2

func createAccessKey(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*Planned[api.CreateAccessKeyOutput], error) {
	// Refused before anything is created: a key whose secret has nowhere to
	// go is useless, and deleting it again afterwards could itself fail and
	// leave a key nobody can use.
	if c.secrets == nil && !c.returnSecrets {
		return nil, api.Errorf(api.InvalidInput, "no secrets directory is configured, so the new secret would have nowhere safe to go; nothing was created. Start the server with --secrets-dir DIR (or with --return-secrets to receive secrets in the conversation)")
	}
	keys, err := c.accessKeysOf(ctx, in.UserName)
	note, err := planRead(err, "the user's access keys, to check IAM's quota of two")
	if err != nil {
		return nil, err
	}
	if len(keys) >= maxAccessKeys {
		held := make([]string, len(keys))
		for i := range keys {
			held[i] = str(keys[i].AccessKeyId) + " (" + string(keys[i].Status) + ")"
		}
		return nil, api.Errorf(api.LimitExceeded, "user %s already has %d access keys (%s), the most IAM allows, so nothing was created. Delete one with delete_access_key first — an Inactive one, or the one this key replaces once nothing uses it",
			in.UserName, len(keys), strings.Join(held, ", "))
	}
	where := "its secret will be written to a file in the secrets directory, readable only by the server's user"
	if _, ok := c.secrets.(SecretLinker); ok {
		where = "its secret will be kept on the server behind a one-time link for you alone, working for a few minutes"
	}
	if c.returnSecrets {
		where = "its secret will be in the result, once, and so in this conversation (--return-secrets)"
	}
	// The secret exists only once the key does: a plan never holds one.
	var created *types.AccessKey
	b := newChange("create an access key for IAM user "+in.UserName).
		call("CreateAccessKey", userEntity(in.UserName), func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(in.UserName)})
			if err == nil {
				created = out.AccessKey
			}
			return err
		}).
		detail(withNote("a new Active key: "+where+"; if the secret cannot be stored, the key is deleted again", note)).
		affects(credentialEntity(in.UserName, "access-key", "(new)")).
		undo("delete_access_key " + in.UserName + " with the new key's id (in the result)")
	return finish(b, func(ctx context.Context, _ *deletion) (*api.CreateAccessKeyOutput, error) {
		k := created
		key := api.AccessKey{UserName: str(k.UserName), AccessKeyID: str(k.AccessKeyId), Status: string(k.Status), CreateDate: date(k.CreateDate)}
		res := &api.CreateAccessKeyOutput{AccessKey: key}
		if c.returnSecrets {
			res.SecretAccessKey = str(k.SecretAccessKey)
			res.Message = "created access key " + key.AccessKeyID + " for " + key.UserName + "; its secret is in this result"
			res.Warnings = []string{"the secret access key is shown this once (IAM never returns it again) and now sits in this conversation and any transcript of it: move it to a secret store at once, and rotate the key if the conversation may be shared"}
			return res, nil
		}
		if links, ok := c.secrets.(SecretLinker); ok {
			link, expires, err := links.StoreAccessKeyLink(ctx, key.UserName, key.AccessKeyID, str(k.SecretAccessKey), key.CreateDate)
			if err != nil {
				return nil, c.secretNotStored(ctx, k, err)
			}
			res.SecretLink = link
			res.SecretLinkExpires = expires.UTC().Format(time.RFC3339)
			res.Message = LinkMessage(key, link, res.SecretLinkExpires)
			return res, nil
		}
		location, err := c.secrets.StoreAccessKey(ctx, key.UserName, key.AccessKeyID, str(k.SecretAccessKey), key.CreateDate)
		if err != nil {
			return nil, c.secretNotStored(ctx, k, err)
		}
		res.SecretFile = location
		res.Message = "created access key " + key.AccessKeyID + " for " + key.UserName + "; its secret was written to " + location +
			", readable only by the server's user. Hand the file to whoever needs the key, and delete it once the secret is stored elsewhere"
		return res, nil
	})
}

// LinkMessage is create_access_key's message when the secret waits behind
// a one-time link: what the link is, for whom, until when, and how to
// fetch it (a browser cannot: the link needs the caller's credentials).
func LinkMessage(key api.AccessKey, link, expires string) string {
	return "created access key " + key.AccessKeyID + " for " + key.UserName + "; its secret is not in this result: fetch it once, with the same credentials as this MCP connection, before " + expires +
		" from " + link + " (for example: curl -H \"Authorization: Bearer $TOKEN\" " + link + "). The link works once, only for you; after that, or once it expires, it answers 410 and the key must be replaced"
}

// secretNotStored deletes a key whose secret could not be stored, so that
// nothing is left half-done, and says what happened.
func (c *Catalogue) secretNotStored(ctx context.Context, k *types.AccessKey, cause error) error {
	// The sink's message is shown to the assistant: it must not carry the
	// secret, whatever sink the operator plugged in.
	why := cause.Error()
	if strings.Contains(why, str(k.SecretAccessKey)) {
		why = "the secrets sink failed (its message is withheld because it contains the secret)"
	}
	// The clean-up must run even when the request was cancelled meanwhile.
	_, err := c.clients.IAM.DeleteAccessKey(context.WithoutCancel(ctx), &iam.DeleteAccessKeyInput{UserName: k.UserName, AccessKeyId: k.AccessKeyId})
	if err != nil {
		return api.Errorf(api.ServiceFailure, "the new secret could not be stored (%s), and deleting access key %s again failed too (%s): the key exists but its secret is lost; delete it with delete_access_key", why, str(k.AccessKeyId), asAPIError(err).Message)
	}
	fix := "Fix the secrets directory (--secrets-dir) and try again"
	if _, ok := c.secrets.(SecretLinker); ok {
		fix = "Try again once the cause above is gone"
	}
	return api.Errorf(api.ServiceFailure, "the new secret could not be stored (%s); access key %s was deleted again, so nothing changed. %s", why, str(k.AccessKeyId), fix)
}

func deleteAccessKey(ctx context.Context, c *Catalogue, in *api.AccessKeyInput) (*Planned[api.Result], error) {
	k, note, err := c.accessKeyOfUser(ctx, in.UserName, in.AccessKeyID)
	if err != nil {
		return nil, err
	}
	target := credentialEntity(in.UserName, "access-key", in.AccessKeyID)
	b := newChange("delete access key "+in.AccessKeyID+" of IAM user "+in.UserName).
		call("DeleteAccessKey", target, func(ctx context.Context) error {
			_, err := c.clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(in.UserName), AccessKeyId: aws.String(in.AccessKeyID)})
			return err
		}).
		detail(withNote(c.describeKey(ctx, k)+"; anything still using it fails from then on", note)).
		affects(target).
		final("the secret is gone for good; a new key has a new id and secret, which everything that used this one must be given (update_access_key to Inactive first is the reversible way to find out what still uses it)")
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "deleted access key " + in.AccessKeyID + " of " + in.UserName + "; anything still using it fails from now on"}, nil
	})
}

func listAccessKeys(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.ListAccessKeysOutput, error) {
	out, err := c.clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.ListAccessKeysOutput{AccessKeys: convertAll(out.AccessKeyMetadata, accessKeyOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func updateAccessKey(ctx context.Context, c *Catalogue, in *api.UpdateAccessKeyInput) (*Planned[api.Result], error) {
	k, note, err := c.accessKeyOfUser(ctx, in.UserName, in.AccessKeyID)
	if err != nil {
		return nil, err
	}
	target := credentialEntity(in.UserName, "access-key", in.AccessKeyID)
	b := newChange("set access key "+in.AccessKeyID+" of IAM user "+in.UserName+" to "+in.Status).
		call("UpdateAccessKey", target, func(ctx context.Context) error {
			_, err := c.clients.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(in.UserName), AccessKeyId: aws.String(in.AccessKeyID), Status: types.StatusType(in.Status)})
			return err
		}).
		affects(target)
	now := withNote(c.describeKey(ctx, k), note)
	switch {
	case k == nil:
		b.detail(now)
		b.undo("update_access_key " + in.UserName + " " + in.AccessKeyID + " with the status it had (it could not be read)")
	case string(k.Status) == in.Status:
		b.detail(now + ": it is " + in.Status + " already, so nothing will change")
		b.undo("nothing to undo")
	case in.Status == string(types.StatusTypeInactive):
		b.detail(now + "; everything that uses it fails at once")
		b.undo("update_access_key " + in.UserName + " " + in.AccessKeyID + " status " + string(k.Status))
	default:
		b.detail(now + "; it works again at once, for whoever holds its secret")
		b.undo("update_access_key " + in.UserName + " " + in.AccessKeyID + " status " + string(k.Status))
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		msg := "set access key " + in.AccessKeyID + " of " + in.UserName + " to " + in.Status
		if in.Status == string(types.StatusTypeInactive) {
			msg += ": it stops working at once for everything that uses it; set it Active again to undo"
		} else {
			msg += ": it works again"
		}
		return &api.Result{Message: msg}, nil
	})
}

func getAccessKeyLastUsed(ctx context.Context, c *Catalogue, in *api.AccessKeyIDInput) (*api.AccessKeyLastUsedOutput, error) {
	out, err := c.clients.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(in.AccessKeyID)})
	if err != nil {
		return nil, err
	}
	// IAM says N/A for a key never used; say it too when it says nothing.
	res := &api.AccessKeyLastUsedOutput{UserName: str(out.UserName), AccessKeyID: in.AccessKeyID, ServiceName: "N/A", Region: "N/A"}
	if u := out.AccessKeyLastUsed; u != nil {
		res.LastUsedDate = optDate(u.LastUsedDate)
		if s := str(u.ServiceName); s != "" {
			res.ServiceName = s
		}
		if r := str(u.Region); r != "" {
			res.Region = r
		}
	}
	return res, nil
}

// ---- login profiles ----

func loginProfileOf(p *types.LoginProfile) api.LoginProfile {
	return api.LoginProfile{UserName: str(p.UserName), CreateDate: date(p.CreateDate), PasswordResetRequired: p.PasswordResetRequired}
}

func getLoginProfile(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*api.LoginProfileOutput, error) {
	out, err := c.clients.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(in.UserName)})
	if err != nil {
		// IAM answers the same code for a missing user and for a user
		// without a password; the second is the usual case here.
		if isCode(err, "NoSuchEntity") {
			return nil, api.Errorf(api.NoSuchEntity, "%s If the user exists, it has no console password (create_login_profile gives it one).", asAPIError(err).Message)
		}
		return nil, err
	}
	return &api.LoginProfileOutput{LoginProfile: loginProfileOf(out.LoginProfile)}, nil
}

func createLoginProfile(ctx context.Context, c *Catalogue, in *api.CreateLoginProfileInput) (*Planned[api.LoginProfileOutput], error) {
	name := aws.String(in.UserName)
	_, err := c.clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: name})
	note, err := planRead(err, "user "+in.UserName)
	if err != nil {
		return nil, err
	}
	// IAM answers NoSuchEntity for a user without a password, which here
	// is the expected case, not a refusal.
	switch _, err := c.clients.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: name}); {
	case err == nil:
		return nil, api.Errorf(api.EntityAlreadyExists, "user %s has a console password already, so nothing was changed. To give it a new one, delete_login_profile and then create_login_profile (or let the user change it)", in.UserName)
	case note == "" && !isCode(err, "NoSuchEntity"):
		note, _ = planRead(err, "whether the user has a console password already")
	}
	var warnings []string
	reset := "the user must choose a new password at first sign-in"
	if !in.PasswordResetRequired {
		reset = "the user need not change it at first sign-in"
		warnings = []string{"the password passed through this conversation and " + in.UserName + " need not change it at first sign-in; prefer password_reset_required=true (delete and recreate the login profile) so that only the user knows their password"}
	}
	// Never the password itself: a plan is shown, logged and returned.
	var created *types.LoginProfile
	target := credentialEntity(in.UserName, "login-profile")
	b := newChange("give IAM user "+in.UserName+" a console password").
		call("CreateLoginProfile", target, func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(in.Password), PasswordResetRequired: in.PasswordResetRequired})
			if err != nil {
				// IAM's messages do not repeat the password today; an answer
				// that did would put it in the conversation, so it is withheld.
				if ae := asAPIError(err); strings.Contains(ae.Message, in.Password) {
					return api.Errorf(ae.Code, "IAM refused to create the console password of %s (%s); its explanation is withheld because it repeats the password. Check the user exists and choose a password that satisfies the account password policy", in.UserName, ae.Code)
				}
				return err
			}
			created = out.LoginProfile
			return nil
		}).
		detail(withNote("the password given in the call (not shown), checked by IAM against the account's password policy; "+reset, note)).
		affects(target).
		findings(warnings).
		undo("delete_login_profile " + in.UserName)
	return finish(b, func(context.Context, *deletion) (*api.LoginProfileOutput, error) {
		return &api.LoginProfileOutput{LoginProfile: loginProfileOf(created), Result: api.Result{Message: "gave " + in.UserName + " a console password", Warnings: warnings}}, nil
	})
}

func deleteLoginProfile(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*Planned[api.Result], error) {
	name := aws.String(in.UserName)
	lp, err := c.clients.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: name})
	note, err := planRead(err, "the console password's settings")
	if err != nil {
		// NoSuchEntity: no user, or (the usual case) no password.
		return nil, api.Errorf(api.NoSuchEntity, "%s If the user exists, it has no console password, so there is nothing to remove.", asAPIError(err).Message)
	}
	since := "the user"
	if note == "" {
		since = "set " + date(lp.LoginProfile.CreateDate).Format("2006-01-02") + "; the user"
	}
	target := credentialEntity(in.UserName, "login-profile")
	b := newChange("remove the console password of IAM user "+in.UserName).
		call("DeleteLoginProfile", target, func(ctx context.Context) error {
			_, err := c.clients.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
			return err
		}).
		detail(withNote(since+" can no longer sign in to the console (access keys still work)", note)).
		affects(target).
		final("the password is gone: create_login_profile gives the user a new one, which must then reach them")
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "removed the console password of " + in.UserName + ": the user can no longer sign in to the console (access keys still work)"}, nil
	})
}

// ---- MFA devices ----

func listMFADevices(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.ListMFADevicesOutput, error) {
	out, err := c.clients.IAM.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.ListMFADevicesOutput{MFADevices: convertAll(out.MFADevices, mfaDeviceOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func deactivateMFADevice(ctx context.Context, c *Catalogue, in *api.MFADeviceInput) (*Planned[api.Result], error) {
	name := aws.String(in.UserName)
	devices, err := allPages(ctx, iam.NewListMFADevicesPaginator(c.clients.IAM, &iam.ListMFADevicesInput{UserName: name}),
		func(o *iam.ListMFADevicesOutput) []types.MFADevice { return o.MFADevices })
	note, err := planRead(err, "the user's MFA devices")
	if err != nil {
		return nil, err
	}
	var device *types.MFADevice
	for i := range devices {
		// Without regard to case: a plan must not refuse what IAM takes.
		if strings.EqualFold(str(devices[i].SerialNumber), in.SerialNumber) {
			device = &devices[i]
		}
	}
	enabled := "the user"
	if device != nil {
		enabled = "enabled " + date(device.EnableDate).Format("2006-01-02") + "; the user"
	}
	if device == nil && note == "" {
		return nil, api.Errorf(api.NoSuchEntity, "user %s has no MFA device %s, so nothing was changed; list_mfa_devices shows its devices", in.UserName, in.SerialNumber)
	}
	b := newChange("deactivate MFA device "+in.SerialNumber+" of IAM user "+in.UserName).
		call("DeactivateMFADevice", in.SerialNumber, func(ctx context.Context) error {
			_, err := c.clients.IAM.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: name, SerialNumber: aws.String(in.SerialNumber)})
			return err
		}).
		detail(withNote(enabled+" signs in without MFA until a device is enabled again, and policies that require MFA stop matching the user's sessions", note)).
		affects(in.SerialNumber).
		final("enabling a device again takes two consecutive codes from the device itself (iam:EnableMFADevice), which this server does not do: the user or an administrator must do it with the device in hand")
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "deactivated MFA device " + in.SerialNumber + " of " + in.UserName + "; the user signs in without MFA until a new device is enabled"}, nil
	})
}
