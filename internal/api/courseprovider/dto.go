package courseprovider

import (
	"encoding/json"
	"encoding/xml"

	"github.com/tportal/tportal/internal/catalog"
)

// courseDTO is a course as getCourses returns it.
type courseDTO struct {
	XMLName          xml.Name `json:"-" xml:"course"`
	ID               int64    `json:"id" xml:"id"`
	ExternalCourseID string   `json:"externalCourseId" xml:"externalCourseId"`
	Name             string   `json:"name" xml:"name"`
	Description      string   `json:"description" xml:"description"`
}

type courseList struct {
	XMLName xml.Name    `xml:"courses"`
	Courses []courseDTO `xml:"course"`
}

type addressDTO struct {
	AddressLine1 string `json:"addressLine1" xml:"addressLine1"`
	AddressLine2 string `json:"addressLine2" xml:"addressLine2"`
	City         string `json:"city" xml:"city"`
	ZipCode      string `json:"zipCode" xml:"zipCode"`
	Country      string `json:"country" xml:"country"`
}

type priceDTO struct {
	Currency string `json:"currency" xml:"currency"`
	// Amount is a JSON number written from exact minor units, never through a float.
	Amount json.Number `json:"amount" xml:"amount"`
}

// classDTO is a course class with the documented field names.
type classDTO struct {
	XMLName                        xml.Name   `json:"-" xml:"courseClass"`
	ExternalID                     string     `json:"externalId" xml:"externalId"`
	CourseExternalID               string     `json:"courseExternalId" xml:"courseExternalId"`
	Cancelled                      bool       `json:"cancelled" xml:"cancelled"`
	Location                       string     `json:"location" xml:"location"`
	AvailableSeats                 int        `json:"availableSeats" xml:"availableSeats"`
	EnrollmentDeadline             string     `json:"enrollmentDeadline" xml:"enrollmentDeadline"`
	CancellationDeadline           string     `json:"cancellationDeadline" xml:"cancellationDeadline"`
	StartDate                      string     `json:"startDate" xml:"startDate"`
	StartTime                      *string    `json:"startTime" xml:"startTime,omitempty"`
	EndDate                        string     `json:"endDate" xml:"endDate"`
	EndTime                        *string    `json:"endTime" xml:"endTime,omitempty"`
	TimeZone                       string     `json:"timeZone" xml:"timeZone"`
	Address                        addressDTO `json:"address" xml:"address"`
	Price                          priceDTO   `json:"price" xml:"price"`
	SendScheduleInfoToParticipants bool       `json:"sendScheduleInfoToParticipants" xml:"sendScheduleInfoToParticipants"`
}

type classList struct {
	XMLName xml.Name   `xml:"courseClasses"`
	Classes []classDTO `xml:"courseClass"`
}

func clockPtr(t *catalog.TimeOfDay) *string {
	if t == nil {
		return nil
	}
	s := t.String()
	return &s
}

func toCourseDTO(c catalog.Course) courseDTO {
	return courseDTO{ID: c.ID, ExternalCourseID: c.ExternalID, Name: c.Name, Description: c.Description}
}

func toClassDTO(c catalog.Class) classDTO {
	return classDTO{
		ExternalID:           c.ExternalID,
		CourseExternalID:     c.CourseExternalID,
		Cancelled:            c.Cancelled(),
		Location:             c.Location,
		AvailableSeats:       c.AvailableSeats,
		EnrollmentDeadline:   c.EnrollmentDeadline.String(),
		CancellationDeadline: c.CancellationDeadline.String(),
		StartDate:            c.StartDate.String(),
		StartTime:            clockPtr(c.StartTime),
		EndDate:              c.EndDate.String(),
		EndTime:              clockPtr(c.EndTime),
		TimeZone:             c.TimeZone,
		Address: addressDTO{
			AddressLine1: c.Address.Line1, AddressLine2: c.Address.Line2, City: c.Address.City,
			ZipCode: c.Address.ZipCode, Country: c.Address.Country,
		},
		Price:                          priceDTO{Currency: c.Price.Currency, Amount: json.Number(c.Price.Amount())},
		SendScheduleInfoToParticipants: c.SendScheduleInfo,
	}
}
