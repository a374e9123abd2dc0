// Package quote quotes text from outside the process for a message: Go
// quoting, so that control characters and invalid UTF-8 show as escapes
// rather than act on a terminal or break a log line, and cut by the
// length of what is shown — an escape takes up to ten bytes, so cutting
// the input before quoting would not bound the message.
package quote

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Short returns s quoted, at most about max bytes of it shown; when cut, it
// ends with "…" and says how many characters s has.
func Short(s string, max int) string {
	q := strconv.Quote(s)
	if len(q) <= max {
		return q
	}
	n := max
	for n > 0 && !utf8.RuneStart(q[n]) {
		n--
	}
	return fmt.Sprintf("%s…\" (%d characters)", q[:n], utf8.RuneCountInString(s))
}
