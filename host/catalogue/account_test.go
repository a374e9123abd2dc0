package catalogue

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func TestAccountInfo(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	info := call[api.AccountInfoOutput](t, c, "get_account_info", `{}`)
	want := api.AccountInfoOutput{AccountID: "123456789012", AccountAlias: "acme-demo", CallerArn: "arn:aws:iam::123456789012:root", Partition: "aws"}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("get_account_info: %+v, want %+v", info, want)
	}
	// Account's cache is filled, both fields from the same answer.
	c.accountMu.Lock()
	account, caller := c.account, c.callerARN
	c.accountMu.Unlock()
	if account != want.AccountID || caller != want.CallerArn {
		t.Fatalf("cache: %q %q", account, caller)
	}
	if id, err := c.Account(ctx); err != nil || id != want.AccountID {
		t.Fatalf("Account: %q %v", id, err)
	}
	if again := call[api.AccountInfoOutput](t, c, "get_account_info", `null`); !reflect.DeepEqual(again, want) {
		t.Fatalf("second call: %+v", again)
	}

	// A fresh account has no alias: the field is left out.
	fresh := newTestCatalogue(t, "")
	if out := rawCall(t, fresh, "get_account_info", ``); strings.Contains(out, "account_alias") || !strings.Contains(out, `"account_id":"123456789012"`) {
		t.Fatalf("fresh account: %s", out)
	}
}

func TestAccountInfoAsUser(t *testing.T) {
	c := newCatalogueWith(t, "", Options{ReturnSecrets: true})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana","path":"/ops/"}`)
	key := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	asAna, err := New(clientsSignedBy(c.sandbox, key.AccessKey.AccessKeyID, key.SecretAccessKey), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := asAna.Call(ctx, "get_account_info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info := out.(*api.AccountInfoOutput); info.CallerArn != "arn:aws:iam::123456789012:user/ops/ana" || info.AccountID != "123456789012" {
		t.Fatalf("as ana: %+v", info)
	}
}

func TestAccountInfoErrors(t *testing.T) {
	c := newTestCatalogue(t, "")
	if msg := callFails(t, c, "get_account_info", `{"account_id":"123456789012"}`, api.InvalidInput); !strings.Contains(msg, "unknown argument") {
		t.Fatalf("unknown argument: %s", msg)
	}

	// IAM failing: a service failure, and nothing cached.
	sb := newSandbox(t, sandbox.Options{Faults: sandbox.Faults{ErrorRate: 1}})
	broken := catalogueOver(t, sb, sb.Transport(), Options{})
	if _, err := broken.Call(ctx, "get_account_info", nil); err == nil || err.(*api.Error).Code != api.ServiceFailure {
		t.Fatalf("want ServiceFailure, got %v", err)
	}
	if broken.account != "" {
		t.Fatalf("a failed call cached %q", broken.account)
	}
}

func TestAccountPartitionOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:root":               "aws",
		"arn:aws-cn:iam::123456789012:user/a":          "aws-cn",
		"arn:aws-us-gov:sts::123456789012:assumed/r/s": "aws-us-gov",
		"not an arn":       "aws",
		"arn::iam::1:root": "aws",
	} {
		if got := partitionOf(arn); got != want {
			t.Errorf("partitionOf(%q) = %q, want %q", arn, got, want)
		}
	}
}

// TestAccountInfoLists: get_account_info lists the reachable accounts
// only when there is more than the server's own.
func TestAccountInfoLists(t *testing.T) {
	var reachable []api.ReachableAccount
	c := newTestCatalogueWith(t, "", Options{Accounts: func() []api.ReachableAccount { return reachable }})
	reachable = []api.ReachableAccount{{ID: "123456789012", Self: true, Confirm: "destructive"}}
	if out := rawCall(t, c, "get_account_info", ``); strings.Contains(out, `"accounts"`) {
		t.Fatalf("one account listed: %s", out)
	}
	reachable = append(reachable, api.ReachableAccount{ID: "444444444444", Alias: "prod", ReadOnly: true, Confirm: "writes", Via: "arn:aws:iam::444444444444:role/R"})
	info := call[api.AccountInfoOutput](t, c, "get_account_info", `{}`)
	if len(info.Accounts) != 2 || info.Accounts[1] != reachable[1] || !info.Accounts[0].Self {
		t.Fatalf("accounts: %+v", info.Accounts)
	}
}

// TestWith: the same catalogue acting through other clients answers as
// those clients' identity, with its own account cache, and keeps its
// options.
func TestWith(t *testing.T) {
	c := newCatalogueWith(t, "", Options{ReturnSecrets: true})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	key := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	if _, err := c.Account(ctx); err != nil {
		t.Fatal(err)
	}
	other := c.With(clientsSignedBy(c.sandbox, key.AccessKey.AccessKeyID, key.SecretAccessKey))
	if other.knownAccount() != "" {
		t.Fatal("With shares the account cache")
	}
	out, err := other.Call(ctx, "get_account_info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info := out.(*api.AccountInfoOutput); info.CallerArn != "arn:aws:iam::123456789012:user/ana" {
		t.Fatalf("through With: %+v", info)
	}
	if !other.returnSecrets || c.clients == other.clients {
		t.Fatal("With lost the options or kept the clients")
	}
}
