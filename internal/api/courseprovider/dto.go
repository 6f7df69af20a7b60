package courseprovider

import (
	"encoding/xml"

	"github.com/tportal/tportal/internal/api/wire"
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

type classList struct {
	XMLName xml.Name     `xml:"courseClasses"`
	Classes []wire.Class `xml:"courseClass"`
}

func toCourseDTO(c catalog.Course) courseDTO {
	return courseDTO{ID: c.ID, ExternalCourseID: c.ExternalID, Name: c.Name, Description: c.Description}
}
