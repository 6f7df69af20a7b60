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
type bookingDTO struct {
	XMLName               xml.Name  `json:"-" xml:"booking"`
	BookingReference      string    `json:"bookingReference" xml:"bookingReference"`
	ExternalCourseClassID string    `json:"externalCourseClassId" xml:"externalCourseClassId"`
	FirstName             string    `json:"firstName" xml:"firstName"`
	LastName              string    `json:"lastName" xml:"lastName"`
	Email                 string    `json:"email" xml:"email"`
	Phone                 string    `json:"phone" xml:"phone"`
	BirthDate             string    `json:"birthDate" xml:"birthDate"`
	Enroller              personDTO `json:"enroller" xml:"enroller"`
	Company               string    `json:"company" xml:"company"`
	EnrollmentStatus      string    `json:"enrollmentStatus" xml:"enrollmentStatus"`
	CommentOnEnrollment   string    `json:"commentOnEnrollment" xml:"commentOnEnrollment"`
	PurchaseOrderNumber   string    `json:"purchaseOrderNumber" xml:"purchaseOrderNumber"`
}

func toBookingDTO(b booking.Booking) bookingDTO {
	return bookingDTO{
		BookingReference:      b.Reference,
		ExternalCourseClassID: b.ClassExternalID,
		FirstName:             b.Student.FirstName,
		LastName:              b.Student.LastName,
		Email:                 b.Student.Email,
		Phone:                 b.Student.Phone,
		BirthDate:             b.StudentBirthDate,
		Enroller: personDTO{
			FirstName: b.Enroller.FirstName, LastName: b.Enroller.LastName,
			Email: b.Enroller.Email, Phone: b.Enroller.Phone,
		},
		Company:             b.Company,
		EnrollmentStatus:    b.State.EnrollmentStatus(),
		CommentOnEnrollment: b.Comment,
		PurchaseOrderNumber: b.PurchaseOrderNumber,
	}
}

func (a *API) getBookingInformation(r *http.Request, p catalog.Provider, _ params) (any, error) {
	b, err := a.Bookings.ForProvider(r.Context(), p, r.PathValue("bookingReference"))
	return toBookingDTO(b), err
}

func (a *API) updateBookingStatus(r *http.Request, p catalog.Provider, in params) (any, error) {
	_, err := a.Bookings.UpdateStatus(r.Context(), p, r.PathValue("bookingReference"), in.Get("newStatus"), in.Get("completionDate"))
	return statusMessage{Successful: true}, err
}
