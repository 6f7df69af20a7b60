package tpclient

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// node is an answer read as a tree, the same for JSON and XML, so one tolerant reader
// serves both: an object (fields, keyed by lower-case name), a list, or a scalar
// (kept as the exact text the server sent).
type node struct {
	fields map[string][]*node
	list   []*node
	scalar string
	isNull bool
}

// maxDepth bounds nesting; the API's answers are at most three levels deep.
const maxDepth = 32

var errTooDeep = errors.New("answer nested too deeply")

// parse reads body as JSON or XML, whichever it is, whatever the Content-Type said.
func parse(body []byte) (*node, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return parseXML(trimmed)
	}
	return parseJSON(trimmed)
}

func parseJSON(body []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("answer is neither JSON nor XML: %w", err)
	}
	return fromJSON(v, 0)
}

func fromJSON(v any, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch v := v.(type) {
	case map[string]any:
		n := &node{fields: make(map[string][]*node, len(v))}
		for k, child := range v {
			c, err := fromJSON(child, depth+1)
			if err != nil {
				return nil, err
			}
			key := strings.ToLower(strings.TrimSpace(k))
			n.fields[key] = append(n.fields[key], c)
		}
		return n, nil
	case []any:
		n := &node{list: make([]*node, 0, len(v))}
		for _, child := range v {
			c, err := fromJSON(child, depth+1)
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, c)
		}
		return n, nil
	case json.Number:
		return &node{scalar: v.String()}, nil
	case string:
		return &node{scalar: v}, nil
	case bool:
		return &node{scalar: strconv.FormatBool(v)}, nil
	default: // null
		return &node{isNull: true}, nil
	}
}

// parseXML reads an XML document: an element with child elements is an object (its
// repeated children a list under one name), an element with text only a scalar.
func parseXML(body []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("answer has no XML element")
			}
			return nil, fmt.Errorf("answer is not XML: %w", err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			return readElement(dec, start, 0)
		}
	}
}

func readElement(dec *xml.Decoder, _ xml.StartElement, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	var text strings.Builder
	var fields map[string][]*node
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("answer is not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			child, err := readElement(dec, t, depth+1)
			if err != nil {
				return nil, err
			}
			if fields == nil {
				fields = map[string][]*node{}
			}
			key := strings.ToLower(t.Name.Local)
			fields[key] = append(fields[key], child)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if fields != nil {
				return &node{fields: fields}, nil
			}
			return &node{scalar: strings.TrimSpace(text.String())}, nil
		}
	}
}

// field returns the first of names present in n (any letter case), nil when none is.
func (n *node) field(names ...string) *node {
	if n == nil || n.fields == nil {
		return nil
	}
	for _, name := range names {
		if vs := n.fields[strings.ToLower(name)]; len(vs) > 0 {
			return vs[0]
		}
	}
	return nil
}

// str returns the scalar text of the first of names present, "" when none is.
func (n *node) str(names ...string) string {
	f := n.field(names...)
	if f == nil || f.isNull {
		return ""
	}
	return f.scalar
}

// boolean reads a flag written as true, "true", "TRUE", 1, "yes"; ok is false when
// no name is present.
func (n *node) boolean(names ...string) (value, ok bool) {
	f := n.field(names...)
	if f == nil || f.isNull || f.fields != nil || f.list != nil {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(f.scalar)) {
	case "true", "1", "yes", "y":
		return true, true
	}
	return false, true
}

// integer reads a whole number, written as a number or a string.
func (n *node) integer(names ...string) int {
	s := strings.TrimSpace(n.str(names...))
	if i, err := strconv.Atoi(s); err == nil {
		return i
	}
	// A whole number written as 12.0 or 1e1.
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) {
		return int(f)
	}
	return 0
}

// items returns the elements of a list answer: a JSON array, or an XML (or JSON)
// wrapper whose one kind of child repeats, such as <courses><course/>…</courses>.
func (n *node) items() []*node {
	if n == nil {
		return nil
	}
	if n.list != nil {
		return n.list
	}
	if len(n.fields) == 1 {
		for _, vs := range n.fields {
			if len(vs) == 1 && vs[0].list != nil {
				return vs[0].list // {"courses": [...]}
			}
			return vs
		}
	}
	return nil
}

// sub returns the nested object name, or n itself when the fields are bare, as the
// update page shows address and price fields without their prefix.
func (n *node) sub(name string) *node {
	if f := n.field(name); f != nil && f.fields != nil {
		return f
	}
	return n
}

func readCourse(n *node) Course {
	return Course{
		ID:               n.str("id", "courseId"),
		ExternalCourseID: n.str("externalCourseId", "externalId"),
		Name:             n.str("name"),
		Description:      n.str("description"),
	}
}

func readClass(n *node) CourseClass {
	address, price := n.sub("address"), n.sub("price")
	c := CourseClass{
		ExternalID:           n.str("externalId", "externalCourseClassId"),
		CourseExternalID:     n.str("courseExternalId", "externalCourseId"),
		Location:             n.str("location"),
		AvailableSeats:       n.integer("availableSeats"),
		EnrollmentDeadline:   n.str("enrollmentDeadline", "erollmentDeadline"),
		CancellationDeadline: n.str("cancellationDeadline"),
		StartDate:            n.str("startDate"),
		StartTime:            n.str("startTime"),
		EndDate:              n.str("endDate"),
		EndTime:              n.str("endTime"),
		TimeZone:             n.str("timeZone"),
		Address: Address{
			AddressLine1: address.str("addressLine1", "address.addressLine1"),
			AddressLine2: address.str("addressLine2", "address.addressLine2"),
			City:         address.str("city", "address.city"),
			ZipCode:      address.str("zipCode", "address.zipCode"),
			Country:      address.str("country", "address.country"),
		},
		Price: Price{
			Currency: price.str("currency", "price.currency"),
			Amount:   price.str("amount", "price.amount"),
		},
	}
	c.Cancelled, _ = n.boolean("cancelled")
	if v, ok := n.boolean("sendScheduleInfoToParticipants"); ok {
		c.SendScheduleInfoToParticipants = &v
	}
	return c
}

func readBooking(n *node) BookingInformation {
	enroller := n.field("enroller")
	return BookingInformation{
		BookingReference:         n.str("bookingReference", "trainingportalBookingReference"),
		ProviderBookingReference: n.str("providerBookingReference"),
		ExternalCourseClassID:    n.str("externalCourseClassId"),
		ExternalCourseID:         n.str("externalCourseId", "courseExternalId"),
		FirstName:                n.str("firstName"), // any case: also the example's "firstname"
		LastName:                 n.str("lastName"),
		Email:                    n.str("email"),
		Phone:                    n.str("phone"),
		BirthDate:                n.str("birthDate"),
		Enroller: Person{
			FirstName: enroller.str("firstName"),
			LastName:  enroller.str("lastName"),
			Email:     enroller.str("email"),
			Phone:     enroller.str("phone"),
		},
		Company:             n.str("company"),
		EnrollmentStatus:    n.str("enrollmentStatus"),
		CommentOnEnrollment: n.str("commentOnEnrollment"),
		PurchaseOrderNumber: n.str("purchaseOrderNumber"),
	}
}

// statusMessage is a status-message answer: successful (or the examples' sucessful)
// and errorMessage.
type statusMessage struct {
	successful   bool
	present      bool // a success flag was in the answer
	errorMessage string
	documentID   string
}

func readStatus(n *node) statusMessage {
	var s statusMessage
	s.successful, s.present = n.boolean("successful", "sucessful")
	s.errorMessage = n.str("errorMessage", "errorMesssage")
	s.documentID = n.str("documentId")
	return s
}
