package review

import (
	"fmt"
	"strings"
)

// orgMarkdown renders an organisation review: the organisation's header
// and summary, a table of the accounts, the findings across accounts, and
// then each account's own report (as Markdown renders a one-account
// review, its headings one level down), each cut at its share of the
// budget so that fifty accounts still make a report a client can carry.
func orgMarkdown(rep *Report) string {
	var b strings.Builder
	h := rep.Header
	o := rep.Organization
	title := "organisation"
	if o != nil && o.ID != "" {
		title = "organisation " + o.ID
	}
	fmt.Fprintf(&b, "# IAM access review — %s, %d accounts\n\n", title, len(rep.Accounts))
	fmt.Fprintf(&b, "Generated %s · scope **%s** · min severity **%s**", h.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"), h.Scope, h.MinSeverity)
	if len(h.Include) > 0 {
		fmt.Fprintf(&b, " · deep checks: %s", strings.Join(h.Include, ", "))
	}
	fmt.Fprintf(&b, " · **%d IAM calls**", h.IAMCalls)
	if h.ReadOnly {
		b.WriteString(" · server in read-only mode")
	}
	b.WriteString("\n\n")
	switch {
	case o == nil || o.Error != "":
		b.WriteString("> **The organisation could not be read**")
		if o != nil {
			b.WriteString(" (`" + opDescribeOrganization + "`: " + oneLine(o.Error) + ")")
		}
		b.WriteString(": every account was reviewed **without SCPs**, so an escalation an SCP blocks may be reported as confirmed. Run the review from the management account, with `describe_organization` granted.\n\n")
	case !o.SCPsEnabled:
		fmt.Fprintf(&b, "Management account %s; service control policies are not enabled.\n\n", o.ManagementAccountID)
	default:
		fmt.Fprintf(&b, "Management account %s; service control policies applied to every decision in the member accounts.\n\n", o.ManagementAccountID)
	}
	for _, n := range h.Notes {
		fmt.Fprintf(&b, "> Note: %s\n", oneLine(n))
	}
	if len(h.Notes) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Accounts\n\n| Account | Alias | Place | Critical | High | Medium | Low | IAM calls |\n|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, a := range rep.Accounts {
		sev := map[Severity]int{}
		for _, sc := range a.Summary.BySeverity {
			sev[sc.Severity] = sc.Count
		}
		place := strings.Join(a.OrgPath, " / ")
		if a.Management {
			place += " (management)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d | %d |\n", a.AccountID, cell(a.Alias), cell(place), sev[Critical], sev[High], sev[Medium], sev[Low], a.Header.IAMCalls)
	}
	b.WriteString("\n## Across accounts\n\n")
	x := rep.CrossAccount
	if x != nil {
		orgAccess := 0
		for _, e := range x.Edges {
			if e.OrgAccess {
				orgAccess++
			}
		}
		fmt.Fprintf(&b, "%d sts:AssumeRole edges between the reviewed accounts (%d of them the management account's access to the organisation's access roles).\n\n", x.EdgesTotal, orgAccess)
	}
	if len(rep.Findings) == 0 {
		b.WriteString("No findings across accounts at or above " + h.MinSeverity.String() + ".\n")
	}
	omitted := map[string]Omitted{}
	for _, om := range rep.Omitted {
		omitted[om.RuleID] = om
	}
	counts := map[string]int{}
	if x != nil {
		for _, rc := range x.Summary.ByRule {
			counts[rc.RuleID] = rc.Count
		}
	}
	for i := 0; i < len(rep.Findings); {
		j := i
		for j < len(rep.Findings) && rep.Findings[j].RuleID == rep.Findings[i].RuleID {
			j++
		}
		writeRule(&b, rep.Findings[i:j], counts[rep.Findings[i].RuleID], omitted[rep.Findings[i].RuleID])
		i = j
	}

	share := max(orgMarkdownMinPerAccount, orgMarkdownBudget/max(len(rep.Accounts), 1))
	for _, a := range rep.Accounts {
		b.WriteString("\n")
		if a.Error != "" {
			fmt.Fprintf(&b, "## Account %s\n\n> **Not reviewed:** %s\n", a.AccountID, oneLine(a.Error))
			continue
		}
		part := markdown(&Report{Header: a.Header, Summary: a.Summary, Findings: a.Findings, Omitted: a.Omitted}, share)
		var extra strings.Builder
		if len(a.SCPs) > 0 {
			extra.WriteString("Service control policies:")
			for _, l := range a.SCPs {
				fmt.Fprintf(&extra, " %s: %s;", l.Target, strings.Join(l.Policies, ", "))
			}
			extra.WriteString("\n\n")
		}
		for k, bl := range a.BlockedBySCP {
			if k == mdMaxNamed {
				fmt.Fprintf(&extra, "- and %d more\n", len(a.BlockedBySCP)-k)
				break
			}
			if k == 0 {
				extra.WriteString("Escalations the SCPs stop (not findings):\n\n")
			}
			fmt.Fprintf(&extra, "- %s: %s, %s\n", bl.Principal, bl.Method, bl.By)
		}
		if len(a.BlockedBySCP) > 0 {
			extra.WriteString("\n")
		}
		// One heading level down; the account's title names its alias.
		lines := strings.Split(part, "\n")
		for k, l := range lines {
			if strings.HasPrefix(l, "#") {
				lines[k] = "#" + l
			}
		}
		if len(lines) > 0 && a.Alias != "" {
			lines[0] += " (" + a.Alias + ")"
		}
		if len(lines) > 1 {
			lines[1] += extra.String()
		}
		b.WriteString(strings.Join(lines, "\n"))
	}
	return b.String()
}
