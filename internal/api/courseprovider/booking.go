package courseprovider

import (
	"encoding/xml"
	"net/http"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// personDTO is the enroller object of getBookingInformation.
type personDTO struct {
	FirstName string `json:"firstName" xml:"firstName"`
	LastName  string `json:"lastName" xml:"lastName"`
	Email     string `json:"email" xml:"email"`
	Phone     string `json:"phone" xml:"phone"`
}

// bookingDTO is getBookingInformation's answer, with the documented field names.
// The student's name is there twice: firstName/lastName as the public table spells
// it, firstname/lastname as the public example does, since providers coded to either.
// (encoding/json matches keys case-insensitively when decoding, but clients in other
// languages do not.) externalCourseId and providerBookingReference are extensions.
type bookingDTO struct {
	XMLName                  xml.Name  `json:"-" xml:"booking"`
	BookingReference         string    `json:"bookingReference" xml:"bookingReference"`
	ProviderBookingReference string    `json:"providerBookingReference" xml:"providerBookingReference"`
	ExternalCourseID         string    `json:"externalCourseId" xml:"externalCourseId"`
	ExternalCourseClassID    string    `json:"externalCourseClassId" xml:"externalCourseClassId"`
	FirstName                string    `json:"firstName" xml:"firstName"`
	LastName                 string    `json:"lastName" xml:"lastName"`
	Firstname                string    `json:"firstname" xml:"firstname"`
	Lastname                 string    `json:"lastname" xml:"lastname"`
	Email                    string    `json:"email" xml:"email"`
	Phone                    string    `json:"phone" xml:"phone"`
	BirthDate                string    `json:"birthDate" xml:"birthDate"`
	Enroller                 personDTO `json:"enroller" xml:"enroller"`
	Company                  string    `json:"company" xml:"company"`
	EnrollmentStatus         string    `json:"enrollmentStatus" xml:"enrollmentStatus"`
	CommentOnEnrollment      string    `json:"commentOnEnrollment" xml:"commentOnEnrollment"`
	PurchaseOrderNumber      string    `json:"purchaseOrderNumber" xml:"purchaseOrderNumber"`
}

// toBookingDTO answers b, with phone numbers in the example's format for the
// portal's default country.
func toBookingDTO(b booking.Booking, defaultCountry string) bookingDTO {
	return bookingDTO{
		BookingReference:         b.Reference,
		ProviderBookingReference: b.ProviderReference,
		ExternalCourseID:         b.CourseExternalID,
		ExternalCourseClassID:    b.ClassExternalID,
		FirstName:                b.Student.FirstName,
		LastName:                 b.Student.LastName,
		Firstname:                b.Student.FirstName,
		Lastname:                 b.Student.LastName,
		Email:                    b.Student.Email,
		Phone:                    phoneDigits(b.Student.Phone, defaultCountry),
		BirthDate:                b.StudentBirthDate,
		Enroller: personDTO{
			FirstName: b.Enroller.FirstName, LastName: b.Enroller.LastName,
			Email: b.Enroller.Email, Phone: phoneDigits(b.Enroller.Phone, defaultCountry),
		},
		Company:             b.Company,
		EnrollmentStatus:    b.State.EnrollmentStatus(),
		CommentOnEnrollment: b.Comment,
		PurchaseOrderNumber: b.PurchaseOrderNumber,
	}
}

func (a *API) getBookingInformation(r *http.Request, p catalog.Provider, _ params) (any, error) {
	b, err := a.Bookings.ForProvider(r.Context(), p, r.PathValue("bookingReference"))
	if err != nil {
		return nil, err
	}
	return toBookingDTO(b, a.DefaultCountry), nil
}

func (a *API) updateBookingStatus(r *http.Request, p catalog.Provider, in params) (any, error) {
	_, err := a.Bookings.UpdateStatus(r.Context(), p, r.PathValue("bookingReference"), in.Get("newStatus"), in.Get("completionDate"))
	return succeeded(""), err
}
