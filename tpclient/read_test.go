package tpclient

import (
	"testing"
)

func TestReadClassToleratesEveryKnownQuirk(t *testing.T) {
	want := CourseClass{
		ExternalID: "W40", CourseExternalID: "BST", Location: "Oslo", AvailableSeats: 12,
		EnrollmentDeadline: "2030-09-20", CancellationDeadline: "2030-09-25",
		StartDate: "2030-10-01", StartTime: "09:00", EndDate: "2030-10-03", EndTime: "15:30",
		Address:  Address{AddressLine1: "Karl Johans gate 1", City: "Oslo", ZipCode: "0154", Country: "NO"},
		Price:    Price{Currency: "NOK", Amount: "12500.50"},
		TimeZone: "Europe/Oslo", Cancelled: true,
	}
	tests := []struct {
		name string
		body string
	}{
		{"JSON nested", `{"externalId":"W40","courseExternalId":"BST","cancelled":true,"location":"Oslo","availableSeats":12,
			"enrollmentDeadline":"2030-09-20","cancellationDeadline":"2030-09-25","startDate":"2030-10-01","startTime":"09:00",
			"endDate":"2030-10-03","endTime":"15:30","timeZone":"Europe/Oslo",
			"address":{"addressLine1":"Karl Johans gate 1","addressLine2":"","city":"Oslo","zipCode":"0154","country":"NO"},
			"price":{"currency":"NOK","amount":12500.50},"sendScheduleInfoToParticipants":true,"somethingNew":{"x":[1,2]}}`},
		{"JSON bare sub-fields, strings, misspelt deadline, other casing", `{"ExternalId":"W40","courseexternalid":"BST","cancelled":"true",
			"location":"Oslo","availableSeats":"12","erollmentDeadline":"2030-09-20","cancellationDeadline":"2030-09-25",
			"startDate":"2030-10-01","startTime":"09:00","endDate":"2030-10-03","endTime":"15:30","timeZone":"Europe/Oslo",
			"addressLine1":"Karl Johans gate 1","city":"Oslo","zipCode":"0154","country":"NO",
			"currency":"NOK","amount":"12500.50","sendScheduleInfoToParticipants":"TRUE"}`},
		{"JSON dotted keys", `{"externalId":"W40","courseExternalId":"BST","cancelled":1,"location":"Oslo","availableSeats":12.0,
			"enrollmentDeadline":"2030-09-20","cancellationDeadline":"2030-09-25","startDate":"2030-10-01","startTime":"09:00",
			"endDate":"2030-10-03","endTime":"15:30","timeZone":"Europe/Oslo","address.addressLine1":"Karl Johans gate 1",
			"address.city":"Oslo","address.zipCode":"0154","address.country":"NO","price.currency":"NOK","price.amount":"12500.50",
			"sendScheduleInfoToParticipants":true}`},
		{"XML", `<?xml version="1.0" encoding="UTF-8"?>
			<courseClass><externalId>W40</externalId><courseExternalId>BST</courseExternalId><cancelled>true</cancelled>
			<location>Oslo</location><availableSeats>12</availableSeats><enrollmentDeadline>2030-09-20</enrollmentDeadline>
			<cancellationDeadline>2030-09-25</cancellationDeadline><startDate>2030-10-01</startDate><startTime>09:00</startTime>
			<endDate>2030-10-03</endDate><endTime>15:30</endTime><timeZone>Europe/Oslo</timeZone>
			<address><addressLine1>Karl Johans gate 1</addressLine1><addressLine2></addressLine2><city>Oslo</city>
			<zipCode>0154</zipCode><country>NO</country></address><price><currency>NOK</currency><amount>12500.50</amount></price>
			<sendScheduleInfoToParticipants>true</sendScheduleInfoToParticipants><unknown><deep>1</deep></unknown></courseClass>`},
		{"XML bare sub-fields", `<courseClass><externalId>W40</externalId><courseExternalId>BST</courseExternalId><cancelled>true</cancelled>
			<location>Oslo</location><availableSeats>12</availableSeats><erollmentDeadline>2030-09-20</erollmentDeadline>
			<cancellationDeadline>2030-09-25</cancellationDeadline><startDate>2030-10-01</startDate><startTime>09:00</startTime>
			<endDate>2030-10-03</endDate><endTime>15:30</endTime><timeZone>Europe/Oslo</timeZone>
			<addressLine1>Karl Johans gate 1</addressLine1><city>Oslo</city><zipCode>0154</zipCode><country>NO</country>
			<currency>NOK</currency><amount>12500.50</amount><sendScheduleInfoToParticipants>true</sendScheduleInfoToParticipants></courseClass>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := readClass(n)
			if got.SendScheduleInfoToParticipants == nil || !*got.SendScheduleInfoToParticipants {
				t.Errorf("sendScheduleInfoToParticipants = %v, want true", got.SendScheduleInfoToParticipants)
			}
			got.SendScheduleInfoToParticipants = nil
			if got != want {
				t.Errorf("read\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestReadBookingToleratesBothSpellings(t *testing.T) {
	want := BookingInformation{
		BookingReference: "bdcac92e_a229", ProviderBookingReference: "PRV-1", ExternalCourseClassID: "W40",
		ExternalCourseID: "BST", FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "4790000000",
		BirthDate: "1969-01-03", Enroller: Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no", Phone: "4791111111"},
		Company: "Acme AS", EnrollmentStatus: "NEW", CommentOnEnrollment: "vegetarian", PurchaseOrderNumber: "PO-7",
	}
	tests := []struct{ name, body string }{
		{"documented table", `{"bookingReference":"bdcac92e_a229","providerBookingReference":"PRV-1","externalCourseClassId":"W40",
			"externalCourseId":"BST","firstName":"Kari","lastName":"Nordmann","email":"kari@example.no","phone":"4790000000",
			"birthDate":"1969-01-03","enroller":{"firstName":"Ola","lastName":"Hansen","email":"ola@example.no","phone":"4791111111"},
			"company":"Acme AS","enrollmentStatus":"NEW","commentOnEnrollment":"vegetarian","purchaseOrderNumber":"PO-7"}`},
		{"public example spelling", `{"bookingReference":"bdcac92e_a229","providerBookingReference":"PRV-1","externalCourseClassId":"W40",
			"externalCourseId":"BST","firstname":"Kari","lastname":"Nordmann","email":"kari@example.no","phone":4790000000,
			"birthDate":"1969-01-03","enroller":{" firstName":"Ola","lastName":"Hansen","email":"ola@example.no","phone":"4791111111"},
			"company":"Acme AS","enrollmentStatus":"NEW","commentOnEnrollment":"vegetarian","purchaseOrderNumber":"PO-7","new":null}`},
		{"XML", `<booking><bookingReference>bdcac92e_a229</bookingReference><providerBookingReference>PRV-1</providerBookingReference>
			<externalCourseClassId>W40</externalCourseClassId><externalCourseId>BST</externalCourseId><firstname>Kari</firstname>
			<lastName>Nordmann</lastName><email>kari@example.no</email><phone>4790000000</phone><birthDate>1969-01-03</birthDate>
			<enroller><firstName>Ola</firstName><lastName>Hansen</lastName><email>ola@example.no</email><phone>4791111111</phone></enroller>
			<company>Acme AS</company><enrollmentStatus>NEW</enrollmentStatus><commentOnEnrollment>vegetarian</commentOnEnrollment>
			<purchaseOrderNumber>PO-7</purchaseOrderNumber></booking>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := readBooking(n); got != want {
				t.Errorf("read\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestReadStatusMessage(t *testing.T) {
	tests := []struct {
		body             string
		successful, seen bool
		msg              string
	}{
		{`{"successful":true,"errorMessage":""}`, true, true, ""},
		{`{"sucessful":"true","errorMessage":""}`, true, true, ""},
		{`{"successful":true,"sucessful":true,"errorMessage":""}`, true, true, ""},
		{`{"sucessful":false,"errorMesssage":"Fully booked"}`, false, true, "Fully booked"},
		{`<statusMessage><successful>true</successful><errorMessage/></statusMessage>`, true, true, ""},
		{`<statusMessage><sucessful>FALSE</sucessful><errorMessage>no</errorMessage></statusMessage>`, false, true, "no"},
		{`{}`, false, false, ""},
	}
	for _, tt := range tests {
		n, err := parse([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		s := readStatus(n)
		if s.successful != tt.successful || s.present != tt.seen || s.errorMessage != tt.msg {
			t.Errorf("%s: read %+v", tt.body, s)
		}
	}
}

func TestItemsOfListAnswers(t *testing.T) {
	tests := []struct {
		body string
		ids  []string
	}{
		{`[]`, nil},
		{`[{"externalCourseId":"A"},{"externalCourseId":"B"}]`, []string{"A", "B"}},
		{`{"courses":[{"externalCourseId":"A"}]}`, []string{"A"}},
		{`<courses/>`, nil},
		{`<courses></courses>`, nil},
		{`<courses><course><externalCourseId>A</externalCourseId></course></courses>`, []string{"A"}},
		{`<courses><course><externalCourseId>A</externalCourseId></course><course><externalCourseId>B</externalCourseId></course></courses>`, []string{"A", "B"}},
	}
	for _, tt := range tests {
		n, err := parse([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		var ids []string
		for _, it := range n.items() {
			ids = append(ids, readCourse(it).ExternalCourseID)
		}
		if len(ids) != len(tt.ids) || (len(ids) > 0 && ids[0] != tt.ids[0]) || (len(ids) > 1 && ids[1] != tt.ids[1]) {
			t.Errorf("%s: items %v, want %v", tt.body, ids, tt.ids)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, body := range []string{``, `<html><body>Bad gateway`, `{"a":`, `nope`, `<a><b></a>`} {
		if _, err := parse([]byte(body)); err == nil {
			t.Errorf("parse(%q) succeeded", body)
		}
	}
}
