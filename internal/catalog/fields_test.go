package catalog

import (
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/errs"
)

func ptr(s string) *string { return &s }

// validFields is a complete addClass input.
func validFields() ClassFields {
	return ClassFields{
		ExternalID: ptr("W40"), Location: ptr("Oslo"), AvailableSeats: ptr("12"),
		EnrollmentDeadline: ptr("2030-09-20"), CancellationDeadline: ptr("2030-09-25"),
		StartDate: ptr("2030-10-01"), StartTime: ptr("09:00"), EndDate: ptr("2030-10-03"), EndTime: ptr("15:00"),
		AddressLine1: ptr("Karl Johans gate 1"), City: ptr("Oslo"), ZipCode: ptr("0154"), Country: ptr("NO"),
		Currency: ptr("nok"), Amount: ptr("12500,50"),
	}
}

func TestNewClass(t *testing.T) {
	course := Course{ID: 7, ExternalID: "BST"}
	c, err := NewClass(course, validFields(), "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	if c.CourseID != 7 || c.Price != (Money{"NOK", 1250050}) || !c.SendScheduleInfo || c.TimeZone != "Europe/Oslo" || c.AvailableSeats != 12 {
		t.Errorf("NewClass = %+v", c)
	}

	tests := []struct {
		name    string
		change  func(*ClassFields)
		wantMsg []string // every part must appear in the error
	}{
		{"missing location", func(f *ClassFields) { f.Location = nil }, []string{"location: is required"}},
		{"two missing", func(f *ClassFields) { f.Location, f.Amount = nil, ptr(" ") }, []string{"location: is required", "price.amount: is required"}},
		{"missing and malformed at once", func(f *ClassFields) { f.Location, f.AvailableSeats = nil, ptr("-1") }, []string{"location: is required", "availableSeats: must be zero"}},
		{"bad date", func(f *ClassFields) { f.StartDate = ptr("01.10.2030") }, []string{"startDate:", "yyyy-MM-dd"}},
		{"negative seats", func(f *ClassFields) { f.AvailableSeats = ptr("-3") }, []string{"availableSeats: must be zero or a positive number"}},
		{"seats not a number", func(f *ClassFields) { f.AvailableSeats = ptr("many") }, []string{"availableSeats:", "whole number"}},
		{"unknown currency", func(f *ClassFields) { f.Currency = ptr("SEK") }, []string{"price.currency:", "NOK, EUR, USD, GBP"}},
		{"three decimals", func(f *ClassFields) { f.Amount = ptr("1.005") }, []string{"price.amount:"}},
		{"end before start", func(f *ClassFields) { f.EndDate = ptr("2030-09-30") }, []string{"endDate:", "before startDate"}},
		{"end time not after start", func(f *ClassFields) { f.EndDate = ptr("2030-10-01"); f.EndTime = ptr("09:00") }, []string{"endTime:"}},
		{"enrollment after start", func(f *ClassFields) { f.EnrollmentDeadline = ptr("2030-10-02") }, []string{"enrollmentDeadline:", "after startDate"}},
		{"cancellation after start", func(f *ClassFields) { f.CancellationDeadline = ptr("2030-10-02") }, []string{"cancellationDeadline:"}},
		{"bad time zone", func(f *ClassFields) { f.TimeZone = ptr("Mars/Olympus") }, []string{"timeZone:", "IANA"}},
		{"bad boolean", func(f *ClassFields) { f.SendScheduleInfo = ptr("maybe") }, []string{"sendScheduleInfoToParticipants:"}},
		{"bad time", func(f *ClassFields) { f.StartTime = ptr("9am") }, []string{"startTime:", "HH:mm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			tt.change(&f)
			_, err := NewClass(course, f, "Europe/Oslo")
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want an Invalid error", err)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
		})
	}
}

func TestApplyChangesOnlyWhatWasSent(t *testing.T) {
	c, err := NewClass(Course{ID: 1}, validFields(), "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	before := c
	if err := c.Apply(ClassFields{AvailableSeats: ptr("3"), StartTime: ptr(""), ExternalID: ptr("OTHER")}); err != nil {
		t.Fatal(err)
	}
	if c.AvailableSeats != 3 || c.StartTime != nil || c.ExternalID != "W40" || c.Location != before.Location || c.Price != before.Price {
		t.Errorf("after Apply: %+v", c)
	}
	// A failed update changes nothing.
	c2 := c
	if err := c2.Apply(ClassFields{AvailableSeats: ptr("5"), EndDate: ptr("2000-01-01")}); err == nil {
		t.Fatal("Apply with endDate before startDate succeeded")
	}
	if c2.AvailableSeats != 3 || c2.EndDate != c.EndDate {
		t.Errorf("a failed Apply changed the class: %+v", c2)
	}
	// Required fields cannot be emptied.
	if err := c2.Apply(ClassFields{Location: ptr("")}); err == nil || !strings.Contains(err.Error(), "location: must not be empty") {
		t.Errorf("emptying location: %v", err)
	}
}
