package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Markdown rendering: what a person reads top-down. The summary comes
// first (counts per severity and per rule), then the findings most severe
// first, each with its evidence and its fix. It is bounded: at most
// mdPerRule findings of a rule are written out in full, the rest named in
// one line, and a plan argument longer than mdMaxArgs is cut (the
// structured findings keep it whole), so that a 10,000-principal account
// gives a report a person can read and a client can carry.

const (
	mdPerRule   = 10
	mdMaxArgs   = 400
	mdMaxNamed  = 15
	mdMaxBytes  = 256 << 10
	mdMaxFields = 8
)

// Markdown renders a report.
func Markdown(rep *Report) string { return markdown(rep, mdMaxBytes) }

// markdown renders a report, cut after maxBytes.
func markdown(rep *Report, maxBytes int) string {
	var b strings.Builder
	h := rep.Header
	acct := h.AccountID
	if acct == "" {
		acct = "(unknown account)"
	}
	fmt.Fprintf(&b, "# IAM access review — account %s\n\n", acct)
	fmt.Fprintf(&b, "Generated %s · scope **%s** · min severity **%s**", h.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"), h.Scope, h.MinSeverity)
	if len(h.Include) > 0 {
		fmt.Fprintf(&b, " · deep checks: %s", strings.Join(h.Include, ", "))
	}
	fmt.Fprintf(&b, " · **%d IAM calls**", h.IAMCalls)
	if h.CredentialReportGeneratedAt != nil {
		fmt.Fprintf(&b, " · credential report of %s", h.CredentialReportGeneratedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if h.ReadOnly {
		b.WriteString(" · server in read-only mode")
	}
	b.WriteString("\n\n")
	rv := h.Reviewed
	fmt.Fprintf(&b, "Reviewed %d users, %d groups, %d roles and %d managed policies (%d inline policies).\n\n", rv.Users, rv.Groups, rv.Roles, rv.Policies, rv.InlinePolicies)
	if len(h.Unreadable) > 0 {
		b.WriteString("> **Not everything could be read:**\n")
		for _, u := range h.Unreadable {
			code := ""
			if u.Code != "" {
				code = u.Code + ": "
			}
			fmt.Fprintf(&b, "> - %s (`%s`): %s%s — %s\n", u.What, u.Op, code, oneLine(u.Message), u.Impact)
		}
		b.WriteString("\n")
	}
	for _, n := range h.Notes {
		fmt.Fprintf(&b, "> Note: %s\n", oneLine(n))
	}
	if len(h.Notes) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Summary\n\n")
	s := rep.Summary
	if s.Total == 0 {
		b.WriteString("No findings at or above " + h.MinSeverity.String() + ".")
		if s.BelowMinSeverity > 0 {
			fmt.Fprintf(&b, " (%d below it.)", s.BelowMinSeverity)
		}
		b.WriteString("\n")
		return b.String()
	}
	b.WriteString("| Severity | Findings |\n|---|---:|\n")
	for _, sc := range s.BySeverity {
		if sc.Severity >= h.MinSeverity {
			fmt.Fprintf(&b, "| %s | %d |\n", sc.Severity, sc.Count)
		}
	}
	fmt.Fprintf(&b, "| **total** | **%d** |\n\n", s.Total)
	if s.BelowMinSeverity > 0 {
		fmt.Fprintf(&b, "%d findings below %s are not shown.\n\n", s.BelowMinSeverity, h.MinSeverity)
	}
	b.WriteString("| Rule | Severity | What | Count |\n|---|---|---|---:|\n")
	for _, rc := range s.ByRule {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d |\n", rc.RuleID, rc.Severity, cell(rc.Title), rc.Count)
	}
	b.WriteString("\n## Findings\n")

	omitted := map[string]Omitted{}
	for _, o := range rep.Omitted {
		omitted[o.RuleID] = o
	}
	counts := map[string]int{}
	for _, rc := range s.ByRule {
		counts[rc.RuleID] = rc.Count
	}
	var sev Severity = -1
	i := 0
	for i < len(rep.Findings) {
		rule := rep.Findings[i].RuleID
		j := i
		for j < len(rep.Findings) && rep.Findings[j].RuleID == rule {
			j++
		}
		group := rep.Findings[i:j]
		if f := group[0]; f.Severity != sev {
			sev = f.Severity
			fmt.Fprintf(&b, "\n### %s\n", strings.ToUpper(sev.String()[:1])+sev.String()[1:])
		}
		writeRule(&b, group, counts[rule], omitted[rule])
		i = j
		if b.Len() > maxBytes {
			b.WriteString("\n_The report is cut here to stay readable; the structured findings hold every listed finding._\n")
			break
		}
	}
	return b.String()
}

// writeRule writes one rule's findings.
func writeRule(b *strings.Builder, group []Finding, total int, om Omitted) {
	f0 := group[0]
	fmt.Fprintf(b, "\n#### `%s` — %s (%d)\n\n", f0.RuleID, f0.Title, total)
	if r, ok := rulesByID[f0.RuleID]; ok {
		fmt.Fprintf(b, "_%s_\n", r.Why)
	}
	for k, f := range group {
		if k == mdPerRule {
			var names []string
			for _, g := range group[k:] {
				names = append(names, g.PrincipalName)
			}
			fmt.Fprintf(b, "\nAlso: %s (in the structured findings).\n", capList(names, mdMaxNamed))
			break
		}
		writeFinding(b, k+1, &f)
	}
	if om.Count > 0 {
		var names []string
		for _, arn := range om.Principals {
			names = append(names, shortName(arn))
		}
		fmt.Fprintf(b, "\n%d more not listed (max_findings_per_rule): %s", om.Count, strings.Join(names, ", "))
		if om.Count > len(om.Principals) {
			fmt.Fprintf(b, " and %d others", om.Count-len(om.Principals))
		}
		b.WriteString(".\n")
	}
}

// writeFinding writes one finding: who, what, evidence, fix, references.
func writeFinding(b *strings.Builder, n int, f *Finding) {
	status := ""
	if f.Status != "" {
		status = " [" + f.Status + "]"
	}
	fmt.Fprintf(b, "\n**%d. %s**%s (`%s`) — %s\n", n, f.PrincipalName, status, f.Principal, f.Message)
	if len(f.Path) > 0 {
		b.WriteString("- Path:\n")
		for k, st := range f.Path {
			fmt.Fprintf(b, "  %d. %s: %s", k+1, shortName(st.From), st.How)
			if len(st.Actions) > 0 {
				fmt.Fprintf(b, " (%s)", strings.Join(st.Actions, ", "))
			}
			if st.Condition != "" {
				fmt.Fprintf(b, " — only if: %s", st.Condition)
			}
			b.WriteString("\n")
		}
	}
	if len(f.Methods) > 0 {
		b.WriteString("- Methods:\n")
		for _, m := range f.Methods {
			fmt.Fprintf(b, "  - **%s** (%s): %s — %s", m.ID, strings.Join(m.Actions, " + "), m.How, m.Source)
			if len(m.Limited) > 0 {
				fmt.Fprintf(b, "; limited: %s", strings.Join(m.Limited, "; "))
			}
			b.WriteString("\n")
		}
	}
	if len(f.Evidence) > 0 {
		b.WriteString("- Evidence:\n")
		for _, e := range f.Evidence {
			fmt.Fprintf(b, "  - %s\n", evidenceLine(e))
		}
	}
	fmt.Fprintf(b, "- Fix: %s\n", f.Remediation.Summary)
	for k, s := range f.Remediation.Steps {
		if s.Manual || s.Op == "" {
			fmt.Fprintf(b, "  %d. (by hand) %s\n", k+1, s.Note)
			continue
		}
		args := ""
		if len(s.Args) > 0 {
			raw, _ := json.Marshal(s.Args)
			args = string(raw)
			if len(args) > mdMaxArgs {
				args = args[:mdMaxArgs] + "…"
			}
			args = " `" + strings.ReplaceAll(args, "`", "'") + "`"
		}
		note := ""
		if s.Note != "" {
			note = " — " + s.Note
		}
		fmt.Fprintf(b, "  %d. `%s`%s%s\n", k+1, s.Op, args, note)
	}
	if c := f.Remediation.Check; c != nil {
		fmt.Fprintf(b, "- Plan check: **%s**", strings.ReplaceAll(c.Result, "_", " "))
		if len(c.Problems) > 0 {
			fmt.Fprintf(b, " — %s", strings.Join(c.Problems, "; "))
		}
		if len(c.Affects) > 0 {
			fmt.Fprintf(b, "; also affects %s", capList(c.Affects, 10))
		}
		b.WriteString("\n")
	}
	var refs []string
	for _, r := range f.References {
		refs = append(refs, fmt.Sprintf("[%s](%s)", r.Title, r.URL))
	}
	if len(f.CIS) > 0 {
		refs = append(refs, "CIS AWS Foundations "+strings.Join(f.CIS, ", "))
	}
	if len(refs) > 0 {
		fmt.Fprintf(b, "- References: %s\n", strings.Join(refs, " · "))
	}
}

// evidenceLine is one evidence entry in words.
func evidenceLine(e Evidence) string {
	var parts []string
	if e.Policy != "" {
		p := "`" + e.Policy + "`"
		if e.PolicyType != "" {
			p = e.PolicyType + " " + p
		}
		if e.Version != "" {
			p += " " + e.Version
		}
		if e.Statement != nil {
			p += fmt.Sprintf(" statement %d", *e.Statement)
			if e.Sid != "" {
				p += fmt.Sprintf(" (Sid %s)", e.Sid)
			}
		}
		if e.Via != "" {
			p += ", via " + e.Via
		}
		parts = append(parts, p)
	} else {
		parts = append(parts, e.Source)
	}
	if len(e.Actions) > 0 {
		parts = append(parts, "`"+strings.Join(e.Actions, "`, `")+"`")
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var fs []string
		for i, k := range keys {
			if i == mdMaxFields {
				fs = append(fs, fmt.Sprintf("… %d more", len(keys)-i))
				break
			}
			fs = append(fs, k+"="+e.Fields[k])
		}
		parts = append(parts, strings.Join(fs, ", "))
	}
	if e.Detail != "" {
		parts = append(parts, oneLine(e.Detail))
	}
	return strings.Join(parts, ": ")
}

// shortName is the last part of an ARN.
func shortName(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
