package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// Store is the storage the catalog needs. Implementations do data access only: every
// rule lives in Service. Not-found is an errs.NotFound error, never a zero value.
type Store interface {
	// CreateProvider stores p and sets its ID. A taken username is errs.Conflict.
	CreateProvider(ctx context.Context, p *Provider) error
	// ProviderByUsername returns errs.NotFound for an unknown username.
	ProviderByUsername(ctx context.Context, username string) (Provider, error)
	// ProviderByID returns errs.NotFound for an unknown id.
	ProviderByID(ctx context.Context, id int64) (Provider, error)
	// Providers lists every provider by username.
	Providers(ctx context.Context) ([]Provider, error)
	// ModifyProvider changes a provider atomically through fn.
	ModifyProvider(ctx context.Context, username string, fn func(*Provider) error) (Provider, error)

	// CreateCourse stores c and sets its ID. A provider's duplicate external id is errs.Conflict.
	CreateCourse(ctx context.Context, c *Course) error
	// Courses lists courses matching the filter, ordered by name.
	Courses(ctx context.Context, filter CourseFilter) ([]Course, error)
	// ModifyCourse reads the course with the id, lets fn change it, and writes it
	// back in one transaction; fn also learns how many classes (deleted ones
	// included) the course has. Unknown is errs.NotFound; a provider's duplicate
	// external id is errs.Conflict.
	ModifyCourse(ctx context.Context, id int64, fn func(c *Course, classes int) error) (Course, error)

	// CreateClass stores c and sets its ID. A live class with the same external id in
	// the course is errs.Conflict.
	CreateClass(ctx context.Context, c *Class) error
	// Classes lists a course's live (not deleted) classes, ordered by start date.
	Classes(ctx context.Context, courseID int64) ([]Class, error)
	// ModifyClass reads a live class, lets fn change it, and writes it back, holding a
	// lock on the class meanwhile so concurrent changes never overwrite each other. An
	// error from fn aborts without a change. Unknown is errs.NotFound. then, when not
	// nil, runs after the write in the same transaction, with a context whose store
	// calls join it; its error rolls the change back. It is how a class change's mails
	// reach the outbox in the change's own commit. fn may run more than once, on
	// versions of the class that turn out to be stale; only the run whose outcome is
	// written, or whose error is returned, counts.
	ModifyClass(ctx context.Context, courseID int64, externalID string, fn func(*Class) error,
		then func(context.Context, Class) error) (Class, error)
	// DeleteClassIfUnbooked deletes the class if no booking was ever made on it, and
	// reports whether it did.
	DeleteClassIfUnbooked(ctx context.Context, classID int64) (bool, error)
	// DeleteCancelledClasses deletes the classes cancelled before cancelledBefore,
	// keeping their rows for their bookings, and returns how many.
	DeleteCancelledClasses(ctx context.Context, cancelledBefore, now time.Time) (int, error)
}

// CourseFilter selects courses; nil fields do not filter.
type CourseFilter struct {
	ID         *int64
	ProviderID *int64
	ExternalID *string
}

// Service applies the catalogue's rules: ownership, validation and the class lifecycle.
type Service struct {
	Store       Store
	DefaultZone string                       // time zone of classes that name none, e.g. Europe/Oslo
	Now         func() time.Time             // the clock; time.Now when nil
	CheckURL    func(kind, url string) error // checks a provider's "reserve" or "cancel" URL; nil accepts any
	// KeepCancelled is how long a cancelled class with bookings stays restorable
	// before SweepCancelled deletes it; one hour when zero, as the public service does.
	KeepCancelled time.Duration
	// ClassCancelled, ClassRestored and ClassUpdated are told about a provider's change
	// of a class inside its transaction (Store.ModifyClass's then), to add the mails to
	// its bookings' people to the outbox with the change: a crash never keeps the one
	// without the other, and their error rolls the change back. Nil tells nobody.
	// ClassCancelled is told about a cancelled class, to tell its enrollers (a class
	// without bookings has nobody to tell).
	ClassCancelled func(ctx context.Context, c Class) error
	// NewPassword makes a provider's API password and its slow hash, for
	// RegisterProvider and RotateProviderPassword; auth.NewPassword is the one. The
	// catalogue cannot import internal/auth (auth reads providers from it), hence the
	// field. Nil makes those two fail with errs.Internal.
	NewPassword func() (password, hash string, err error)
	// ClassRestored is told about a restored class, to tell its enrollers.
	ClassRestored func(ctx context.Context, c Class) error
	// ClassUpdated is told about every class whose schedule (SameSchedule) a
	// provider's update changed, before and after, to send its bookings' people the
	// new schedule.
	ClassUpdated func(ctx context.Context, before, after Class) error
}

// keepCancelled returns KeepCancelled or its default.
func (s *Service) keepCancelled() time.Duration {
	if s.KeepCancelled > 0 {
		return s.KeepCancelled
	}
	return time.Hour
}

// SweepCancelled deletes the cancelled classes whose time to be restored is over.
func (s *Service) SweepCancelled(ctx context.Context) (int, error) {
	now := s.now()
	return s.Store.DeleteCancelledClasses(ctx, now.Add(-s.keepCancelled()), now)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Courses returns the provider's courses.
func (s *Service) Courses(ctx context.Context, p Provider) ([]Course, error) {
	return s.Store.Courses(ctx, CourseFilter{ProviderID: &p.ID})
}

// Course returns the provider's course with the external id: errs.Forbidden when the
// course belongs only to other providers, errs.NotFound when nobody has it.
func (s *Service) Course(ctx context.Context, p Provider, externalCourseID string) (Course, error) {
	if c, ok := ctx.Value(knownCourseKey{}).(Course); ok && c.ProviderID == p.ID && c.ExternalID == externalCourseID {
		return c, nil
	}
	courses, err := s.Store.Courses(ctx, CourseFilter{ExternalID: &externalCourseID})
	if err != nil {
		return Course{}, err
	}
	for _, c := range courses {
		if c.ProviderID == p.ID {
			return c, nil
		}
	}
	if len(courses) > 0 {
		return Course{}, errs.E(errs.Forbidden, "course %q belongs to another provider", externalCourseID)
	}
	return Course{}, errs.E(errs.NotFound, "no course with externalCourseId %q; ask Trainingportal to create it", externalCourseID)
}

type knownCourseKey struct{}

// WithCourse returns ctx carrying course c, already read in this request (with the
// provider's credentials, in one query), so that Course answers with it instead of
// querying again. It is used only for the provider and external id it belongs to.
func WithCourse(ctx context.Context, c Course) context.Context {
	return context.WithValue(ctx, knownCourseKey{}, c)
}

// Classes returns the live classes of the provider's course, cancelled ones included.
func (s *Service) Classes(ctx context.Context, p Provider, externalCourseID string) ([]Class, error) {
	course, err := s.Course(ctx, p, externalCourseID)
	if err != nil {
		return nil, err
	}
	return s.Store.Classes(ctx, course.ID)
}

// AddClass publishes a new class of the provider's course.
func (s *Service) AddClass(ctx context.Context, p Provider, externalCourseID string, f ClassFields) (Class, error) {
	course, err := s.Course(ctx, p, externalCourseID)
	if err != nil {
		return Class{}, err
	}
	c, err := NewClass(course, f, s.DefaultZone)
	if err != nil {
		return Class{}, err
	}
	now := s.now()
	if err := c.CheckDateWindow(DateOf(now)); err != nil {
		return Class{}, err
	}
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.Store.CreateClass(ctx, &c); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Class{}, errs.E(errs.Conflict, "externalId %q already exists in course %q; use updateClass to change it", c.ExternalID, externalCourseID)
		}
		return Class{}, err
	}
	return c, nil
}

// UpdateClass changes the fields sent; a cancelled class must be restored first.
//
// A change that leaves the schedule as it was (SameSchedule: seats, price) has no
// mail to send with it, so it goes to the store without a then, which lets the store
// write it without a transaction of its own (one conditional statement on
// PostgreSQL, issue 11). Which one it is shows only once the change is made on the
// class as stored, so a change of schedule is found there and made again with its
// mails.
func (s *Service) UpdateClass(ctx context.Context, p Provider, externalCourseID string, f ClassFields) (Class, error) {
	if f.ExternalID == nil || *f.ExternalID == "" {
		return Class{}, errs.E(errs.Invalid, "externalId: is required")
	}
	course, err := s.Course(ctx, p, externalCourseID)
	if err != nil {
		return Class{}, err
	}
	var before Class
	change := func(c *Class) error {
		before = *c
		if c.Cancelled() {
			return errs.E(errs.Conflict, "class %q is cancelled; restore it with restoreClass before updating it", c.ExternalID)
		}
		if err := c.Apply(f); err != nil {
			return err
		}
		if err := c.CheckDateWindow(DateOf(s.now())); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		return nil
	}
	after, err := s.modifyClass(ctx, course, *f.ExternalID, func(c *Class) error {
		if err := change(c); err != nil {
			return err
		}
		if s.ClassUpdated != nil && !SameSchedule(before, *c) {
			return errScheduleChanged
		}
		return nil
	}, nil)
	if !errors.Is(err, errScheduleChanged) {
		return after, err
	}
	return s.modifyClass(ctx, course, *f.ExternalID, change, func(ctx context.Context, after Class) error {
		return s.ClassUpdated(ctx, before, after)
	})
}

// errScheduleChanged stops UpdateClass's first try at a change that has mails to send.
var errScheduleChanged = errors.New("the schedule changed")

// SameSchedule reports whether two versions of a class start, end and meet at the
// same times and place, so that a calendar entry of one is right for the other.
func SameSchedule(a, b Class) bool {
	sameTime := func(x, y *TimeOfDay) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.StartDate == b.StartDate && a.EndDate == b.EndDate && sameTime(a.StartTime, b.StartTime) &&
		sameTime(a.EndTime, b.EndTime) && a.TimeZone == b.TimeZone && a.Location == b.Location && a.Address == b.Address
}

// CancelClass cancels a published class. A class nobody ever booked is deleted at once;
// one with bookings is kept (restorable) until the sweep deletes it.
func (s *Service) CancelClass(ctx context.Context, p Provider, externalCourseID, externalClassID string) (Class, error) {
	course, err := s.Course(ctx, p, externalCourseID)
	if err != nil {
		return Class{}, err
	}
	c, err := s.modifyClass(ctx, course, externalClassID, func(c *Class) error {
		if c.Cancelled() {
			return errs.E(errs.Conflict, "class %q is already cancelled", c.ExternalID)
		}
		now := s.now()
		c.CancelledAt, c.UpdatedAt = &now, now
		return nil
	}, s.ClassCancelled)
	if err != nil {
		return Class{}, err
	}
	// A class never booked has nobody to tell, so deleting it after the commit above
	// loses no mail; if the portal stops before, the sweep deletes it later.
	if _, err := s.Store.DeleteClassIfUnbooked(ctx, c.ID); err != nil {
		return Class{}, err
	}
	return c, nil
}

// RestoreClass publishes a cancelled class again: errs.NotFound when it is unknown or
// already deleted, errs.Conflict when it is published.
func (s *Service) RestoreClass(ctx context.Context, p Provider, externalCourseID, externalClassID string) (Class, error) {
	course, err := s.Course(ctx, p, externalCourseID)
	if err != nil {
		return Class{}, err
	}
	c, err := s.modifyClass(ctx, course, externalClassID, func(c *Class) error {
		if !c.Cancelled() {
			return errs.E(errs.Conflict, "class %q is published; there is nothing to restore", c.ExternalID)
		}
		c.CancelledAt, c.UpdatedAt = nil, s.now()
		return nil
	}, s.ClassRestored)
	return c, err
}

// modifyClass changes a class through fn; then (nil: none) runs in the change's
// transaction to add its mails to the outbox.
func (s *Service) modifyClass(ctx context.Context, course Course, externalClassID string, fn func(*Class) error,
	then func(context.Context, Class) error) (Class, error) {
	c, err := s.Store.ModifyClass(ctx, course.ID, externalClassID, fn, then)
	if errs.Is(err, errs.NotFound) {
		return Class{}, errs.E(errs.NotFound, "no class with externalId %q in course %q; create it with addClass", externalClassID, course.ExternalID)
	}
	return c, err
}
