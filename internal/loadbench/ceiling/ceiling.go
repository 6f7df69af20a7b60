// Package ceiling is the load benchmark's yardstick: a bare net/http server with no
// database that does the work tportal's answers need and nothing else. It parses the
// same forms and JSON as tportal, re-encodes the same answer bodies from Go structs on
// every request (the same types tportal writes, so the same bytes) and, for a booking,
// makes the same reserve call to the same provider. It keeps its catalogue in memory.
//
// tportal's throughput as a share of this server's, measured in the same run, is the
// like-for-like ratio of docs/benchmarks.md: what storage, authentication, rules and
// logging cost on top of HTTP, parsing and encoding.
package ceiling

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tportal/tportal/internal/api/wire"
)

// base is the course-provider API's path, as tportal serves it.
const base = "/api/courseprovider/rest/v1/courses/get"

// Course is a course as the ceiling knows it: what getCourses and /api/v1/courses
// answer. The load benchmark gives the ceiling tportal's courses, ids included.
type Course struct {
	ID               int64  `json:"id"`
	ExternalCourseID string `json:"externalCourseId"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	ProviderName     string `json:"providerName"`
}

// courseDTO is getCourses' course: the JSON shape of tportal's courseprovider.courseDTO.
type courseDTO struct {
	ID               int64  `json:"id"`
	ExternalCourseID string `json:"externalCourseId"`
	Name             string `json:"name"`
	Description      string `json:"description"`
}

// classDTO is /api/v1/classes' class: the JSON shape of tportal's portal.classDTO.
type classDTO struct {
	ID       int64 `json:"id"`
	CourseID int64 `json:"courseId"`
	wire.Class
}

// class is a stored class with the portal's ids.
type class struct {
	id       int64
	courseID int64
	c        wire.Class
}

// Server is the ceiling's handler and its in-memory catalogue.
type Server struct {
	reserveURL string
	client     *http.Client

	mu      sync.Mutex
	courses []Course
	byExt   map[string]*courseState
	byID    map[int64]*class
	nextID  int64
}

type courseState struct {
	course  Course
	classes []*class // ordered by start date and time, then externalId, as tportal orders them
	byExt   map[string]*class
}

// New returns a ceiling whose bookings call reserveURL. Its HTTP client keeps enough
// idle connections for the benchmark's concurrency, as a well-tuned client would.
func New(reserveURL string) *Server {
	return &Server{
		reserveURL: reserveURL,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		}},
		byExt: map[string]*courseState{},
		byID:  map[int64]*class{},
	}
}

// Handler returns the ceiling's routes: the four course-provider methods the benchmark
// drives, /api/v1/classes and /api/v1/bookings, and POST /ceiling/courses, which sets
// the course list (the benchmark's setup, never measured).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ceiling/courses", s.setCourses)
	mux.HandleFunc("POST "+base, s.getCourses)
	mux.HandleFunc("POST "+base+"/{c}/courseClasses", s.getCourseClasses)
	mux.HandleFunc("POST "+base+"/{c}/courseClasses/add", s.addClass)
	mux.HandleFunc("POST "+base+"/{c}/courseClasses/update", s.updateClass)
	mux.HandleFunc("GET /api/v1/classes", s.classes)
	mux.HandleFunc("POST /api/v1/bookings", s.book)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

func (s *Server) setCourses(w http.ResponseWriter, r *http.Request) {
	var cs []Course
	if err := json.NewDecoder(r.Body).Decode(&cs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.courses = cs
	for _, c := range cs {
		if _, ok := s.byExt[c.ExternalCourseID]; !ok {
			s.byExt[c.ExternalCourseID] = &courseState{course: c, byExt: map[string]*class{}}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeJSON writes v as tportal does: json.Encoder, one trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"errorMessage": msg})
}

// form parses the request's form and checks that credentials were sent, as every
// course-provider method does (the ceiling compares nothing: tportal caches its
// password check, so a checked credential costs it a map lookup).
func form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if r.Form.Get("username") == "" || r.Form.Get("password") == "" {
		fail(w, http.StatusUnauthorized, "username and password are required")
		return nil, false
	}
	return r.Form, true
}

func (s *Server) getCourses(w http.ResponseWriter, r *http.Request) {
	if _, ok := form(w, r); !ok {
		return
	}
	s.mu.Lock()
	out := make([]courseDTO, 0, len(s.courses))
	for _, c := range s.courses {
		out = append(out, courseDTO{ID: c.ID, ExternalCourseID: c.ExternalCourseID, Name: c.Name, Description: c.Description})
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getCourseClasses(w http.ResponseWriter, r *http.Request) {
	if _, ok := form(w, r); !ok {
		return
	}
	s.mu.Lock()
	cs := s.byExt[r.PathValue("c")]
	var out []wire.Class
	if cs != nil {
		out = make([]wire.Class, 0, len(cs.classes))
		for _, c := range cs.classes {
			out = append(out, c.c)
		}
	}
	s.mu.Unlock()
	if cs == nil {
		fail(w, http.StatusNotFound, "no course "+strconv.Quote(r.PathValue("c")))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// classFields sets on c the class fields present in f, as addClass and updateClass
// read them.
func classFields(c *wire.Class, f url.Values) error {
	str := func(name string, dst *string) {
		if v, ok := f[name]; ok {
			*dst = strings.TrimSpace(v[0])
		}
	}
	clock := func(name string, dst **string) {
		if v, ok := f[name]; ok {
			t := strings.TrimSpace(v[0])
			*dst = &t
		}
	}
	str("externalId", &c.ExternalID)
	str("location", &c.Location)
	if v, ok := f["availableSeats"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil {
			return err
		}
		c.AvailableSeats = n
	}
	str("enrollmentDeadline", &c.EnrollmentDeadline)
	if v, ok := f["erollmentDeadline"]; ok {
		c.EnrollmentDeadline = strings.TrimSpace(v[0])
	}
	str("cancellationDeadline", &c.CancellationDeadline)
	str("startDate", &c.StartDate)
	clock("startTime", &c.StartTime)
	str("endDate", &c.EndDate)
	clock("endTime", &c.EndTime)
	str("timeZone", &c.TimeZone)
	str("address.addressLine1", &c.Address.AddressLine1)
	str("address.addressLine2", &c.Address.AddressLine2)
	str("address.city", &c.Address.City)
	str("address.zipCode", &c.Address.ZipCode)
	str("address.country", &c.Address.Country)
	str("price.currency", &c.Price.Currency)
	if v, ok := f["price.amount"]; ok {
		a := strings.Replace(strings.TrimSpace(v[0]), ",", ".", 1)
		if _, err := strconv.ParseFloat(a, 64); err != nil {
			return err
		}
		c.Price.Amount = json.Number(a)
	}
	if v, ok := f["sendScheduleInfoToParticipants"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v[0]))
		if err != nil {
			return err
		}
		c.SendScheduleInfoToParticipants = b
	}
	return nil
}

func (s *Server) addClass(w http.ResponseWriter, r *http.Request) {
	f, ok := form(w, r)
	if !ok {
		return
	}
	c := wire.Class{CourseExternalID: r.PathValue("c"), TimeZone: "Europe/Oslo", SendScheduleInfoToParticipants: true}
	if err := classFields(&c, f); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	cs := s.byExt[c.CourseExternalID]
	switch {
	case cs == nil:
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "no course "+strconv.Quote(c.CourseExternalID))
		return
	case cs.byExt[c.ExternalID] != nil:
		s.mu.Unlock()
		fail(w, http.StatusConflict, "class "+strconv.Quote(c.ExternalID)+" exists")
		return
	}
	s.nextID++
	stored := &class{id: s.nextID, courseID: cs.course.ID, c: c}
	cs.byExt[c.ExternalID] = stored
	s.byID[stored.id] = stored
	// Classes usually arrive in order (the benchmark's ids are zero-padded): append.
	if n := len(cs.classes); n == 0 || !classBefore(c, cs.classes[n-1].c) {
		cs.classes = append(cs.classes, stored)
	} else {
		i := sort.Search(n, func(i int) bool { return classBefore(c, cs.classes[i].c) })
		cs.classes = append(cs.classes, nil)
		copy(cs.classes[i+1:], cs.classes[i:])
		cs.classes[i] = stored
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, c)
}

// classBefore orders classes by start, then externalId (the ceiling's classes share
// one time zone, so the local start orders them as tportal's instants do).
func classBefore(a, b wire.Class) bool {
	as, bs := a.StartDate+" "+deref(a.StartTime), b.StartDate+" "+deref(b.StartTime)
	if as != bs {
		return as < bs
	}
	return a.ExternalID < b.ExternalID
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) updateClass(w http.ResponseWriter, r *http.Request) {
	f, ok := form(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var stored *class
	if cs := s.byExt[r.PathValue("c")]; cs != nil {
		stored = cs.byExt[f.Get("externalId")]
	}
	if stored == nil {
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "no class "+strconv.Quote(f.Get("externalId")))
		return
	}
	c := stored.c
	if err := classFields(&c, f); err != nil {
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	stored.c = c
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, c)
}

// bearer reports whether the request carries a bearer token, as /api/v1 requires.
func bearer(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != ""
}

func (s *Server) classes(w http.ResponseWriter, r *http.Request) {
	if !bearer(r) {
		fail(w, http.StatusUnauthorized, "an API token is required")
		return
	}
	q := r.URL.Query()
	var courseID int64
	if v := q.Get("course"); v != "" {
		var err error
		if courseID, err = strconv.ParseInt(v, 10, 64); err != nil {
			fail(w, http.StatusBadRequest, "course: not a course id")
			return
		}
	}
	s.mu.Lock()
	out := []classDTO{}
	for _, cs := range s.byExt {
		if courseID != 0 && cs.course.ID != courseID {
			continue
		}
		for _, c := range cs.classes {
			out = append(out, classDTO{ID: c.id, CourseID: c.courseID, Class: c.c})
		}
	}
	s.mu.Unlock()
	// tportal orders by start, then course, then externalId.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		as, bs := a.StartDate+" "+deref(a.StartTime), b.StartDate+" "+deref(b.StartTime)
		switch {
		case as != bs:
			return as < bs
		case a.CourseID != b.CourseID:
			return a.CourseID < b.CourseID
		}
		return a.ExternalID < b.ExternalID
	})
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeJSON(w, http.StatusOK, out)
}

// bookRequest is the body of POST /api/v1/bookings (tportal's portal.bookRequest).
type bookRequest struct {
	ClassID json.Number `json:"classId"`
	Student struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
		BirthDate string `json:"birthDate"`
	} `json:"student"`
	Enroller            person `json:"enroller"`
	Company             string `json:"company"`
	CommentOnEnrollment string `json:"commentOnEnrollment"`
	PurchaseOrderNumber string `json:"purchaseOrderNumber"`
}

type person struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type student struct {
	person
	BirthDate string `json:"birthDate"`
}

// bookingAnswer has the JSON shape of tportal's portal.bookingAnswer for a booking.
type bookingAnswer struct {
	BookingReference         string     `json:"bookingReference"`
	Status                   string     `json:"status"`
	ErrorMessage             string     `json:"errorMessage"`
	ClassID                  int64      `json:"classId"`
	ExternalCourseClassID    string     `json:"externalCourseClassId"`
	Student                  student    `json:"student"`
	Enroller                 person     `json:"enroller"`
	Company                  string     `json:"company"`
	CommentOnEnrollment      string     `json:"commentOnEnrollment"`
	PurchaseOrderNumber      string     `json:"purchaseOrderNumber"`
	EnrollmentStatus         string     `json:"enrollmentStatus"`
	ProviderBookingReference string     `json:"providerBookingReference"`
	CompletionDate           string     `json:"completionDate"`
	Message                  string     `json:"message"`
	CreatedAt                string     `json:"createdAt"`
	UpdatedAt                string     `json:"updatedAt"`
	Documents                []struct{} `json:"documents"`
}

// reserveAnswer is a provider's answer to a reserve call.
type reserveAnswer struct {
	Successful       bool   `json:"successful"`
	BookingReference string `json:"bookingReference"`
	ErrorMessage     string `json:"errorMessage"`
}

func newReference() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "_" + h[8:12] + "_" + h[12:16] + "_" + h[16:20] + "_" + h[20:32]
}

func (s *Server) book(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !bearer(r) {
		fail(w, http.StatusUnauthorized, "an API token is required")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	var in bookRequest
	if err := json.Unmarshal(body, &in); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := in.ClassID.Int64()
	if err != nil {
		fail(w, http.StatusBadRequest, "classId: not a number")
		return
	}
	s.mu.Lock()
	stored := s.byID[id]
	var c wire.Class
	if stored != nil {
		if stored.c.AvailableSeats > 0 {
			stored.c.AvailableSeats-- // the seat is taken before the call, as tportal does
		}
		c = stored.c
	}
	s.mu.Unlock()
	if stored == nil {
		fail(w, http.StatusNotFound, "no class with id "+strconv.FormatInt(id, 10))
		return
	}
	ref := newReference()
	created := time.Now().UTC().Format(time.RFC3339)
	q := url.Values{}
	for _, p := range [][2]string{
		{"externalCourseClassId", c.ExternalID}, {"externalCourseId", c.CourseExternalID},
		{"trainingportalBookingReference", ref},
		{"studentFirstName", in.Student.FirstName}, {"studentLastName", in.Student.LastName},
		{"studentEmailAddress", in.Student.Email}, {"studentPhoneNumber", in.Student.Phone},
		{"studentBirthDate", in.Student.BirthDate},
		{"enrollerFirstName", in.Enroller.FirstName}, {"enrollerLastName", in.Enroller.LastName},
		{"enrollerEmailAddress", in.Enroller.Email}, {"enrollerPhoneNumber", in.Enroller.Phone},
		{"company", in.Company},
	} {
		if p[1] != "" {
			q.Add(p[0], p[1])
		}
	}
	var ans reserveAnswer
	res, err := s.client.Get(s.reserveURL + "?" + q.Encode())
	if err == nil {
		err = json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&ans)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if err != nil || !ans.Successful {
		fail(w, http.StatusBadGateway, "the provider did not answer the reservation")
		return
	}
	out := bookingAnswer{
		BookingReference: ref, Status: "RESERVED", ClassID: id, ExternalCourseClassID: c.ExternalID,
		Student: student{person: person{in.Student.FirstName, in.Student.LastName, in.Student.Email, in.Student.Phone},
			BirthDate: in.Student.BirthDate},
		Enroller: in.Enroller, Company: in.Company, CommentOnEnrollment: in.CommentOnEnrollment,
		PurchaseOrderNumber: in.PurchaseOrderNumber, EnrollmentStatus: "NEW",
		ProviderBookingReference: ans.BookingReference, CreatedAt: created, UpdatedAt: time.Now().UTC().Format(time.RFC3339),
		Documents: []struct{}{},
	}
	w.Header().Set("Location", "/api/v1/bookings/"+ref)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeJSON(w, http.StatusCreated, out)
}
