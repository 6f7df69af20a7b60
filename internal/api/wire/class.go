// Package wire holds the shapes that more than one API writes: a course class with the
// documented field names of the course-provider API v1, in JSON and XML.
package wire

import (
	"encoding/json"
	"encoding/xml"

	"github.com/tportal/tportal/internal/catalog"
)

// Address is a class's address.
type Address struct {
	AddressLine1 string `json:"addressLine1" xml:"addressLine1"`
	AddressLine2 string `json:"addressLine2" xml:"addressLine2"`
	City         string `json:"city" xml:"city"`
	ZipCode      string `json:"zipCode" xml:"zipCode"`
	Country      string `json:"country" xml:"country"`
}

// Price is a class's price.
type Price struct {
	Currency string `json:"currency" xml:"currency"`
	// Amount is a JSON number written from exact minor units, never through a float.
	Amount json.Number `json:"amount" xml:"amount"`
}

// Class is a course class with the documented field names.
type Class struct {
	XMLName                        xml.Name `json:"-" xml:"courseClass"`
	ExternalID                     string   `json:"externalId" xml:"externalId"`
	CourseExternalID               string   `json:"courseExternalId" xml:"courseExternalId"`
	Cancelled                      bool     `json:"cancelled" xml:"cancelled"`
	Location                       string   `json:"location" xml:"location"`
	AvailableSeats                 int      `json:"availableSeats" xml:"availableSeats"`
	EnrollmentDeadline             string   `json:"enrollmentDeadline" xml:"enrollmentDeadline"`
	CancellationDeadline           string   `json:"cancellationDeadline" xml:"cancellationDeadline"`
	StartDate                      string   `json:"startDate" xml:"startDate"`
	StartTime                      *string  `json:"startTime" xml:"startTime,omitempty"`
	EndDate                        string   `json:"endDate" xml:"endDate"`
	EndTime                        *string  `json:"endTime" xml:"endTime,omitempty"`
	TimeZone                       string   `json:"timeZone" xml:"timeZone"`
	Address                        Address  `json:"address" xml:"address"`
	Price                          Price    `json:"price" xml:"price"`
	SendScheduleInfoToParticipants bool     `json:"sendScheduleInfoToParticipants" xml:"sendScheduleInfoToParticipants"`
}

func clock(t *catalog.TimeOfDay) *string {
	if t == nil {
		return nil
	}
	s := t.String()
	return &s
}

// FromClass returns the wire shape of c.
func FromClass(c catalog.Class) Class {
	return Class{
		ExternalID:           c.ExternalID,
		CourseExternalID:     c.CourseExternalID,
		Cancelled:            c.Cancelled(),
		Location:             c.Location,
		AvailableSeats:       c.AvailableSeats,
		EnrollmentDeadline:   c.EnrollmentDeadline.String(),
		CancellationDeadline: c.CancellationDeadline.String(),
		StartDate:            c.StartDate.String(),
		StartTime:            clock(c.StartTime),
		EndDate:              c.EndDate.String(),
		EndTime:              clock(c.EndTime),
		TimeZone:             c.TimeZone,
		Address: Address{
			AddressLine1: c.Address.Line1, AddressLine2: c.Address.Line2, City: c.Address.City,
			ZipCode: c.Address.ZipCode, Country: c.Address.Country,
		},
		Price:                          Price{Currency: c.Price.Currency, Amount: json.Number(c.Price.Amount())},
		SendScheduleInfoToParticipants: c.SendScheduleInfo,
	}
}
