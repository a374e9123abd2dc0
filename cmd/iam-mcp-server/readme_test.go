package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var updateREADME = flag.Bool("update", false, "rewrite the README's generated sections")

// TestREADME keeps the README's generated sections — flags, tools, the IAM
// policy, the sandbox's actions — equal to what the code says. Run
// `go test ./cmd/iam-mcp-server -run TestREADME -update` after a change.
func TestREADME(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var policy, stderr bytes.Buffer
	if code := run(process{}, []string{"policy"}, strings.NewReader(""), &policy, &stderr); code != 0 {
		t.Fatalf("policy: exit %d: %s", code, stderr.String())
	}
	sections := map[string]string{
		"flags":      "```text\n" + strings.TrimRight(flagsHelp, "\n") + "\n```\n",
		"http-flags": "```text\n" + strings.TrimSpace(serveHTTPHelp) + "\n```\n",
		"tools":      toolsMarkdown(),
		"policy":     "```json\n" + policy.String() + "```\n",
		"actions":    actionsMarkdown(),
	}
	got := string(readme)
	want := got
	for name, body := range sections {
		begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
		i, j := strings.Index(want, begin), strings.Index(want, end)
		if i < 0 || j < i {
			t.Fatalf("README has no %s section markers", name)
		}
		want = want[:i+len(begin)] + body + want[j:]
	}
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("the README's generated sections are out of date (the policy must equal `iam-mcp-server policy`); run: go test ./cmd/iam-mcp-server -run TestREADME -update")
}

// toolsMarkdown is one table per toolset: each tool, whether it changes
// IAM, whether the default exposes it, and its parameters (* = required).
func toolsMarkdown() string {
	var b strings.Builder
	for _, ts := range catalogue.Toolsets() {
		fmt.Fprintf(&b, "**%s**\n\n| tool | | parameters |\n| --- | --- | --- |\n", ts)
		for _, op := range catalogue.Tools() {
			if op.Toolset != ts {
				continue
			}
			kind := "read"
			if op.Mutates {
				kind = "write"
			}
			if op.Destructive {
				kind = "write, destructive"
			}
			if op.Default {
				kind += ", default"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", op.Name, kind, parameters(op.Operation))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func parameters(op api.Operation) string {
	s := api.SchemaOf(op.Input)
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if r, ok := s["required"].([]string); ok {
		for _, n := range r {
			required[n] = true
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	for i, n := range names {
		names[i] = "`" + n + "`"
		if required[n] {
			names[i] += "*"
		}
	}
	if len(names) == 0 {
		return "—"
	}
	return strings.Join(names, ", ")
}

func actionsMarkdown() string {
	actions := sandbox.Actions()
	return fmt.Sprintf("**The %d IAM actions it implements** (and STS `GetCallerIdentity`): %s.\n", len(actions), strings.Join(actions, ", "))
}
