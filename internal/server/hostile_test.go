package server_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the generated sections of docs/*.md from the tests' answers")

// cp is the course-provider API's catalogue base, shortened to CP in the table.
const cp = "/api/courseprovider/rest/v1/courses/get"

// hostile is one request of the "Hostile input" table and what it must answer.
type hostile struct {
	name        string // what is sent, in words
	method      string // GET when empty
	path        string // {ref}, {classId} and {doc} stand for the fixture's booking, class and document
	query       string // raw; on the course-provider API acme's credentials are added unless it sends its own
	body        string
	contentType string
	header      map[string]string
	status      int
	want        string // a part of the answer's errorMessage (or of its body, for a success)
	show        string // for a success: the JSON field, or "header:Name", to show in the table
	changes     bool   // a success that changes data; every other request must change nothing
}

var form = "application/x-www-form-urlencoded"

// classBody is a complete addClass form for class id.
func classBody(id string) string {
	return "externalId=" + id + "&location=Oslo&availableSeats=12&enrollmentDeadline=2026-09-20&cancellationDeadline=2026-09-25" +
		"&startDate=2026-10-01&endDate=2026-10-03&address.addressLine1=Storgata+1&address.city=Oslo&address.zipCode=0154" +
		"&address.country=NO&price.currency=NOK&price.amount=1250"
}

func multipartBody(parts ...string) string {
	return strings.Join(parts, "") + "--XB--\r\n"
}

func textPart(name, header, value string) string {
	return "--XB\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n" + header + "\r\n" + value + "\r\n"
}

func filePart(fileName, content string) string {
	return "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName + "\"\r\nContent-Type: application/pdf\r\n\r\n" + content + "\r\n"
}

const pdf = "%PDF-1.4\n%%EOF\n"

var multipartType = "multipart/form-data; boundary=XB"

// hostileCases are the table in docs/operations.md, in its order.
var hostileCases = []hostile{
	// Text: invalid UTF-8, NUL and control characters.
	{name: "NUL in the username", method: "POST", path: cp, query: "username=x%00&password=y", status: 401, want: "wrong username or password"},
	{name: "invalid UTF-8 in the username", method: "POST", path: cp, query: "username=%FFacme&password=y", status: 401, want: "wrong username or password"},
	{name: "NUL in an HTTP Basic username", path: cp, header: map[string]string{"Authorization": "Basic eAB5OnBhc3N3b3Jk"}, status: 401, want: "wrong username or password"},
	{name: "invalid UTF-8 in a form value", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Os%FF%FElo", contentType: form, status: 400, want: "location: is not valid UTF-8"},
	{name: "NUL in a form value", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Os%00lo", contentType: form, status: 400, want: "location: contains a NUL byte"},
	{name: "NUL in a query parameter", path: cp + "/BST/courseClasses/update", query: "externalId=W40&availableSeats=3%00", status: 400, want: "availableSeats: contains a NUL byte"},
	{name: "NUL in a parameter name", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&loc%00ation=Oslo", contentType: form, status: 400, want: `parameter name "loc\x00ation"`},
	{name: "tab in a one-line field", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Os%09lo", contentType: form, status: 400, want: "location: contains a control character (U+0009"},
	{name: "escape character in a field", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&address.city=%1B%5B31mOslo", contentType: form, status: 400, want: "address.city: contains a control character (U+001B"},
	{name: "DEL in a field", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&address.zipCode=01%7F54", contentType: form, status: 400, want: "U+007F"},
	{name: "C1 control (U+0085) in a field", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Os%C2%85lo", contentType: form, status: 400, want: "U+0085"},
	{name: "NUL in the time zone", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&timeZone=Europe%2FOslo%00", contentType: form, status: 400, want: "timeZone: contains a NUL byte"},
	{name: "line break in an address line (free text)", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&address.addressLine2=Bygg+B%0D%0A3.+etasje", contentType: form, status: 200, show: "address", changes: true},
	{name: "NUL in a course id in the path", path: cp + "/CP%00/courseClasses", status: 400, want: "externalCourseId: contains a NUL byte"},
	{name: "invalid UTF-8 in a course id in the path", path: cp + "/BST%FF/courseClasses", status: 400, want: "externalCourseId: is not valid UTF-8"},
	{name: "NUL in a class id in the path", method: "POST", path: cp + "/BST/courseClasses/cancel/T011%00", status: 400, want: "externalCourseClassId: contains a NUL byte"},
	{name: "invalid UTF-8 in a booking reference", path: "/api/courseprovider/rest/v1/booking/get/%FF", status: 400, want: "bookingReference: is not valid UTF-8"},
	{name: "NUL in a booking reference", method: "POST", path: "/api/courseprovider/rest/v1/booking/update/{ref}%00", query: "newStatus=NO_SHOW", status: 400, want: "bookingReference: contains a NUL byte"},
	{name: "NUL in newStatus", method: "POST", path: "/api/courseprovider/rest/v1/booking/update/{ref}", body: "newStatus=NO_SHOW%00", contentType: form, status: 400, want: "newStatus: contains a NUL byte"},

	// Charsets.
	{name: "Latin-1 form (charset=ISO-8859-1)", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Troms%F8", contentType: form + "; charset=ISO-8859-1", status: 200, show: "location", changes: true},
	{name: "Latin-1 form (charset=latin1)", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=%C5lesund", contentType: form + "; charset=latin1", status: 200, show: "location", changes: true},
	{name: "windows-1252 form with a euro sign", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&address.addressLine2=%80+included", contentType: form + "; charset=windows-1252", status: 200, show: "address", changes: true},
	{name: "UTF-8 form declared as such", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Troms%C3%B8", contentType: form + "; charset=UTF-8", status: 200, show: "location", changes: true},
	{name: "Latin-1 bytes without a declared charset", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Troms%F8", contentType: form, status: 400, want: "location: is not valid UTF-8 text"},
	{name: "an unknown charset", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=Oslo", contentType: form + "; charset=x-klingon", status: 400, want: `charset "x-klingon" is not known`},
	{name: "multipart text part in ISO-8859-1", method: "POST", path: cp + "/BST/courseClasses/update", body: multipartBody(textPart("externalId", "", "W40"), textPart("location", "Content-Type: text/plain; charset=ISO-8859-1\r\n", "Bod\xf8")), contentType: multipartType, status: 200, show: "location", changes: true},
	{name: "multipart text part with invalid UTF-8", method: "POST", path: cp + "/BST/courseClasses/update", body: multipartBody(textPart("externalId", "", "W40"), textPart("location", "", "Bod\xf8")), contentType: multipartType, status: 400, want: "location: is not valid UTF-8"},

	// Lengths count characters.
	{name: "251 × å in location (502 bytes)", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=" + strings.Repeat("%C3%A5", 251), contentType: form, status: 200, want: strings.Repeat("å", 251), changes: true},
	{name: "501 × å in location", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=" + strings.Repeat("%C3%A5", 501), contentType: form, status: 400, want: "location: is 501 characters long; the limit is 500"},
	{name: "a body over the limit", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=" + strings.Repeat("x", 1<<20), contentType: form, status: 413, want: "larger than the limit of 1048576 bytes"},

	// HEAD never changes data.
	{name: "HEAD on cancelClass", method: "HEAD", path: cp + "/BST/courseClasses/cancel/T011", status: 405, show: "header:Allow"},
	{name: "HEAD on addClass", method: "HEAD", path: cp + "/BST/courseClasses/add", query: classBody("H1"), status: 405, show: "header:Allow"},
	{name: "HEAD on updateClass", method: "HEAD", path: cp + "/BST/courseClasses/update", query: "externalId=W40&availableSeats=0", status: 405, show: "header:Allow"},
	{name: "HEAD on restoreClass", method: "HEAD", path: cp + "/BST/courseClasses/restore/T011", status: 405, show: "header:Allow"},
	{name: "HEAD on updateBookingStatus", method: "HEAD", path: "/api/courseprovider/rest/v1/booking/update/{ref}", query: "newStatus=NO_SHOW", status: 405, show: "header:Allow"},
	{name: "HEAD on uploadDocumentation", method: "HEAD", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", query: "fileName=a.pdf&content=JVBERi0xLjQK", status: 405, show: "header:Allow"},
	{name: "HEAD on getCourseClasses", method: "HEAD", path: cp + "/BST/courseClasses", status: 200, show: "header:Content-Type"},
	{name: "HEAD on getBookingInformation", method: "HEAD", path: "/api/courseprovider/rest/v1/booking/get/{ref}", status: 200, show: "header:Content-Type"},
	{name: "HEAD on a portal booking", method: "HEAD", path: "/api/v1/bookings/{ref}", status: 200, show: "header:Cache-Control"},
	{name: "HEAD on a portal cancel", method: "HEAD", path: "/api/v1/bookings/{ref}/cancel", status: 405, show: "header:Allow"},
	{name: "DELETE on a course-provider method", method: "DELETE", path: cp + "/BST/courseClasses/cancel/T011", status: 405, want: "use GET or POST"},

	// Upload file names.
	{name: "file name of 256 characters", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: multipartBody(filePart(strings.Repeat("n", 252)+".pdf", pdf)), contentType: multipartType, status: 400, want: "fileName: is 256 characters long; the limit is 255"},
	{name: "control character in a file name", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: "fileName=cert%07.pdf&content=JVBERi0xLjQK", contentType: form, status: 400, want: "fileName: contains a control character (U+0007"},
	{name: "C1 control in a multipart fileName field", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: multipartBody(filePart("cert.pdf", pdf), textPart("fileName", "", "cert\u0085.pdf")), contentType: multipartType, status: 400, want: "fileName: contains a control character (U+0085"},
	{name: "escape character in a multipart file name", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: multipartBody(filePart("cert\x1b.pdf", pdf)), contentType: multipartType, status: 400, want: "the multipart body is malformed"},
	{name: "NUL in a multipart file name", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: multipartBody(filePart("cert\x00.pdf", pdf)), contentType: multipartType, status: 400, want: "the multipart body is malformed"},
	{name: "base64 content wrapped on several lines", method: "POST", path: "/api/courseprovider/rest/v1/booking/uploadDocumentation/{ref}", body: "fileName=cert.pdf&content=JVBERi0x%0D%0ALjQK", contentType: form, status: 200, show: "successful", changes: true},
	{name: "download echoes a non-ASCII file name safely", path: "/api/v1/bookings/{ref}/documents/{doc}", status: 200, show: "header:Content-Disposition"},

	// Dates.
	{name: "class on 0000-01-01", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&startDate=0000-01-01&enrollmentDeadline=0000-01-01&cancellationDeadline=0000-01-01", contentType: form, status: 400, want: "startDate: 0000-01-01 is before 2000-01-01"},
	{name: "class on 1999-12-31", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&startDate=1999-12-31&enrollmentDeadline=1999-12-01&cancellationDeadline=1999-12-01", contentType: form, status: 400, want: "startDate: 1999-12-31 is before 2000-01-01"},
	{name: "class more than 10 years ahead", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&endDate=2999-01-01", contentType: form, status: 400, want: "endDate: 2999-01-01 is more than 10 years ahead"},
	{name: "completion on 0001-01-01", method: "POST", path: "/api/courseprovider/rest/v1/booking/update/{ref}", body: "newStatus=COMPLETED&completionDate=0001-01-01", contentType: form, status: 400, want: "completionDate: 0001-01-01 is before 1900-01-01"},
	{name: "class list from 0001-01-01", path: "/api/v1/classes", query: "from=0001-01-01", status: 400, want: "from: 0001-01-01 is before 1900-01-01"},
	{name: "a date that does not exist", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&startDate=2026-02-30", contentType: form, status: 400, want: `startDate: "2026-02-30" is not a date`},

	// Bodies and messages.
	{name: "JSON body, nested address and price", method: "POST", path: cp + "/BST/courseClasses/add", body: `{"externalId": "J1", "location": "Bergen", "availableSeats": 5, "enrollmentDeadline": "2026-09-20", "cancellationDeadline": "2026-09-25", "startDate": "2026-10-01", "endDate": "2026-10-01", "address": {"addressLine1": "Bryggen 1", "city": "Bergen", "zipCode": "5003", "country": "NO"}, "price": {"currency": "NOK", "amount": 990.5}}`, contentType: "application/json", status: 200, show: "price", changes: true},
	{name: "JSON body, flat dotted names", method: "POST", path: cp + "/BST/courseClasses/update", body: `{"externalId": "J1", "address.city": "Os", "price.amount": "100,00"}`, contentType: "application/json", status: 200, show: "price", changes: true},
	{name: "JSON object sent as a urlencoded form (curl -d)", method: "POST", path: cp + "/BST/courseClasses/update", query: "-", body: `{"username": "acme", "password": "wrong password", "externalId": "W40"}`, contentType: form, status: 401, want: "wrong username or password"},
	{name: "JSON body with credentials", method: "POST", path: cp, query: "-", body: `{"username": "acme", "password": "wrong password"}`, contentType: "application/json", status: 401, want: "wrong username or password"},
	{name: "JSON array body", method: "POST", path: cp + "/BST/courseClasses/update", body: `[{"externalId": "W40"}]`, contentType: "application/json", status: 400, want: "must be one JSON object of parameters"},
	{name: "JSON body with an array field", method: "POST", path: cp + "/BST/courseClasses/update", body: `{"externalId": ["W40"]}`, contentType: "application/json", status: 400, want: "externalId: must be a string, number, boolean or object, not an array"},
	{name: "JSON body with invalid UTF-8", method: "POST", path: cp + "/BST/courseClasses/update", body: "{\"externalId\": \"W40\", \"location\": \"Os\xfflo\"}", contentType: "application/json", status: 400, want: "the JSON body is not valid UTF-8"},
	{name: "JSON body with an escaped NUL", method: "POST", path: cp + "/BST/courseClasses/update", body: `{"externalId": "W40", "location": "Os\u0000lo"}`, contentType: "application/json", status: 400, want: "location: contains a NUL byte"},
	{name: "multipart body without its closing boundary", method: "POST", path: cp + "/BST/courseClasses/update", body: "--XB\r\nContent-Disposition: form-data; name=\"externalId\"\r\n\r\nW40", contentType: multipartType, status: 400, want: "the multipart body is malformed"},
	{name: "multipart body with no part", method: "POST", path: cp + "/BST/courseClasses/update", body: "\r\n", contentType: multipartType, status: 400, want: "the multipart body is malformed"},
	{name: "multipart body of garbage", method: "POST", path: cp + "/BST/courseClasses/update", body: "garbage", contentType: multipartType, status: 400, want: "the multipart body is malformed"},
	{name: "multipart without a boundary", method: "POST", path: cp + "/BST/courseClasses/update", body: "x", contentType: "multipart/form-data", status: 400, want: "needs a boundary parameter"},
	{name: "malformed Content-Type", method: "POST", path: cp + "/BST/courseClasses/update", body: "x", contentType: "text/plain; ===", status: 400, want: "Content-Type:"},
	{name: "malformed %-escape in the query", path: cp, query: "username=acme&x=%zz", status: 400, want: "the query string is malformed"},
	{name: "malformed %-escape in the form", method: "POST", path: cp + "/BST/courseClasses/update", body: "externalId=W40&location=%zz", contentType: form, status: 400, want: "the form body is malformed"},
	{name: "classId as a JSON object", method: "POST", path: "/api/v1/bookings", body: `{"classId": {"classId": 1}}`, contentType: "application/json", status: 400, want: `classId: must be a number or a string of digits`},
	{name: "classId 0", method: "POST", path: "/api/v1/bookings", body: `{"classId": 0}`, contentType: "application/json", status: 400, want: "classId: must be a positive number (the class's id), not 0"},
	{name: "classId -3", method: "POST", path: "/api/v1/bookings", body: `{"classId": "-3"}`, contentType: "application/json", status: 400, want: "classId: must be a positive number"},
	{name: "classId as a digit string", method: "POST", path: "/api/v1/bookings", body: `{"classId": "999999", "student": {"firstName": "Per", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}}`, contentType: "application/json", status: 404, want: "999999"},
	{name: "classId 1.5", method: "POST", path: "/api/v1/bookings", body: `{"classId": 1.5}`, contentType: "application/json", status: 400, want: "classId: must be a number or a string of digits"},

	// The portal API.
	{name: "escaped NUL in a JSON string", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}, "company": "A\u0000S"}`, contentType: "application/json", status: 400, want: "company: contains a NUL byte"},
	{name: "line break in a name", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per\nOla", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}}`, contentType: "application/json", status: 400, want: "student.firstName: contains a control character (U+000A"},
	{name: "NUL in a JSON field name", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "x\u0000": 1}`, contentType: "application/json", status: 400, want: `field name "x\x00"`},
	{name: "raw DEL in a JSON string", method: "POST", path: "/api/v1/bookings", body: "{\"classId\": {classId}, \"student\": {\"firstName\": \"Per\x7f\", \"lastName\": \"Berg\"}, \"enroller\": {\"email\": \"per@example.no\"}}", contentType: "application/json", status: 400, want: "student.firstName: contains a control character (U+007F"},
	{name: "raw C1 control in a JSON string", method: "POST", path: "/api/v1/bookings", body: "{\"classId\": {classId}, \"student\": {\"firstName\": \"Per\", \"lastName\": \"Berg\"}, \"enroller\": {\"email\": \"per@example.no\"}, \"company\": \"A\u0085S\"}", contentType: "application/json", status: 400, want: "company: contains a control character (U+0085"},
	{name: "invalid UTF-8 in a JSON body", method: "POST", path: "/api/v1/bookings", body: "{\"classId\": 1, \"company\": \"A\xffS\"}", contentType: "application/json", status: 400, want: "not valid UTF-8"},
	{name: "invalid UTF-8 in Idempotency-Key", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}}`, contentType: "application/json", header: map[string]string{"Idempotency-Key": "k\xffk"}, status: 400, want: "Idempotency-Key: is not valid UTF-8"},
	{name: "Idempotency-Key of 256 × å", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}}`, contentType: "application/json", header: map[string]string{"Idempotency-Key": strings.Repeat("å", 256)}, status: 400, want: "Idempotency-Key: is 256 characters long; the limit is 255"},
	{name: "birth date 0001-01-01", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per", "lastName": "Berg", "birthDate": "0001-01-01"}, "enroller": {"email": "per@example.no"}}`, contentType: "application/json", status: 400, want: "student.birthDate: 0001-01-01 is before 1900-01-01"},
	{name: "comment of 2001 × å", method: "POST", path: "/api/v1/bookings", body: `{"classId": {classId}, "student": {"firstName": "Per", "lastName": "Berg"}, "enroller": {"email": "per@example.no"}, "commentOnEnrollment": "` + strings.Repeat("å", 2001) + `"}`, contentType: "application/json", status: 400, want: "commentOnEnrollment: is 2001 characters long; the limit is 2000"},
	{name: "invalid UTF-8 in a booking reference", path: "/api/v1/bookings/%FF", status: 400, want: "bookingReference: is not valid UTF-8"},
	{name: "NUL in a booking reference to cancel", method: "POST", path: "/api/v1/bookings/%00/cancel", status: 400, want: "bookingReference: contains a NUL byte"},
	{name: "NUL in a document id", path: "/api/v1/bookings/{ref}/documents/1%00", status: 400, want: "document id: contains a NUL byte"},
	{name: "invalid UTF-8 in a class filter", path: "/api/v1/classes", query: "location=Os%FFlo", status: 400, want: "location: is not valid UTF-8"},
	{name: "NUL in a booking list filter", path: "/api/v1/bookings", query: "state=RESERVED%00", status: 400, want: "state: contains a NUL byte"},
	{name: "invalid UTF-8 in a booking list cursor", path: "/api/v1/bookings", query: "cursor=%FF", status: 400, want: "cursor: is not valid UTF-8"},
	{name: "HEAD on the booking list", method: "HEAD", path: "/api/v1/bookings", query: "state=RESERVED", status: 200, show: "header:Content-Type"},
	{name: "JSON array as a booking", method: "POST", path: "/api/v1/bookings", body: `[1]`, contentType: "application/json", status: 400, want: "must be a JSON object"},

	// Paths.
	{name: "the public base path", path: "/mintra/api/courseprovider/rest/v1/courses/get", status: 200, want: `"externalCourseId":"BST"`},
	{name: "a doubled slash on POST", method: "POST", path: "/api/courseprovider/rest/v1//courses/get", status: 200, want: `"externalCourseId":"BST"`},
	{name: "a doubled slash on the portal API", path: "/api/v1//bookings/{ref}", status: 200, want: `"status":"RESERVED"`},
	{name: "a dot-dot segment", path: "/api/v1/courses/../bookings/{ref}", status: 200, want: `"status":"RESERVED"`},
	{name: "the base path without its slash", path: "/mintra/api/courseprovider/rest", status: 404, want: "no API method"},
}

// row is a case's line in the table, from the request sent and the answer received.
func (h hostile) row(f *fixture, rec *httptest.ResponseRecorder) string {
	req := h.method
	if req == "" {
		req = "GET"
	}
	target := h.path
	if strings.HasPrefix(target, cp) {
		target = "CP" + strings.TrimPrefix(target, cp)
	}
	if h.query != "" && h.query != "-" {
		target += "?" + h.query
	}
	req += " " + target
	var extras []string
	if h.contentType != "" {
		extras = append(extras, "Content-Type: "+h.contentType)
	}
	for k, v := range h.header {
		extras = append(extras, k+": "+v)
	}
	if h.body != "" {
		extras = append(extras, "body "+h.body)
	}
	if len(extras) > 0 {
		req += " — " + strings.Join(extras, "; ")
	}
	answer := strconv.Itoa(rec.Code)
	var obj map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &obj)
	switch msg, _ := obj["errorMessage"].(string); {
	case msg != "":
		answer += " " + msg
	case strings.HasPrefix(h.show, "header:"):
		name := strings.TrimPrefix(h.show, "header:")
		answer += " " + name + ": " + rec.Header().Get(name)
	case h.show != "":
		v, _ := json.Marshal(obj[h.show])
		answer += " " + h.show + ": " + string(v)
	case h.want != "":
		answer += " …" + h.want + "…"
	}
	// The answers' only dates that depend on the day the test runs.
	answer = strings.NewReplacer(f.ref, "{ref}", time.Now().AddDate(10, 0, 0).Format("2006-01-02"), "{today + 10 years}").Replace(answer)
	return "| " + cell(h.name, 0) + " | `" + code(req) + "` | " + cell(answer, 0) + " |"
}

// cell makes s safe in a Markdown table cell: control characters and invalid bytes
// escaped as Go writes them, no pipes, and at most max characters (0: no limit).
func cell(s string, max int) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		case r == '|':
			b.WriteString(`\|`)
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if r := []rune(out); max > 0 && len(r) > max {
		out = string(r[:max-10]) + "…(" + strconv.Itoa(len(r)) + " characters)"
	}
	return out
}

func code(s string) string { return strings.ReplaceAll(cell(s, 160), "`", "'") }

// send sends the case's request to the fixture.
func (h hostile) send(f *fixture) *httptest.ResponseRecorder {
	fill := strings.NewReplacer("{ref}", f.ref, "{classId}", strconv.FormatInt(f.classID, 10), "{doc}", strconv.FormatInt(f.docID, 10))
	method := h.method
	if method == "" {
		method = "GET"
	}
	target := fill.Replace(h.path)
	query := h.query
	isCP := strings.Contains(h.path, "/courseprovider/")
	if isCP && query != "-" && !strings.Contains(query, "username=") && h.header["Authorization"] == "" {
		if query != "" {
			query = f.creds.Encode() + "&" + query
		} else {
			query = f.creds.Encode()
		}
	}
	if query != "" && query != "-" {
		target += "?" + query
	}
	req := httptest.NewRequest(method, target, strings.NewReader(fill.Replace(h.body)))
	if h.contentType != "" {
		req.Header.Set("Content-Type", h.contentType)
	}
	if !isCP {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	for k, v := range h.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// TestHostileInput sends every case of the table to the whole portal on each database:
// each gets its status and message, never a 5xx; a refused request changes nothing;
// the answers are the same on both databases; and the "Hostile input" section of
// docs/operations.md is the table of these answers (go test -run TestHostileInput
// ./internal/server/ -update rewrites it).
func TestHostileInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		rows := []string{"| case | request | answer |", "|---|---|---|"}
		for _, h := range hostileCases {
			before := f.fingerprint(t)
			rec := h.send(f)
			var obj map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &obj)
			msg, _ := obj["errorMessage"].(string)
			if rec.Code != h.status || (h.want != "" && !strings.Contains(msg, h.want) && !strings.Contains(rec.Body.String(), h.want)) {
				t.Errorf("%s: %d %s, want %d with %q", h.name, rec.Code, truncate(rec.Body.String()), h.status, h.want)
			}
			if rec.Code >= 500 {
				t.Errorf("%s: answered %d", h.name, rec.Code)
			}
			if !h.changes && f.fingerprint(t) != before {
				t.Errorf("%s: answered %d but changed the data", h.name, rec.Code)
			}
			rows = append(rows, h.row(f, rec))
		}
		table := strings.Join(rows, "\n") + "\n"
		checkGenerated(t, "../../docs/operations.md", "hostile-input", table, dialect == "sqlite" && *update)
	})
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// checkGenerated compares the section of the doc between the markers
// <!-- name:begin --> and <!-- name:end --> with content, or rewrites it.
func checkGenerated(t *testing.T, doc, name, content string, rewrite bool) {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin (generated by the tests; do not edit) -->\n", "<!-- "+name+":end -->"
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q", doc, strings.TrimSpace(begin), end)
	}
	current := text[i+len(begin) : j]
	if current == content {
		return
	}
	if !rewrite {
		t.Errorf("the %s section of %s is out of date; run go test ./internal/server/ -run %s -update\n%s", name, doc, strings.Split(t.Name(), "/")[0], firstDifference(current, content))
		return
	}
	if err := os.WriteFile(doc, []byte(text[:i+len(begin)]+content+text[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n doc:  %s\n test: %s", i+1, x, y)
		}
	}
	return ""
}
