package store

import (
	"strconv"
	"strings"
)

// valueRows returns the VALUES list of a multi-row INSERT: rows rows of cols
// placeholders each, numbered from first ("($1, $2), ($3, $4)"). One statement
// writes what a change adds to a table, whatever the number of rows: on PostgreSQL
// every statement is a round trip. The number of rows of one change is small (the
// mails of a booking, the tries of a call), so the statement cache stays small.
// casts, one per column when given, are PostgreSQL types the placeholders are cast
// to, for a VALUES list that is not an INSERT's own (INSERT … SELECT … FROM
// (VALUES …)), where nothing else tells PostgreSQL the parameters' types.
func valueRows(rows, cols, first int, casts ...string) string {
	var sb strings.Builder
	sb.Grow(rows * cols * 12)
	n := first
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range cols {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			if len(casts) > 0 {
				sb.WriteString("::")
				sb.WriteString(casts[c])
			}
			n++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}
