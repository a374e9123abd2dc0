package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

// terminalConsent is the command line's gate.Consent: the person at the
// terminal is asked, or --yes answered for them in advance. Without a
// terminal nobody can be asked, and the change is refused — a script that
// pipes "y" into the command is not a person, and says so with --yes.
type terminalConsent struct {
	yes   bool         // --yes
	level gate.Confirm // for the question's first line
	// terminal returns where to ask: the reader of the answer and the
	// writer of the question; ok is false when there is no terminal.
	terminal func() (in io.Reader, out io.Writer, ok bool)
}

// Via values of the audit record's consent.
const (
	viaYes      = "--yes"
	viaTerminal = "terminal"
)

func (t *terminalConsent) Ask(ctx context.Context, q gate.Question) (gate.Answer, error) {
	if t.yes {
		return gate.Answer{Decision: gate.Accept, Via: viaYes}, nil
	}
	var in io.Reader
	var out io.Writer
	ok := false
	if t.terminal != nil {
		in, out, ok = t.terminal()
	}
	if !ok {
		return gate.Answer{Via: viaTerminal, Unavailable: "there is no terminal to ask on. Run the command in a terminal to be shown the change and asked, " +
			"or add --yes to approve it from a script"}, nil
	}
	writeQuestion(out, q, t.level)
	fmt.Fprint(out, "Make this change? Type y to approve; anything else declines. [y/N] ")
	line, err := readAnswer(ctx, in)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF):
		fmt.Fprintln(out)
		return gate.Answer{Decision: gate.Cancel, Via: viaTerminal}, nil
	case errors.Is(err, errLongAnswer):
		fmt.Fprintln(out, "Declined: that is not y.")
		return gate.Answer{Decision: gate.Decline, Via: viaTerminal}, nil
	case err != nil:
		return gate.Answer{Via: viaTerminal}, fmt.Errorf("cannot read the answer from the terminal: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return gate.Answer{Decision: gate.Accept, Via: viaTerminal}, nil
	}
	return gate.Answer{Decision: gate.Decline, Via: viaTerminal}, nil
}

// maxAnswer is the longest answer line read; "yes" needs three bytes, and
// a longer line is a no without reading on.
const maxAnswer = 64

var errLongAnswer = errors.New("the answer is longer than any yes")

// readAnswer reads one line from r, or returns ctx's error when ctx ends
// first (Ctrl-C): a read from a terminal cannot be interrupted, so it
// runs apart, and a command that gives up on it exits soon after. A line
// not ended by a newline (Ctrl-D) is io.EOF, never an answer.
func readAnswer(ctx context.Context, r io.Reader) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var line []byte
		b := make([]byte, 1)
		for len(line) <= maxAnswer {
			n, err := r.Read(b)
			if n == 1 {
				if b[0] == '\n' {
					done <- result{string(line), nil}
					return
				}
				line = append(line, b[0])
				continue
			}
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = io.EOF
				}
				done <- result{"", err}
				return
			}
		}
		done <- result{"", errLongAnswer}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-done:
		return r.line, r.err
	}
}

// Bounds of what the question shows, so that a plan cannot flood the
// terminal; what is left out is said, with the way to see all of it.
const (
	maxShown = 300 // characters of one value
	maxItems = 200 // steps, entities or findings of one list
)

// writeQuestion shows the person what they are asked to approve: for each
// change its summary, the IAM calls in order, the entities affected, the
// guardrails' findings and whether it can be undone. Every value passes
// through printable: plans carry names and text from the arguments and
// from IAM, and an escape sequence must not redraw the question.
func writeQuestion(w io.Writer, q gate.Question, level gate.Confirm) {
	if name := q.Account.Name(); !q.Account.Self && name != "" {
		// A change in another account is asked at that account's level
		// (the accounts file's confirm), and says where it lands.
		fmt.Fprintf(w, "\nThis change in account %s needs your yes (confirm %s there):\n", printable(name), cmp.Or(q.Account.Confirm, level))
	} else {
		fmt.Fprintf(w, "\nThis change needs your yes (--confirm %s):\n", level)
	}
	if q.Summary != "" {
		// Labelled, as every line with words the host did not write, so
		// that a plugin's summary cannot pass for a line of the host's.
		fmt.Fprintf(w, "  Purpose (the plugin's words): %s\n", printable(q.Summary))
	}
	for i, c := range q.Changes {
		prefix := "  "
		if len(q.Changes) > 1 {
			fmt.Fprintf(w, "  %d. %s\n", i+1, printable(c.Operation))
			prefix = "     "
		}
		if name := c.Account.Name(); c.Account.ID != q.Account.ID && !c.Account.Self && name != "" {
			fmt.Fprintf(w, "%sin account %s\n", prefix, printable(name))
		}
		p := c.Plan
		if p == nil {
			fmt.Fprintf(w, "%s%s (no plan was made)\n", prefix, printable(c.Operation))
			continue
		}
		fmt.Fprintf(w, "%s%s: %s\n", prefix, printable(p.Operation), printable(p.Summary))
		fmt.Fprintf(w, "%sIAM calls, in order:\n", prefix)
		for j, s := range p.Steps {
			if j == maxItems {
				fmt.Fprintf(w, "%s  … and %d more (call it with dry_run: true to see the whole plan)\n", prefix, len(p.Steps)-j)
				break
			}
			line := fmt.Sprintf("%s  %d. %s %s", prefix, j+1, printable(s.Action), printable(s.Target))
			if s.Detail != "" {
				line += " — " + printable(s.Detail)
			}
			fmt.Fprintln(w, line)
		}
		writeList(w, prefix, "Affects", p.Affected)
		writeList(w, prefix, "Guardrail findings", p.Findings)
		undo := "no"
		if p.Reversible {
			undo = "yes"
		}
		if p.Undo != "" {
			undo += " — " + printable(p.Undo)
		}
		fmt.Fprintf(w, "%sCan be undone: %s\n", prefix, undo)
	}
}

func writeList(w io.Writer, prefix, label string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "%s%s:\n", prefix, label)
	for i, it := range items {
		if i == maxItems {
			fmt.Fprintf(w, "%s  … and %d more (call it with dry_run: true to see the whole plan)\n", prefix, len(items)-i)
			return
		}
		fmt.Fprintf(w, "%s  - %s\n", prefix, printable(it))
	}
}

// printable is s as the terminal may show it: what does not print (control
// characters such as ESC, CR and newlines, format characters such as the
// bidirectional overrides, invalid UTF-8) escaped as in Go source, and at
// most maxShown characters, the rest counted.
func printable(s string) string { return printableN(s, maxShown) }

// printableN is printable with at most max characters shown.
func printableN(s string, max int) string {
	var b strings.Builder
	shown := 0 // characters written, escapes counted as they show
	for i, r := range s {
		var piece string
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case unicode.IsPrint(r) && !unicode.Is(unicode.Bidi_Control, r):
			piece = string(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		if n := utf8.RuneCountInString(piece); shown+n <= max {
			b.WriteString(piece)
			shown += n
			continue
		}
		fmt.Fprintf(&b, "… (%d characters)", utf8.RuneCountInString(s))
		break
	}
	return b.String()
}

// openTTY opens the controlling terminal, for the question when stdin
// carries the arguments.
func openTTY() (*os.File, error) {
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}
