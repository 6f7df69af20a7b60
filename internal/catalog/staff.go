package catalog

import (
	"context"
	"strings"

	"github.com/tportal/tportal/internal/errs"
)

// The rules of the staff pages' provider and course forms, beside the command
// line's in admin.go.

// Providers lists every provider, by username.
func (s *Service) Providers(ctx context.Context) ([]Provider, error) {
	return s.Store.Providers(ctx)
}

// ProviderByID returns the provider with the id; unknown is errs.NotFound.
func (s *Service) ProviderByID(ctx context.Context, id int64) (Provider, error) {
	p, err := s.Store.ProviderByID(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return Provider{}, errs.E(errs.NotFound, "there is no provider %d", id)
	}
	return p, err
}

// UsernameFor proposes an API username for a provider named name: lower-case
// letters and digits, other runs of characters made one '-', cut to 64. It may
// still be taken, or too short (AddProvider says so).
func UsernameFor(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	u := b.String()
	if len(u) > 64 {
		u = u[:64]
	}
	return strings.TrimRight(u, "-")
}

// CourseByID returns the course with the id; unknown is errs.NotFound.
func (s *Service) CourseByID(ctx context.Context, id int64) (Course, error) {
	courses, err := s.Store.Courses(ctx, CourseFilter{ID: &id})
	if err != nil {
		return Course{}, err
	}
	if len(courses) == 0 {
		return Course{}, errs.E(errs.NotFound, "there is no course %d", id)
	}
	return courses[0], nil
}

// CourseChange is the course form: every field is set to what it says.
type CourseChange struct {
	Name, Description, ExternalID string
	ProviderUsername              string // the provider the course is assigned to
}

// ChangeCourse changes a course. Its name and description may always change; its
// provider and externalCourseId only while it has no classes, because the classes
// belong to the provider under that id and bookings name them (errs.Conflict).
func (s *Service) ChangeCourse(ctx context.Context, id int64, ch CourseChange) (Course, error) {
	p, err := s.Store.ProviderByUsername(ctx, ch.ProviderUsername)
	if errs.Is(err, errs.NotFound) {
		return Course{}, errs.E(errs.Invalid, "provider: there is no provider %q", ch.ProviderUsername)
	}
	if err != nil {
		return Course{}, err
	}
	c, err := s.Store.ModifyCourse(ctx, id, func(c *Course, classes int) error {
		old := *c
		c.Name, c.Description, c.ExternalID, c.ProviderID = ch.Name, ch.Description, ch.ExternalID, p.ID
		fe := checkCourse(c)
		if classes > 0 && c.ExternalID != old.ExternalID {
			fe.add("external-id", "cannot change: the course has classes, which the provider publishes under %q", old.ExternalID)
		}
		if classes > 0 && c.ProviderID != old.ProviderID {
			fe.add("provider", "cannot change: the course has classes, which belong to its provider")
		}
		return fe.err()
	})
	switch {
	case errs.Is(err, errs.NotFound):
		return Course{}, errs.E(errs.NotFound, "there is no course %d", id)
	case errs.Is(err, errs.Conflict):
		return Course{}, errs.E(errs.Invalid, "external-id: provider %q already has a course with external id %q", ch.ProviderUsername, strings.TrimSpace(ch.ExternalID))
	}
	return c, err
}
