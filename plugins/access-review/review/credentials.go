package review

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Credential checks: the root user, MFA, access keys, console passwords and
// the password policy, from the credential report (one CSV for every user),
// the account summary and the password policy.

// Thresholds, in days, as CIS and prowler set them.
const (
	rotateDays      = 90 // CIS 1.14
	unusedDays      = 45 // CIS 1.12
	neverUsedGrace  = 7  // a key or password never used is flagged once this old
	rootRecentDays  = 30
	roleUnusedDays  = 90
	serviceIdleDays = 90
)

// rootRowName is the credential report's row of the root user.
const rootRowName = "<root_account>"

// keyView is one access key as the checks see it: the report's slot,
// completed by the key_last_used deep check when it ran.
type keyView struct {
	slot     int
	active   bool
	created  *time.Time
	lastUsed *time.Time
	service  string
	region   string
	id       string // known only after key_last_used
	fresh    bool   // lastUsed came from get_access_key_last_used
}

// userKeys is what key_last_used learned about one user's keys.
type userKeys struct {
	keys     []api.AccessKey
	lastUsed map[string]*api.AccessKeyLastUsedOutput
}

// keysOf merges a report row's key slots with the deep check's answers.
// The report names no key ids; a listed key is matched to its slot by
// creation time (the report's last_rotated), then by order.
func (r *reviewCtx) keysOf(row *api.CredentialReportRow) []keyView {
	var out []keyView
	for _, k := range row.AccessKeys {
		out = append(out, keyView{slot: k.Slot, active: k.Active, created: k.LastRotated, lastUsed: k.LastUsedDate,
			service: k.LastUsedService, region: k.LastUsedRegion})
	}
	uk := r.keys[row.User]
	if uk == nil {
		return out
	}
	used := map[string]bool{}
	for i := range out {
		kv := &out[i]
		for _, ak := range uk.keys {
			if used[ak.AccessKeyID] || kv.created == nil {
				continue
			}
			if d := ak.CreateDate.Sub(*kv.created); d > -2*time.Second && d < 2*time.Second {
				kv.id = ak.AccessKeyID
				used[ak.AccessKeyID] = true
				break
			}
		}
		if kv.id == "" && i < len(uk.keys) && !used[uk.keys[i].AccessKeyID] {
			kv.id = uk.keys[i].AccessKeyID
			used[kv.id] = true
		}
		if lu := uk.lastUsed[kv.id]; lu != nil {
			kv.lastUsed, kv.fresh = lu.LastUsedDate, true
			if lu.ServiceName != "" && lu.ServiceName != "N/A" {
				kv.service = lu.ServiceName
			}
			if lu.Region != "" && lu.Region != "N/A" {
				kv.region = lu.Region
			}
		}
	}
	return out
}

// keyRef names a key in a plan: its id when known, else a placeholder that
// says how to find it.
func (k keyView) keyRef() string {
	if k.id != "" {
		return k.id
	}
	created := "unknown date"
	if k.created != nil {
		created = k.created.UTC().Format("2006-01-02")
	}
	return fmt.Sprintf("<id of the access key created %s (credential report slot %d); list_access_keys shows it>", created, k.slot)
}

// keyEvidence is the report's fields for one key slot.
func (k keyView) evidence() Evidence {
	p := "access_key_" + strconv.Itoa(k.slot) + "_"
	ev := Evidence{Source: "credential_report", Fields: map[string]string{
		p + "active":            strconv.FormatBool(k.active),
		p + "last_rotated":      fmtTime(k.created),
		p + "last_used_date":    fmtTime(k.lastUsed),
		p + "last_used_service": orNA(k.service),
	}}
	if k.id != "" {
		ev.Fields["access_key_id"] = k.id
	}
	if k.fresh {
		ev.Source = "access_key_last_used"
		ev.Detail = "last use read with get_access_key_last_used, fresher than the credential report"
	}
	return ev
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

// userOfRow finds the principal of a report row, and says whether the row
// is in scope. Without the authorization details the path is read from the
// ARN (arn:aws:iam::123456789012:user/eng/alice → /eng/).
func (r *reviewCtx) userOfRow(row *api.CredentialReportRow) (*principal, bool) {
	if p := r.m.byARN[row.Arn]; p != nil {
		return p, p.inScope
	}
	path := "/"
	if _, res, ok := strings.Cut(row.Arn, ":user/"); ok {
		if i := strings.LastIndex(res, "/"); i >= 0 {
			path = "/" + res[:i+1]
		}
	}
	return nil, r.cfg.wants(KindUser) && r.cfg.inPath(path)
}

// checkCredentials runs the credential rules.
func (r *reviewCtx) checkCredentials() {
	if rep := r.g.report; rep != nil {
		inReport := map[string]bool{}
		for _, row := range rep.Rows {
			inReport[row.Arn] = true
		}
		var missing []string
		for _, p := range r.m.users {
			if p.inScope && !inReport[p.arn] {
				missing = append(missing, p.name)
			}
		}
		if len(missing) > 0 {
			r.notes = append(r.notes, fmt.Sprintf("%d users are newer than the credential report (generated %s; IAM rebuilds it at most every 4 hours), so their credentials were not checked: %s",
				len(missing), rep.GeneratedTime.UTC().Format(time.RFC3339), capList(missing, 10)))
		}
		for i := range rep.Rows {
			row := &rep.Rows[i]
			if row.User == rootRowName {
				if r.cfg.wants(KindAccount) {
					r.checkRoot(row)
				}
				continue
			}
			p, in := r.userOfRow(row)
			if in {
				r.checkUserCredentials(row, p)
			}
		}
	} else if r.cfg.wants(KindAccount) && r.g.summary != nil {
		r.checkRoot(nil)
	}
	if r.cfg.wants(KindAccount) && r.g.password != nil {
		r.checkPasswordPolicy(r.g.password)
	}
}

// checkRoot runs the root user's rules on its report row (nil when the
// report could not be read) and the account summary (live, where the
// report can be four hours old).
func (r *reviewCtx) checkRoot(row *api.CredentialReportRow) {
	root := subject{r.rootARN(), "root", KindAccount}
	var sm map[string]int
	if r.g.summary != nil {
		sm = r.g.summary.Summary
	}
	// Access keys.
	var active []keyView
	if row != nil {
		for _, k := range r.keysOf(row) {
			if k.active {
				active = append(active, k)
			}
		}
	}
	if len(active) > 0 || sm["AccountAccessKeysPresent"] == 1 {
		var ev []Evidence
		for _, k := range active {
			ev = append(ev, k.evidence())
		}
		if sm != nil {
			ev = append(ev, Evidence{Source: "account_summary", Fields: map[string]string{"AccountAccessKeysPresent": strconv.Itoa(sm["AccountAccessKeysPresent"])}})
		}
		msg := "the root user has an access key"
		if len(active) > 0 {
			msg = fmt.Sprintf("the root user has %d active access key(s)", len(active))
			if k := active[0]; k.lastUsed != nil {
				msg += fmt.Sprintf("; one was last used %d days ago", r.ago(*k.lastUsed))
			} else {
				msg += "; never used"
			}
		}
		r.emit(RuleRootAccessKey, root, msg, ev, func() Remediation {
			return Remediation{
				Summary: "Delete the root user's access keys; use IAM roles for programmatic access.",
				Steps: []Step{
					manualStep("Sign in as the root user, open Security credentials, and make each access key Inactive. No catalogue operation can: IAM acts on root keys only with root credentials."),
					manualStep("Watch for failures for a few days (CloudTrail events with userIdentity.type Root), then delete the keys from the same page."),
					step(opGenerateCredReport, nil, "then run access_review again: the root row must show no active key"),
				}}
		})
	}
	// MFA: the summary is live; the report is the fallback.
	noMFA := false
	ev := []Evidence{}
	switch {
	case sm != nil:
		noMFA = sm["AccountMFAEnabled"] != 1
		ev = append(ev, Evidence{Source: "account_summary", Fields: map[string]string{"AccountMFAEnabled": strconv.Itoa(sm["AccountMFAEnabled"])}})
		if row != nil {
			ev = append(ev, Evidence{Source: "credential_report", Fields: map[string]string{"mfa_active": strconv.FormatBool(row.MFAActive)}})
		}
	case row != nil:
		noMFA = !row.MFAActive
		ev = append(ev, Evidence{Source: "credential_report", Fields: map[string]string{"mfa_active": strconv.FormatBool(row.MFAActive)}})
	}
	if noMFA {
		r.emit(RuleRootNoMFA, root, "the root user has no MFA device", ev, func() Remediation {
			return Remediation{
				Summary: "Enable MFA on the root user (a hardware key or passkey).",
				Steps: []Step{
					manualStep("Sign in as the root user, open Security credentials, and assign an MFA device (a FIDO2 security key or passkey is phishing-resistant). IAM's API cannot do this for the root user from another identity."),
					step(opAccountSummary, nil, "AccountMFAEnabled must now be 1"),
				}}
		})
	}
	// Recent use.
	if row != nil {
		var uses []string
		ev := []Evidence{}
		if t := row.PasswordLastUsed; t != nil && r.ago(*t) < rootRecentDays {
			uses = append(uses, fmt.Sprintf("its password %d days ago", r.ago(*t)))
			ev = append(ev, Evidence{Source: "credential_report", Fields: map[string]string{"password_last_used": fmtTime(t)}})
		}
		for _, k := range r.keysOf(row) {
			if k.lastUsed != nil && r.ago(*k.lastUsed) < rootRecentDays {
				uses = append(uses, fmt.Sprintf("access key %d %d days ago", k.slot, r.ago(*k.lastUsed)))
				ev = append(ev, k.evidence())
			}
		}
		if len(uses) > 0 {
			r.emit(RuleRootRecentlyUsed, root, "the root user was used recently: "+strings.Join(uses, "; "), ev, func() Remediation {
				return Remediation{
					Summary: "Find what the root user was used for and move that work to roles; keep root for the tasks that need it.",
					Steps: []Step{
						manualStep("Search CloudTrail for events with userIdentity.type = Root in the period, to learn who used it and for what."),
						manualStep("Give that work an IAM role (with MFA), and keep the root credentials locked away; AWS lists the few tasks that require root."),
					}}
			})
		}
	}
}

// checkUserCredentials runs the per-user credential rules on one row.
func (r *reviewCtx) checkUserCredentials(row *api.CredentialReportRow, p *principal) {
	s := subject{row.Arn, row.User, KindUser}
	keys := r.keysOf(row)
	var active []keyView
	for _, k := range keys {
		if k.active {
			active = append(active, k)
		}
	}
	pwdIdle := r.passwordIdle(row)
	mfaField := map[string]string{"password_enabled": strconv.FormatBool(row.PasswordEnabled), "mfa_active": strconv.FormatBool(row.MFAActive)}

	// An administrator without MFA.
	if !row.MFAActive && (row.PasswordEnabled || len(active) > 0) && p != nil && p.set != nil {
		if ok, why, doc := r.e.setAdmin(p.set); ok {
			ev := []Evidence{{Source: "credential_report", Fields: mfaField}}
			for _, ref := range p.refsFor(doc.id) {
				ev = append(ev, Evidence{Source: "policy", Policy: ref.label(), PolicyType: ref.typ, Via: ref.viaText(), Version: ref.version, Detail: why})
			}
			creds := "a console password"
			if !row.PasswordEnabled {
				creds = fmt.Sprintf("%d active access key(s)", len(active))
			} else if len(active) > 0 {
				creds += fmt.Sprintf(" and %d active access key(s)", len(active))
			}
			r.emit(RuleAdminNoMFA, s, fmt.Sprintf("%s is admin-equivalent and has %s but no MFA device", row.User, creds), ev, func() Remediation {
				var steps []Step
				if pwdIdle != "" {
					// Unused: removed, as IAM.CRED.CONSOLE_UNUSED plans.
					steps = append(steps, step("delete_login_profile", map[string]any{"user_name": row.User}, "first: its "+pwdIdle+", so remove it rather than protect it"))
				}
				steps = append(steps,
					manualStep(fmt.Sprintf("Have %s assign an MFA device (IAM console → Users → %s → Security credentials → Assign MFA device); a FIDO2 security key resists phishing.", row.User, row.User)),
					step("list_mfa_devices", map[string]any{"user_name": row.User}, "confirm a device is now enabled"),
					manualStep("For access keys, also require MFA in the admin policies (Condition aws:MultiFactorAuthPresent) or move the work to a role assumed with MFA."))
				return Remediation{Summary: "Enable MFA for the administrator, or take its administrator rights away.", Steps: steps}
			})
		}
	}
	// A console user without MFA. A password nobody uses is removed, not
	// protected: the same plan as IAM.CRED.CONSOLE_UNUSED on the same user,
	// so that the two findings do not disagree.
	if row.PasswordEnabled && !row.MFAActive {
		msg := fmt.Sprintf("%s can sign in to the console with a password alone", row.User)
		if pwdIdle != "" {
			msg += "; " + pwdIdle
		}
		r.emit(RuleConsoleNoMFA, s, msg,
			[]Evidence{{Source: "credential_report", Fields: map[string]string{"password_enabled": "true", "mfa_active": "false", "password_last_used": fmtTime(row.PasswordLastUsed)}}},
			func() Remediation {
				if pwdIdle != "" {
					return removePasswordPlan(row.User, pwdIdle)
				}
				return Remediation{Summary: "Enable MFA for the user, or remove the console password if the user does not need the console.",
					Steps: []Step{
						manualStep(fmt.Sprintf("Have %s assign an MFA device (IAM console → Users → %s → Security credentials → Assign MFA device).", row.User, row.User)),
						step("list_mfa_devices", map[string]any{"user_name": row.User}, "confirm a device is now enabled"),
						step("delete_login_profile", map[string]any{"user_name": row.User}, "instead, if the user does not need the console: removes the password (the user's access keys keep working)"),
					}}
			})
	}
	// Keys. Whether a key is unused is asked once (keyIdle), and every
	// finding on the key plans from that answer: an unused key is retired
	// (deactivated, then deleted), whichever rule reports it — rotating a
	// key nobody uses would hand a new secret to nobody, and keep the old
	// one's risk for the length of a rotation.
	for _, k := range active {
		idle, idleText, isIdle := r.keyIdle(k)
		plan := func() Remediation { return r.keyPlan(row, k, keys) }
		if k.created != nil && r.ago(*k.created) > rotateDays {
			age := r.ago(*k.created)
			msg := fmt.Sprintf("access key %d of %s is %d days old", k.slot, row.User, age)
			if isIdle {
				msg += " and " + idleText + ": retire it rather than rotate it"
			}
			r.emit(RuleKeyNotRotated, s, msg, []Evidence{k.evidence()}, plan, func(f *Finding) { f.rank = age })
		}
		if isIdle {
			r.emit(RuleKeyUnused, s, fmt.Sprintf("access key %d of %s %s", k.slot, row.User, idleText), []Evidence{k.evidence()}, plan, func(f *Finding) { f.rank = idle })
		}
	}
	if len(active) >= 2 {
		retire := r.keyToRetire(active)
		var ev []Evidence
		for _, k := range active {
			ev = append(ev, k.evidence())
		}
		r.emit(RuleTwoActiveKeys, s, fmt.Sprintf("%s has %d active access keys", row.User, len(active)), ev, func() Remediation { return r.keyPlan(row, retire, keys) })
	}
	// An unused console password.
	if row.PasswordEnabled && pwdIdle != "" {
		r.emit(RuleConsoleUnused, s, row.User+"'s "+pwdIdle, []Evidence{{Source: "credential_report", Fields: map[string]string{
			"password_enabled": "true", "password_last_used": fmtTime(row.PasswordLastUsed), "password_last_changed": fmtTime(row.PasswordLastChanged),
			"user_creation_time": fmtTime(row.UserCreationTime)}}},
			func() Remediation { return removePasswordPlan(row.User, pwdIdle) })
	}
}

// passwordIdle says, in words, that a user's console password is unused —
// last used 45 days ago or more, or never used and set that long ago — or
// "" when it is in use (or there is none).
func (r *reviewCtx) passwordIdle(row *api.CredentialReportRow) string {
	if !row.PasswordEnabled {
		return ""
	}
	since := row.PasswordLastChanged
	if since == nil {
		since = row.UserCreationTime
	}
	switch {
	case row.PasswordLastUsed != nil && r.ago(*row.PasswordLastUsed) >= unusedDays:
		return fmt.Sprintf("console password was last used %d days ago", r.ago(*row.PasswordLastUsed))
	case row.PasswordLastUsed == nil && since != nil && r.ago(*since) >= unusedDays:
		return fmt.Sprintf("console password was never used (set %d days ago)", r.ago(*since))
	}
	return ""
}

// removePasswordPlan removes an unused console password.
func removePasswordPlan(user, idle string) Remediation {
	return Remediation{Summary: "Remove the console password, which nobody uses (its " + idle + "); the user can be given one again when needed.",
		Steps: []Step{step("delete_login_profile", map[string]any{"user_name": user}, "access keys, if any, keep working")}}
}

// keyIdle says whether an active key is unused — never used and at least
// neverUsedGrace days old (CIS 1.11: keys made at user setup and never
// used), or last used unusedDays or more ago (CIS 1.12) — for how many
// days, and in words.
func (r *reviewCtx) keyIdle(k keyView) (int, string, bool) {
	switch {
	case k.lastUsed == nil && k.created != nil && r.ago(*k.created) >= neverUsedGrace:
		return r.ago(*k.created), fmt.Sprintf("was never used (created %d days ago)", r.ago(*k.created)), true
	case k.lastUsed != nil && r.ago(*k.lastUsed) >= unusedDays:
		return r.ago(*k.lastUsed), fmt.Sprintf("was last used %d days ago", r.ago(*k.lastUsed)), true
	}
	return 0, "", false
}

// keyToRetire is the key of two active ones that a plan retires: an unused
// one (the longer unused if both are), else the older, whose users move to
// the newer. KEY_UNUSED and KEY_NOT_ROTATED plan the same key the same
// way, so the three findings agree.
func (r *reviewCtx) keyToRetire(active []keyView) keyView {
	var pick *keyView
	best := -1
	for i := range active {
		if idle, _, ok := r.keyIdle(active[i]); ok && idle > best {
			pick, best = &active[i], idle
		}
	}
	if pick != nil {
		return *pick
	}
	older := active[0]
	for _, k := range active[1:] {
		if k.created != nil && (older.created == nil || k.created.Before(*older.created)) {
			older = k
		}
	}
	return older
}

// keyPlan is the one plan every finding on key k gives: retire it when it
// is unused; else finish a rotation onto a newer key in use, when the user
// has one; else rotate it.
func (r *reviewCtx) keyPlan(row *api.CredentialReportRow, k keyView, keys []keyView) Remediation {
	if _, idle, ok := r.keyIdle(k); ok {
		return retirePlan(row.User, k, idle)
	}
	for _, o := range keys {
		if o.slot == k.slot || !o.active {
			continue
		}
		if _, _, idle := r.keyIdle(o); !idle && o.created != nil && k.created != nil && o.created.After(*k.created) {
			return finishRotationPlan(row.User, k, o)
		}
	}
	return rotatePlan(row.User, k, keys)
}

// retirePlan retires an unused key: confirm it is still unused, deactivate
// it (reversible), delete it after a grace period in which nothing failed.
func retirePlan(user string, k keyView, idle string) Remediation {
	return Remediation{
		Summary: "Retire the key, do not rotate it: it " + idle + ". Deactivate it, then delete it once a grace period shows nothing needed it.",
		Steps: append(findKeyStep(user, k),
			step(opAccessKeyLastUsed, map[string]any{"access_key_id": k.keyRef()}, "confirm it is still unused (the credential report can be four hours old); if it was used since, it is in use: keep it, and rotate it when it is due"),
			step("update_access_key", map[string]any{"user_name": user, "access_key_id": k.keyRef(), "status": "Inactive"}, "reversible: set Active again if something breaks"),
			manualStep("Wait a grace period (e.g. 30 days) and watch for failures: a client still holding the key is refused (InvalidClientTokenId) while it is inactive."),
			step("delete_access_key", map[string]any{"user_name": user, "access_key_id": k.keyRef()}, "after the grace period with no failure; this cannot be undone"),
		)}
}

// finishRotationPlan moves a key's users to the newer key the user already
// has and retires the old one: no new key (IAM allows two).
func finishRotationPlan(user string, old, newer keyView) Remediation {
	return Remediation{
		Summary: "Finish the rotation onto the newer key, which is in use: move the old key's last users over, then deactivate and delete the old key.",
		Steps: append(findKeyStep(user, old),
			manualStep(fmt.Sprintf("Deploy the newer key (%s) wherever the old one is still used (last: %s in %s).", newer.keyRef(), orNA(old.service), orNA(old.region))),
			step(opAccessKeyLastUsed, map[string]any{"access_key_id": old.keyRef()}, "cut over only when the old key has been quiet for at least its usual interval (a day or more) and the newer key is used by the same services and regions"),
			step("update_access_key", map[string]any{"user_name": user, "access_key_id": old.keyRef(), "status": "Inactive"}, "reversible: set Active again if something breaks"),
			step("delete_access_key", map[string]any{"user_name": user, "access_key_id": old.keyRef()}, "after a grace period (e.g. 30 days) with no failure; this cannot be undone"),
		)}
}

// findKeyStep is the list_access_keys step a plan needs when the report
// did not name the key id.
func findKeyStep(user string, k keyView) []Step {
	if k.id != "" {
		return nil
	}
	return []Step{step(opListAccessKeys, map[string]any{"user_name": user}, "find the key id: the credential report does not name it (include key_last_used does)")}
}

// rotatePlan is AWS's safe rotation sequence for a key in use: a new key,
// its users moved over, the old key quiet for its usual interval, then
// deactivated and later deleted (the key-rotation plugin's
// rotate_access_key walks these steps and proves the cut-over). IAM allows
// two keys per user: when the user already has a second key (inactive, or
// unused), that one is retired first, by its own finding's plan.
func rotatePlan(user string, k keyView, keys []keyView) Remediation {
	steps := findKeyStep(user, k)
	for _, o := range keys {
		if o.slot == k.slot {
			continue
		}
		state := "inactive"
		if o.active {
			state = "active"
		}
		steps = append(steps, manualStep(fmt.Sprintf("%s already has two access keys, IAM's limit: retire the other one (%s, %s, last used %s) first, and delete it only once it has been inactive and unused for a grace period.",
			user, o.keyRef(), state, fmtTime(o.lastUsed))))
	}
	steps = append(steps,
		step("create_access_key", map[string]any{"user_name": user}, "the secret goes to the server's secrets directory, never into the conversation"),
		manualStep(fmt.Sprintf("Deploy the new key wherever the old one is used (last: %s in %s).", orNA(k.service), orNA(k.region))),
		step(opAccessKeyLastUsed, map[string]any{"access_key_id": k.keyRef()}, "cut over only when the old key has been quiet for at least its usual interval (a day or more) and the new key is used by the same services and regions; one test call with the new key is not a cut-over"),
		step("update_access_key", map[string]any{"user_name": user, "access_key_id": k.keyRef(), "status": "Inactive"}, "reversible: set Active again if something breaks"),
		step("delete_access_key", map[string]any{"user_name": user, "access_key_id": k.keyRef()}, "after a grace period (e.g. 30 days) with no failure; this cannot be undone"),
	)
	return Remediation{
		Summary: "Rotate the key: create a new one, move its users over, deactivate the old one, delete it later (the key-rotation plugin's rotate_access_key walks these steps).",
		Steps:   steps}
}

// checkPasswordPolicy runs the password policy rules against CIS 1.8 and
// 1.9 and the character classes prowler checks. Expiry is not required:
// NIST SP 800-63B and CIS (since v1.5) advise against forced rotation.
func (r *reviewCtx) checkPasswordPolicy(pp *api.PasswordPolicyOutput) {
	acct := subject{r.rootARN(), "password policy", KindAccount}
	cli := "aws iam update-account-password-policy --minimum-password-length 14 --require-symbols --require-numbers --require-uppercase-characters --require-lowercase-characters --password-reuse-prevention 24 --allow-users-to-change-password"
	fix := Remediation{
		Summary: "Set a password policy of at least 14 characters, all four character classes and 24 remembered passwords.",
		Steps: []Step{
			manualStep("The catalogue has no operation that writes the password policy; run: " + cli),
			step(opPasswordPolicy, nil, "confirm the new policy"),
		}}
	if !pp.Present || pp.PasswordPolicy == nil {
		r.emit(RulePasswordPolicyNone, acct, "the account has no password policy: IAM's defaults (8 characters, no complexity, no reuse prevention) apply",
			[]Evidence{{Source: "password_policy", Fields: map[string]string{"present": "false"}}}, func() Remediation { return fix })
		return
	}
	p := pp.PasswordPolicy
	var weak []string
	if p.MinimumPasswordLength < 14 {
		weak = append(weak, fmt.Sprintf("minimum length %d (CIS 1.8 asks 14)", p.MinimumPasswordLength))
	}
	if p.PasswordReusePrevention < 24 {
		weak = append(weak, fmt.Sprintf("remembers %d previous passwords (CIS 1.9 asks 24)", p.PasswordReusePrevention))
	}
	for _, c := range []struct {
		on   bool
		what string
	}{{p.RequireSymbols, "symbols"}, {p.RequireNumbers, "numbers"}, {p.RequireUppercaseCharacters, "upper-case letters"}, {p.RequireLowercaseCharacters, "lower-case letters"}} {
		if !c.on {
			weak = append(weak, "does not require "+c.what)
		}
	}
	if len(weak) == 0 {
		return
	}
	r.emit(RulePasswordPolicyWeak, acct, "the password policy "+strings.Join(weak, "; "),
		[]Evidence{{Source: "password_policy", Fields: map[string]string{
			"minimum_password_length": strconv.Itoa(p.MinimumPasswordLength), "password_reuse_prevention": strconv.Itoa(p.PasswordReusePrevention),
			"require_symbols": strconv.FormatBool(p.RequireSymbols), "require_numbers": strconv.FormatBool(p.RequireNumbers),
			"require_uppercase_characters": strconv.FormatBool(p.RequireUppercaseCharacters), "require_lowercase_characters": strconv.FormatBool(p.RequireLowercaseCharacters),
			"expire_passwords": strconv.FormatBool(p.ExpirePasswords), "max_password_age": strconv.Itoa(p.MaxPasswordAge)}}}, func() Remediation { return fix })
}

// keyLastUsed is the key_last_used deep check: for the users whose keys the
// credential rules will flag (old, unused, or two active), it lists their
// keys and asks IAM when each active one was last used. The answers give
// the plans real key ids and replace the report's last-use dates, which can
// be four hours old. It costs two calls per user and up to one more per
// key, batched; at most maxDeepPrincipals users.
func (r *reviewCtx) keyLastUsed() {
	r.keys = map[string]*userKeys{}
	rep := r.g.report
	if rep == nil {
		r.notes = append(r.notes, "key_last_used did not run: the credential report was not read")
		return
	}
	var users []string
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if row.User == rootRowName {
			continue
		}
		if _, in := r.userOfRow(row); !in {
			continue
		}
		n, flagged := 0, false
		for _, k := range row.AccessKeys {
			if !k.Active {
				continue
			}
			n++
			old := k.LastRotated != nil && r.ago(*k.LastRotated) >= neverUsedGrace
			stale := k.LastUsedDate == nil || r.ago(*k.LastUsedDate) >= unusedDays
			rot := k.LastRotated != nil && r.ago(*k.LastRotated) > rotateDays
			flagged = flagged || (old && stale) || rot
		}
		if flagged || n >= 2 {
			users = append(users, row.User)
		}
	}
	if len(users) > maxDeepPrincipals {
		r.notes = append(r.notes, fmt.Sprintf("key_last_used checked the first %d of %d users with flagged keys (in credential report order); the others' plans name keys by slot", maxDeepPrincipals, len(users)))
		users = users[:maxDeepPrincipals]
	}
	if len(users) == 0 {
		return
	}
	lists := make([]api.ListAccessKeysOutput, len(users))
	reqs := make([]hostiam.Request, len(users))
	for i, u := range users {
		reqs[i] = hostiam.Request{Op: opListAccessKeys, In: api.UserPageInput{UserName: u}, Out: &lists[i]}
	}
	errs := r.c.batch(reqs)
	type keyReq struct{ user, id string }
	var kr []keyReq
	failed := 0
	var firstErr error
	for i, u := range users {
		if errs[i] != nil {
			failed++
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		r.keys[u] = &userKeys{keys: lists[i].AccessKeys, lastUsed: map[string]*api.AccessKeyLastUsedOutput{}}
		for _, k := range lists[i].AccessKeys {
			if k.Status == "Active" {
				kr = append(kr, keyReq{u, k.AccessKeyID})
			}
		}
	}
	outs := make([]api.AccessKeyLastUsedOutput, len(kr))
	reqs = make([]hostiam.Request, len(kr))
	for i, k := range kr {
		reqs[i] = hostiam.Request{Op: opAccessKeyLastUsed, In: api.AccessKeyIDInput{AccessKeyID: k.id}, Out: &outs[i]}
	}
	errs = r.c.batch(reqs)
	for i, k := range kr {
		if errs[i] != nil {
			failed++
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		r.keys[k.user].lastUsed[k.id] = &outs[i]
	}
	if failed > 0 {
		r.g.fail("access keys and their last use", opListAccessKeys+", "+opAccessKeyLastUsed, firstErr,
			fmt.Sprintf("%d of the key_last_used calls failed; those keys are judged by the credential report", failed))
	}
}
