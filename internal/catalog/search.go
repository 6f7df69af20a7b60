package catalog

import (
	"context"
	"strings"

	"github.com/tportal/tportal/internal/errs"
)

// ClassFilter selects live classes across every course, for the portal's booking
// API; zero fields do not filter.
type ClassFilter struct {
	CourseID      int64  // the portal's course id
	Location      string // case-insensitive substring of the class's location
	From, To      *Date  // on or after From, on or before To, by the class's start date
	FreeSeatsOnly bool   // only classes with availableSeats > 0
}

// ClassFinder searches classes. *store.DB satisfies it; it is a separate interface so
// that Store stays what the course-provider API needs.
type ClassFinder interface {
	// FindClasses lists the live (not deleted) classes matching f, cancelled ones
	// included, ordered by start.
	FindClasses(ctx context.Context, f ClassFilter) ([]Class, error)
}

// FindClasses validates the filter and returns the live classes that match it,
// cancelled ones included. The Store must also be a ClassFinder.
func (s *Service) FindClasses(ctx context.Context, f ClassFilter) ([]Class, error) {
	f.Location = strings.TrimSpace(f.Location)
	var fe fieldErrors
	if f.CourseID < 0 {
		fe.add("course", "%d is not a course id", f.CourseID)
	}
	if tooLong := TooLong(f.Location, maxText); tooLong != "" {
		fe.add("location", "%s", tooLong)
	}
	if f.From != nil && f.To != nil && f.From.Compare(*f.To) > 0 {
		fe.add("from", "%s is after to %s", f.From, f.To)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	finder, ok := s.Store.(ClassFinder)
	if !ok {
		return nil, errs.E(errs.Internal, "catalog: the store %T cannot search classes", s.Store)
	}
	return finder.FindClasses(ctx, f)
}

// ClassesVersioner tells a course's ClassesVersion; *store.DB satisfies it.
type ClassesVersioner interface {
	// ClassesVersion returns errs.NotFound for an unknown course.
	ClassesVersion(ctx context.Context, courseID int64) (int64, error)
}

// ClassesVersion returns the course's ClassesVersion, for callers that cache answers
// built from its classes; ok is false when the Store cannot tell it.
func (s *Service) ClassesVersion(ctx context.Context, courseID int64) (v int64, ok bool, err error) {
	cv, isCV := s.Store.(ClassesVersioner)
	if !isCV {
		return 0, false, nil
	}
	v, err = cv.ClassesVersion(ctx, courseID)
	return v, err == nil, err
}
