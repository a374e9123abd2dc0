package iam

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Credentials of users: access keys, console passwords (login profiles) and
// MFA devices. Two secrets pass through here — a new secret access key and a
// console password given as input — and neither may reach a result, an
// error message or a log unless the operator asked for it.

func init() {
	implementLegacy("create_access_key", createAccessKey)
	implementLegacy("delete_access_key", deleteAccessKey)
	implement("list_access_keys", listAccessKeys)
	implementLegacy("update_access_key", updateAccessKey)
	implement("get_access_key_last_used", getAccessKeyLastUsed)
	implement("get_login_profile", getLoginProfile)
	implementLegacy("create_login_profile", createLoginProfile)
	implementLegacy("delete_login_profile", deleteLoginProfile)
	implement("list_mfa_devices", listMFADevices)
	implementLegacy("deactivate_mfa_device", deactivateMFADevice)
}

// ---- access keys ----

func createAccessKey(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*api.CreateAccessKeyOutput, error) {
	// Refused before anything is created: a key whose secret has nowhere to
	// go is useless, and deleting it again afterwards could itself fail and
	// leave a key nobody can use.
	if c.secrets == nil && !c.returnSecrets {
		return nil, api.Errorf(api.InvalidInput, "no secrets directory is configured, so the new secret would have nowhere safe to go; nothing was created. Start the server with --secrets-dir DIR (or with --return-secrets to receive secrets in the conversation)")
	}
	out, err := c.clients.IAM.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String(in.UserName)})
	if err != nil {
		return nil, err
	}
	k := out.AccessKey
	key := api.AccessKey{UserName: str(k.UserName), AccessKeyID: str(k.AccessKeyId), Status: string(k.Status), CreateDate: date(k.CreateDate)}
	res := &api.CreateAccessKeyOutput{AccessKey: key}
	if c.returnSecrets {
		res.SecretAccessKey = str(k.SecretAccessKey)
		res.Message = "created access key " + key.AccessKeyID + " for " + key.UserName + "; its secret is in this result"
		res.Warnings = []string{"the secret access key is shown this once (IAM never returns it again) and now sits in this conversation and any transcript of it: move it to a secret store at once, and rotate the key if the conversation may be shared"}
		return res, nil
	}
	location, err := c.secrets.StoreAccessKey(key.UserName, key.AccessKeyID, str(k.SecretAccessKey), key.CreateDate)
	if err != nil {
		return nil, c.secretNotStored(ctx, k, err)
	}
	res.SecretFile = location
	res.Message = "created access key " + key.AccessKeyID + " for " + key.UserName + "; its secret was written to " + location +
		", readable only by the server's user. Hand the file to whoever needs the key, and delete it once the secret is stored elsewhere"
	return res, nil
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
	_, err := c.clients.IAM.DeleteAccessKey(context.WithoutCancel(ctx), &awsiam.DeleteAccessKeyInput{UserName: k.UserName, AccessKeyId: k.AccessKeyId})
	if err != nil {
		return api.Errorf(api.ServiceFailure, "the new secret could not be stored (%s), and deleting access key %s again failed too (%s): the key exists but its secret is lost; delete it with delete_access_key", why, str(k.AccessKeyId), asAPIError(err).Message)
	}
	return api.Errorf(api.ServiceFailure, "the new secret could not be stored (%s); access key %s was deleted again, so nothing changed. Fix the secrets directory (--secrets-dir) and try again", why, str(k.AccessKeyId))
}

func deleteAccessKey(ctx context.Context, c *Catalogue, in *api.AccessKeyInput) (*api.Result, error) {
	if _, err := c.clients.IAM.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String(in.UserName), AccessKeyId: aws.String(in.AccessKeyID)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "deleted access key " + in.AccessKeyID + " of " + in.UserName + "; anything still using it fails from now on"}, nil
}

func listAccessKeys(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.ListAccessKeysOutput, error) {
	out, err := c.clients.IAM.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.ListAccessKeysOutput{AccessKeys: make([]api.AccessKey, 0, len(out.AccessKeyMetadata)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.AccessKeyMetadata {
		res.AccessKeys = append(res.AccessKeys, accessKeyOf(&out.AccessKeyMetadata[i]))
	}
	return res, nil
}

func updateAccessKey(ctx context.Context, c *Catalogue, in *api.UpdateAccessKeyInput) (*api.Result, error) {
	if _, err := c.clients.IAM.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String(in.UserName), AccessKeyId: aws.String(in.AccessKeyID), Status: types.StatusType(in.Status)}); err != nil {
		return nil, err
	}
	msg := "set access key " + in.AccessKeyID + " of " + in.UserName + " to " + in.Status
	if in.Status == string(types.StatusTypeInactive) {
		msg += ": it stops working at once for everything that uses it; set it Active again to undo"
	} else {
		msg += ": it works again"
	}
	return &api.Result{Message: msg}, nil
}

func getAccessKeyLastUsed(ctx context.Context, c *Catalogue, in *api.AccessKeyIDInput) (*api.AccessKeyLastUsedOutput, error) {
	out, err := c.clients.IAM.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(in.AccessKeyID)})
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
	out, err := c.clients.IAM.GetLoginProfile(ctx, &awsiam.GetLoginProfileInput{UserName: aws.String(in.UserName)})
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

func createLoginProfile(ctx context.Context, c *Catalogue, in *api.CreateLoginProfileInput) (*api.LoginProfileOutput, error) {
	out, err := c.clients.IAM.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: aws.String(in.UserName), Password: aws.String(in.Password), PasswordResetRequired: in.PasswordResetRequired})
	if err != nil {
		// IAM's messages do not repeat the password today; an answer that
		// did would put it in the conversation, so it is withheld.
		if ae := asAPIError(err); strings.Contains(ae.Message, in.Password) {
			return nil, api.Errorf(ae.Code, "IAM refused to create the console password of %s (%s); its explanation is withheld because it repeats the password. Check the user exists and choose a password that satisfies the account password policy", in.UserName, ae.Code)
		}
		return nil, err
	}
	res := &api.LoginProfileOutput{LoginProfile: loginProfileOf(out.LoginProfile), Result: api.Result{Message: "gave " + in.UserName + " a console password"}}
	if !in.PasswordResetRequired {
		res.Warnings = []string{"the password passed through this conversation and " + in.UserName + " need not change it at first sign-in; prefer password_reset_required=true (delete and recreate the login profile) so that only the user knows their password"}
	}
	return res, nil
}

func deleteLoginProfile(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*api.Result, error) {
	if _, err := c.clients.IAM.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: aws.String(in.UserName)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "removed the console password of " + in.UserName + ": the user can no longer sign in to the console (access keys still work)"}, nil
}

// ---- MFA devices ----

func listMFADevices(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.ListMFADevicesOutput, error) {
	out, err := c.clients.IAM.ListMFADevices(ctx, &awsiam.ListMFADevicesInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.ListMFADevicesOutput{MFADevices: make([]api.MFADevice, 0, len(out.MFADevices)), Page: page(out.IsTruncated, out.Marker)}
	for _, d := range out.MFADevices {
		res.MFADevices = append(res.MFADevices, api.MFADevice{UserName: str(d.UserName), SerialNumber: str(d.SerialNumber), EnableDate: date(d.EnableDate)})
	}
	return res, nil
}

func deactivateMFADevice(ctx context.Context, c *Catalogue, in *api.MFADeviceInput) (*api.Result, error) {
	if _, err := c.clients.IAM.DeactivateMFADevice(ctx, &awsiam.DeactivateMFADeviceInput{UserName: aws.String(in.UserName), SerialNumber: aws.String(in.SerialNumber)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "deactivated MFA device " + in.SerialNumber + " of " + in.UserName + "; the user signs in without MFA until a new device is enabled"}, nil
}
