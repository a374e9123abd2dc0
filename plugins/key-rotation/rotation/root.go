package rotation

import (
	"fmt"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// The root key check. A key of the root user is never rotated (no workload
// should hold root credentials, and the IAM API can neither list,
// deactivate nor delete root keys): the answer is the plan to delete it
// from the console. Calling a key the root's is a claim the caller makes
// with user_name <root_account>; the check proves it from IAM's data
// before answering, so that an IAM user's key is not sent to the console
// (where it cannot be found, and where the person may delete the wrong
// key), and a key of nobody is not treated as the root's:
//
//  1. get_access_key_last_used names the IAM user that owns a key. A key
//     that IAM attributes to an IAM user holding it (list_access_keys of
//     that user lists it) is that user's, not the root's: refused, naming
//     the user. IAM refusing to attribute the key (AccessDenied, as IAM
//     answers for a key it does not place in this account's users), or
//     naming an owner that is no IAM user holding it, is evidence that it
//     is not an IAM user's key.
//  2. The credential report's <root_account> row must show that the root
//     user holds at least one access key; if it shows none, the key is not
//     the root's: refused.
//  3. Where IAM reported the key's last use, it is compared with the root
//     row's keys: a match names the slot.
//
// The IAM API shows no root key ids, so what remains unproven (a key of
// another account whose root also has a key) is said in the answer, and
// the console steps begin by finding the key on the root's Security
// credentials page.

// root answers for a key the caller says is the root user's.
func (r *run) root() (*RotateResult, error) {
	k := r.in.AccessKeyID
	var evidence []string
	var lu api.AccessKeyLastUsedOutput
	err := r.h.Call("get_access_key_last_used", api.AccessKeyIDInput{AccessKeyID: k}, &lu)
	switch code := hostiam.Code(err); {
	case err == nil && lu.UserName != "" && lu.UserName != RootUser:
		var keys api.ListAccessKeysOutput
		kerr := r.h.Call("list_access_keys", api.UserPageInput{UserName: lu.UserName, PageInput: api.PageInput{MaxItems: 100}}, &keys)
		switch {
		case kerr == nil:
			for _, ak := range keys.AccessKeys {
				if ak.AccessKeyID == k {
					return nil, &api.Error{Code: api.NoSuchEntity, Message: fmt.Sprintf("%s is not the root user's key: it belongs to the IAM user %s (get_access_key_last_used and list_access_keys say so), whose keys are rotated, not deleted from the root's console page: call rotate_access_key with user_name %q",
						k, lu.UserName, lu.UserName)}
				}
			}
			evidence = append(evidence, fmt.Sprintf("IAM names %q as the owner of %s, but no IAM user of that name holds it (list_access_keys)", short(lu.UserName), k))
		case hostiam.Code(kerr) == api.NoSuchEntity:
			evidence = append(evidence, fmt.Sprintf("IAM names %q as the owner of %s, and that is no IAM user of this account", short(lu.UserName), k))
		default:
			return nil, wrap(kerr, "cannot tell whose key %s is (list_access_keys of %s)", k, short(lu.UserName))
		}
	case err == nil:
		evidence = append(evidence, "get_access_key_last_used names no IAM user as the owner of "+k)
	case code == api.AccessDenied || code == api.NoSuchEntity:
		evidence = append(evidence, fmt.Sprintf("IAM attributes %s to no IAM user of this account (get_access_key_last_used: %s)", k, code))
		lu = api.AccessKeyLastUsedOutput{}
	default:
		return nil, wrap(err, "cannot tell whose key %s is (get_access_key_last_used)", k)
	}

	rep, err := credentialReport(r.h, r.opts)
	if err != nil {
		return nil, err
	}
	var row *api.CredentialReportRow
	for i := range rep.Rows {
		if rep.Rows[i].User == RootUser {
			row = &rep.Rows[i]
		}
	}
	generated := rep.GeneratedTime.UTC().Format(time.RFC3339)
	if row == nil || len(row.AccessKeys) == 0 {
		return nil, &api.Error{Code: api.NoSuchEntity, Message: fmt.Sprintf("%s is not the root user's key: the credential report (generated %s) shows the root user holds no access key, and IAM attributes %s to no IAM user of this account either. Check the id (it may be another account's key, or deleted); an IAM user's key is rotated with that user's name",
			k, generated, k)}
	}
	var slots []string
	for _, rk := range row.AccessKeys {
		s := fmt.Sprintf("slot %d (%s", rk.Slot, strings.ToLower(status(rk.Active)))
		if rk.LastRotated != nil {
			s += ", created " + rk.LastRotated.UTC().Format(time.RFC3339)
		}
		if rk.LastUsedDate != nil {
			s += ", last used " + rk.LastUsedDate.UTC().Format(time.RFC3339)
			if svc := strings.TrimSpace(naEmpty(rk.LastUsedService) + " " + naEmpty(rk.LastUsedRegion)); svc != "" {
				s += " " + svc
			}
		}
		slots = append(slots, s+")")
	}
	evidence = append(evidence, fmt.Sprintf("the credential report (generated %s) shows the root user holds %d access key(s): %s", generated, len(row.AccessKeys), strings.Join(slots, ", ")))
	if lu.LastUsedDate != nil {
		for _, rk := range row.AccessKeys {
			if rk.LastUsedDate != nil && rk.LastUsedDate.UTC().Truncate(time.Second).Equal(lu.LastUsedDate.UTC().Truncate(time.Second)) {
				evidence = append(evidence, fmt.Sprintf("the last use IAM reports for %s (%s) is that of the root's key in slot %d", k, lu.LastUsedDate.UTC().Format(time.RFC3339), rk.Slot))
			}
		}
	}
	evidence = append(evidence, "IAM's API shows no root key ids: the root user's Security credentials page lists them; check that "+k+" is there before deleting it (console step 1)")

	res := r.res
	res.Outcome = OutcomeBlocked
	if r.info.ReadOnly {
		res.Outcome = OutcomeReadOnly
	}
	res.Happened = "nothing changed: " + k + " is no IAM user's key, and the root user holds access keys (see the evidence), so it is taken as the root user's. Root access keys are never rotated (no workload should hold the root user's credentials), and the IAM API cannot list, deactivate or delete them. The plan is to move what uses it to IAM roles or users and delete the key from the console"
	res.Phase, res.CurrentStep = PhaseNone.String(), "root"
	res.ConsoleSteps = rootConsoleSteps
	res.Plan = rootPlan(k)
	res.Evidence = evidence
	return res, nil
}
