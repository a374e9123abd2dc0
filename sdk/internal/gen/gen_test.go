package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// sdkDir is the package the generator writes for, relative to this one.
const sdkDir = "../.."

// TestOpsGenIsCurrent fails when sdk/ops_gen.go no longer matches the
// catalogue, so that a new or changed operation cannot ship without its
// typed wrapper.
func TestOpsGenIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(sdkDir, "ops_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("sdk/ops_gen.go is stale: run `go run ./sdk/internal/gen -o sdk/ops_gen.go` from the repository root")
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"list_users":               "ListUsers",
		"list_mfa_devices":         "ListMFADevices",
		"get_access_key_last_used": "GetAccessKeyLastUsed",
		"get_account_info":         "GetAccountInfo",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWasmDirectivesMatchContract checks that the SDK imports and exports
// exactly the names sdk/api/plugin.go defines. The directives need string
// literals, so the compiler cannot check this; a mismatch would only show
// when a host refuses to instantiate a plugin.
func TestWasmDirectivesMatchContract(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sdkDir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no SDK sources: %v", err)
	}
	imports, exports := map[string]string{}, []string{}
	directive := regexp.MustCompile(`(?m)^//go:(wasmimport|wasmexport) (.+)$`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(src, []byte("//go:build wasip1\n")) && !strings.Contains(string(src), "\n//go:build wasip1\n") {
			t.Errorf("%s lacks //go:build wasip1", filepath.Base(f))
		}
		for _, m := range directive.FindAllStringSubmatch(string(src), -1) {
			fields := strings.Fields(m[2])
			switch {
			case m[1] == "wasmexport" && len(fields) == 1:
				exports = append(exports, fields[0])
			case m[1] == "wasmimport" && len(fields) == 2:
				imports[fields[0]+" "+fields[1]] = fields[0]
			default:
				t.Errorf("%s: unexpected directive %q", filepath.Base(f), m[0])
			}
		}
	}
	sort.Strings(exports)
	if want := []string{api.ExportCall, api.ExportDescribe}; strings.Join(exports, ",") != strings.Join(want, ",") {
		t.Errorf("the SDK exports %v, the contract says %v", exports, want)
	}
	// iam_call and iam_batch go through the direct functions (the
	// contract offers them through both modules).
	for _, fn := range []string{api.HostProgress, api.HostInfoFunc, api.HostConsent, api.HostStateSeal, api.HostSecretFileRemove} {
		if _, ok := imports[api.HostModule+" "+fn]; !ok {
			t.Errorf("the SDK does not import the host function %s from %q", fn, api.HostModule)
		}
		delete(imports, api.HostModule+" "+fn)
	}
	for _, fn := range []string{api.HostIAMCall, api.HostIAMBatch, api.HostDirectAnswer} {
		if _, ok := imports[api.HostDirectModule+" "+fn]; !ok {
			t.Errorf("the SDK does not import the direct host function %s from %q", fn, api.HostDirectModule)
		}
		delete(imports, api.HostDirectModule+" "+fn)
	}
	for fn := range imports {
		t.Errorf("the SDK imports %s, which is not in the contract", fn)
	}
}
