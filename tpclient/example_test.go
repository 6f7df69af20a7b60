package tpclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/tportal/tportal/tpclient"
)

// examplePortal stands in for Trainingportal in the examples: a few canned answers in
// the portal's own shapes, served on loopback.
func examplePortal() *httptest.Server {
	mux := http.NewServeMux()
	const base = "/api/courseprovider/rest/v1/"
	checked := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.FormValue("username") != "acme" || r.FormValue("password") != "example-password" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"errorMessage":"wrong username or password"}`)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc(base+"courses/get", checked(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"id":1,"externalCourseId":"BST","name":"Basic Safety Training","description":"GWO BST"}]`)
	}))
	mux.HandleFunc(base+"courses/get/BST/courseClasses/add", checked(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("externalId") == "OSL-W39" {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"errorMessage":"externalId: a class OSL-W39 exists already"}`)
			return
		}
		fmt.Fprintf(w, `{"externalId":%q,"courseExternalId":"BST","cancelled":false,"location":%q,"availableSeats":%s,
			"startDate":%q,"endDate":%q,"price":{"currency":%q,"amount":%s},"timeZone":"Europe/Oslo"}`,
			r.FormValue("externalId"), r.FormValue("location"), r.FormValue("availableSeats"),
			r.FormValue("startDate"), r.FormValue("endDate"), r.FormValue("price.currency"), r.FormValue("price.amount"))
	}))
	mux.HandleFunc(base+"courses/get/BST/courseClasses/update", checked(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"externalId":%q,"courseExternalId":"BST","location":"Oslo","availableSeats":%s}`,
			r.FormValue("externalId"), r.FormValue("availableSeats"))
	}))
	pending := 1
	mux.HandleFunc(base+"booking/get/{ref}", checked(func(w http.ResponseWriter, r *http.Request) {
		if pending > 0 { // the portal's reserve call is still in flight
			pending--
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errorMessage":"booking is not available yet"}`)
			return
		}
		fmt.Fprintf(w, `{"bookingReference":"3f6c0b0e_9d7a","providerBookingReference":%q,"externalCourseClassId":"OSL-W40",
			"externalCourseId":"BST","firstname":"Kari","lastname":"Nordmann","email":"kari@example.no","phone":"4790000000",
			"enroller":{"firstName":"Ola","lastName":"Hansen"},"company":"Acme AS","enrollmentStatus":"NEW"}`, r.PathValue("ref"))
	}))
	mux.HandleFunc(base+"booking/update/{ref}", checked(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"successful":true,"sucessful":true,"errorMessage":""}`)
	}))
	return httptest.NewServer(mux)
}

func Example() {
	portal := examplePortal()
	defer portal.Close()

	// Against the public service: "https://www.trainingportal.no/mintra/api/courseprovider/rest/".
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}
	courses, err := c.Courses(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, course := range courses {
		fmt.Println(course.ExternalCourseID, course.Name)
	}
	// Output: BST Basic Safety Training
}

func ExampleClient_AddClass() {
	portal := examplePortal()
	defer portal.Close()
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}

	class, err := c.AddClass(context.Background(), "BST", tpclient.CourseClass{
		ExternalID: "OSL-W40", Location: "Oslo", AvailableSeats: 12,
		EnrollmentDeadline: "2027-05-01", CancellationDeadline: "2027-05-05",
		StartDate: "2027-05-10", StartTime: "09:00", EndDate: "2027-05-11", EndTime: "15:30",
		Address: tpclient.Address{AddressLine1: "Karl Johans gate 1", City: "Oslo", ZipCode: "0154", Country: "NO"},
		Price:   tpclient.Price{Currency: "NOK", Amount: "12500.00"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(class.ExternalID, class.AvailableSeats, class.Price.Amount, class.Price.Currency, class.TimeZone)
	// Output: OSL-W40 12 12500.00 NOK Europe/Oslo
}

func ExampleClient_UpdateClass() {
	portal := examplePortal()
	defer portal.Close()
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}

	// Only the fields that are set are sent: here the number of free seats.
	class, err := c.UpdateClass(context.Background(), "BST", tpclient.ClassUpdate{ExternalID: "OSL-W40", AvailableSeats: new(3)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(class.ExternalID, class.AvailableSeats)
	// Output: OSL-W40 3
}

// A provider confirms a reservation it has just answered. The portal may still be
// waiting for that answer and says so with 404 and Retry-After; the client waits and
// asks again.
func ExampleClient_BookingInformation() {
	portal := examplePortal()
	defer portal.Close()
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}

	b, err := c.BookingInformation(context.Background(), "PRV-1001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.ProviderBookingReference, b.ExternalCourseID, b.ExternalCourseClassID, b.FirstName, b.LastName, b.EnrollmentStatus)
	// Output: PRV-1001 BST OSL-W40 Kari Nordmann NEW
}

func ExampleClient_UpdateBookingStatus() {
	portal := examplePortal()
	defer portal.Close()
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}

	err = c.UpdateBookingStatus(context.Background(), "PRV-1001", tpclient.StatusCompleted, "2027-05-11")
	fmt.Println(err)
	// Output: <nil>
}

// Errors match the sentinel of their kind and carry the server's errorMessage.
func ExampleAPIError() {
	portal := examplePortal()
	defer portal.Close()
	c, err := tpclient.New(portal.URL+"/api/courseprovider/rest/", "acme", "example-password")
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.AddClass(context.Background(), "BST", tpclient.CourseClass{ExternalID: "OSL-W39"})
	var apiErr *tpclient.APIError
	if errors.Is(err, tpclient.ErrConflict) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	// Output: 409 externalId: a class OSL-W39 exists already
}

func ExampleWithRetries() {
	c, err := tpclient.New("https://www.trainingportal.no/mintra/api/courseprovider/rest/",
		os.Getenv("TP_USERNAME")+"example", "example-password",
		tpclient.WithRetries(5),
		tpclient.WithBackoff(500*time.Millisecond, time.Minute),
		tpclient.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		tpclient.WithXML(),
	)
	fmt.Println(c != nil, err)
	// Output: true <nil>
}
