package booking

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// ListQuery selects a page of bookings for the portal's booking list; zero fields do
// not filter. Pages run newest first.
type ListQuery struct {
	States      []State
	ClassID     int64
	CourseID    int64
	CompanyID   int64     // only this company's bookings: a company's API token, its enrollers' pages
	CreatedFrom time.Time // inclusive
	CreatedTo   time.Time // exclusive
	Limit       int       // DefaultListLimit when 0; at most MaxListLimit
	Cursor      string    // "" for the first page, else the NextCursor of the page before
}

// ListPage is one page of bookings and the cursor of the next ("" when it is the last).
type ListPage struct {
	Bookings   []Booking
	NextCursor string
}

// Page sizes of List.
const (
	DefaultListLimit = 100
	MaxListLimit     = 500
)

// ListStore is the storage List needs, part of Store.
type ListStore interface {
	// ListBookings returns at most limit bookings matching q with an id below
	// beforeID (no bound when 0), highest id first.
	ListBookings(ctx context.Context, q ListQuery, beforeID int64, limit int) ([]Booking, error)
}

// List returns a page of bookings, newest first. The cursor is opaque to callers: it
// holds the id of the last booking of the page before, so pages neither skip nor
// repeat a booking when new ones are made meanwhile. Bad input is errs.Invalid
// naming the parameter.
func (s *Service) List(ctx context.Context, q ListQuery) (ListPage, error) {
	var problems []string
	for _, st := range q.States {
		if !st.valid() {
			problems = append(problems, "state: "+strconv.Quote(string(st))+" is not one of "+stateNames())
		}
	}
	if q.ClassID < 0 {
		problems = append(problems, "class: must be a class id")
	}
	if q.CourseID < 0 {
		problems = append(problems, "course: must be a course id")
	}
	if !q.CreatedFrom.IsZero() && !q.CreatedTo.IsZero() && !q.CreatedFrom.Before(q.CreatedTo) {
		problems = append(problems, "createdTo: must be after createdFrom")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		problems = append(problems, "limit: must be between 1 and "+strconv.Itoa(MaxListLimit))
	}
	var before int64
	if q.Cursor != "" {
		var err error
		if before, err = decodeCursor(q.Cursor); err != nil {
			problems = append(problems, "cursor: is not a cursor this API gave; start again without it")
		}
	}
	if len(problems) > 0 {
		return ListPage{}, errs.E(errs.Invalid, "%s", strings.Join(problems, "; "))
	}
	// One more than asked tells whether another page follows.
	bs, err := s.Store.ListBookings(ctx, q, before, q.Limit+1)
	if err != nil {
		return ListPage{}, err
	}
	page := ListPage{Bookings: bs}
	if len(bs) > q.Limit {
		page.Bookings = bs[:q.Limit]
		page.NextCursor = encodeCursor(page.Bookings[q.Limit-1].ID)
	}
	return page, nil
}

func (st State) valid() bool {
	for _, s := range States {
		if s == st {
			return true
		}
	}
	return false
}

func stateNames() string {
	names := make([]string, len(States))
	for i, s := range States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// cursorPrefix versions the cursor's format.
const cursorPrefix = "b1:"

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	digits, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, errs.E(errs.Invalid, "bad cursor")
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.Invalid, "bad cursor")
	}
	return id, nil
}
