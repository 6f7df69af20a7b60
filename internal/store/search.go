package store

import (
	"context"
	"strings"

	"github.com/tportal/tportal/internal/catalog"
)

var _ catalog.ClassFinder = (*DB)(nil)

// FindClasses implements catalog.ClassFinder: live classes of every course matching
// the filter, cancelled ones included, ordered by start. Dates compare as yyyy-MM-dd
// text, which orders like the dates. The location filter runs here in Go rather than
// in SQL: SQLite's LOWER and LIKE fold only ASCII, so "ålesund" would not find
// "Ålesund" there while PostgreSQL would; Go folds Unicode the same on both.
func (s *DB) FindClasses(ctx context.Context, f catalog.ClassFilter) ([]catalog.Class, error) {
	where := []string{"cl.deleted_at IS NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.CourseID != 0 {
		where = append(where, "cl.course_id = "+arg(f.CourseID))
	}
	if f.From != nil {
		where = append(where, "cl.start_date >= "+arg(f.From.String()))
	}
	if f.To != nil {
		where = append(where, "cl.start_date <= "+arg(f.To.String()))
	}
	if f.FreeSeatsOnly {
		where = append(where, "cl.available_seats > 0")
	}
	q := `SELECT ` + classColumns + classFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY cl.starts_at, cl.course_id, cl.external_id`
	classes, err := queryAll(ctx, s, "find classes", q, args, scanClass)
	needle := strings.ToLower(strings.TrimSpace(f.Location))
	if err != nil || needle == "" {
		return classes, err
	}
	out := classes[:0]
	for _, c := range classes {
		if strings.Contains(strings.ToLower(c.Location), needle) {
			out = append(out, c)
		}
	}
	return out, nil
}
