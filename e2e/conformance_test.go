package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// conformanceDir holds the official MCP conformance suite, pinned in its
// package-lock.json (@modelcontextprotocol/conformance 0.1.13, the newest
// that runs on Node 20).
const conformanceDir = "testdata/conformance"

const conformanceInstall = "npm ci --prefix e2e/testdata/conformance"

// conformanceScenarios are the suite's server scenarios that apply to a
// server with only its own tools, run against serve --http. The suite's
// other server scenarios (`conformance list --server`) do not apply:
//
//   - tools-call-simple-text, -image, -audio, -embedded-resource,
//     -mixed-content, -with-logging, -error, -with-progress, -sampling,
//     -elicitation, elicitation-sep1034-defaults, elicitation-sep1330-enums
//     and json-schema-2020-12 call or list test tools of the suite's
//     reference server (test_simple_text, json_schema_2020_12_tool, …);
//     server-sse-polling (pending) calls test_reconnection;
//   - resources-*, prompts-* and completion-complete need resources,
//     prompts and completions, which this server does not offer.
var conformanceScenarios = []string{
	"server-initialize",
	"ping",
	"tools-list",
	"logging-set-level",
	"dns-rebinding-protection",
	"server-sse-multiple-streams",
}

// check is one result of the suite (its checks.json).
type check struct {
	ID           string `json:"id"`
	Status       string `json:"status"` // SUCCESS, FAILURE, WARNING, INFO
	ErrorMessage string `json:"errorMessage"`
}

// TestConformance runs the official conformance suite's server scenarios
// that apply against serve --http on the sandbox, without authentication
// on loopback (the suite's clients send no token; dns-rebinding-protection
// is about exactly such a server). A failed check fails the test, and so
// does a scenario that checked nothing.
func TestConformance(t *testing.T) {
	t.Parallel()
	node := testenv.LookTool(t, "node", "install Node.js 20 or later, then run "+conformanceInstall)
	cli := testenv.RequirePath(t, filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
		"run "+conformanceInstall)
	pkg, err := os.ReadFile(filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "conformance", "package.json"))
	if err != nil || !bytes.Contains(pkg, []byte(`"version": "0.1.13"`)) {
		t.Fatalf("%s does not hold @modelcontextprotocol/conformance 0.1.13 (%v); run %s", conformanceDir, err, conformanceInstall)
	}

	// Every scenario must exist in this version of the suite: a renamed
	// one would otherwise run nothing and pass.
	out, err := exec.Command(node, cli, "list", "--server").CombinedOutput()
	if err != nil {
		t.Fatalf("conformance list --server: %v\n%s", err, out)
	}
	for _, sc := range conformanceScenarios {
		if !strings.Contains(string(out), "- "+sc+"\n") {
			t.Fatalf("the suite has no server scenario %s:\n%s", sc, out)
		}
	}

	hs := startHTTP(t, nil)
	for _, sc := range conformanceScenarios {
		t.Run(sc, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard against a hang
			defer cancel()
			cmd := exec.CommandContext(ctx, node, cli, "server", "--url", hs.base+"/mcp", "--scenario", sc, "-o", dir)
			out, runErr := cmd.CombinedOutput()
			files, _ := filepath.Glob(filepath.Join(dir, "*", "checks.json"))
			if len(files) != 1 {
				t.Fatalf("conformance server --scenario %s: %v, and %d checks.json files:\n%s", sc, runErr, len(files), out)
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var checks []check
			if err := json.Unmarshal(b, &checks); err != nil {
				t.Fatalf("%s: %v", files[0], err)
			}
			passed := 0
			for _, c := range checks {
				switch c.Status {
				case "SUCCESS":
					passed++
				case "FAILURE":
					t.Errorf("%s: check %s failed: %s", sc, c.ID, c.ErrorMessage)
				case "WARNING":
					t.Logf("%s: check %s warns: %s", sc, c.ID, c.ErrorMessage)
				}
			}
			if passed == 0 {
				t.Errorf("%s: no check passed:\n%s", sc, b)
			}
			if runErr != nil && !t.Failed() {
				t.Errorf("conformance server --scenario %s: %v\n%s", sc, runErr, out)
			}
		})
	}
}
