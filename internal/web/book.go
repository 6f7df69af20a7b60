package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// bookFields are the booking form's inputs, named as the /api/v1 request names them,
// so that the booking service's "field: problem" messages land next to their field.
var bookFields = []string{
	"student.firstName", "student.lastName", "student.email", "student.phone", "student.birthDate",
	"enroller.firstName", "enroller.lastName", "enroller.email", "enroller.phone",
	"commentOnEnrollment", "purchaseOrderNumber",
}

type bookData struct {
	Class   classView
	Company string
	Values  map[string]string
	Errors  map[string]string
	Problem string // the provider's refusal, or an error not about one field
	Key     string // the form's idempotency key: a double-click books once
}

// newFormKey returns a random key that makes one form's submission idempotent.
func newFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (p *Pages) classID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "there is no class %q", r.PathValue("id"))
	}
	return id, nil
}

// bookForm shows the booking form, the enroller's own details filled in.
func (p *Pages) bookForm(w http.ResponseWriter, r *http.Request, a account.Account) {
	data, ok := p.bookData(w, r, a)
	if !ok {
		return
	}
	data.Values = map[string]string{
		"enroller.firstName": a.FirstName, "enroller.lastName": a.LastName,
		"enroller.email": a.Email, "enroller.phone": a.Phone,
	}
	p.render(w, r, http.StatusOK, "book.html", "Book "+data.Class.CourseName, data)
}

// bookData loads what the form shows; ok is false when an error page was written.
func (p *Pages) bookData(w http.ResponseWriter, r *http.Request, a account.Account) (bookData, bool) {
	if a.Role != account.Enroller {
		p.fail(w, r, errs.E(errs.Forbidden, "only a company's enrollers book seats; staff accounts belong to no company"))
		return bookData{}, false
	}
	id, err := p.classID(r)
	if err != nil {
		p.fail(w, r, err)
		return bookData{}, false
	}
	_, view, err := p.class(r, id)
	if err != nil {
		p.fail(w, r, err)
		return bookData{}, false
	}
	c, err := p.cfg.Accounts.Company(r.Context(), a.CompanyID)
	if err != nil {
		p.fail(w, r, err)
		return bookData{}, false
	}
	return bookData{Class: view, Company: c.Name, Errors: map[string]string{}, Key: newFormKey()}, true
}

// book books through booking.Service.Book, the one booking path, and answers when the
// provider has: the confirmation, or the form again with the provider's message.
func (p *Pages) book(w http.ResponseWriter, r *http.Request, a account.Account) {
	data, ok := p.bookData(w, r, a)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return
	}
	data.Values = map[string]string{}
	for _, f := range bookFields {
		v := r.PostForm.Get(f)
		if problem := textProblem(f, v); problem != "" {
			data.Errors[f] = problem
		}
		data.Values[f] = v
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if len(key) != 32 {
		key = newFormKey()
	}
	if len(data.Errors) > 0 {
		data.Problem = "Please correct the marked fields."
		p.render(w, r, http.StatusBadRequest, "book.html", "Book "+data.Class.CourseName, data)
		return
	}
	v := data.Values
	req := booking.Request{
		ClassID:             data.Class.ID,
		Student:             booking.Person{FirstName: v["student.firstName"], LastName: v["student.lastName"], Email: v["student.email"], Phone: v["student.phone"]},
		StudentBirthDate:    v["student.birthDate"],
		Enroller:            booking.Person{FirstName: v["enroller.firstName"], LastName: v["enroller.lastName"], Email: v["enroller.email"], Phone: v["enroller.phone"]},
		Company:             data.Company,
		Comment:             v["commentOnEnrollment"],
		PurchaseOrderNumber: v["purchaseOrderNumber"],
		CompanyID:           a.CompanyID,
		// Scoped by account, as the API scopes keys by token.
		IdempotencyKey: "web:" + strconv.FormatInt(a.ID, 10) + ":" + key,
	}
	b, err := p.cfg.Bookings.Book(r.Context(), req)
	if err == nil {
		p.flash(r, "Booked. The provider has confirmed the seat.")
		http.Redirect(w, r, "/bookings/"+url.PathEscape(b.Reference), http.StatusSeeOther)
		return
	}
	if errs.CodeOf(err) == errs.Internal {
		p.fail(w, r, err)
		return
	}
	data.Errors, data.Problem = fieldErrors(err, bookFields)
	if data.Problem == "" {
		data.Problem = "Please correct the marked fields."
	}
	status := errs.HTTPStatus(err)
	if b.Reference == "" {
		data.Key = key // nothing was booked: the same submission may be repeated
	}
	p.render(w, r, status, "book.html", "Book "+data.Class.CourseName, data)
}

// textProblem applies the portal's text rule to a form field (line breaks are allowed
// in the comment).
func textProblem(field, v string) string {
	return catalog.TextProblem(v, field == "commentOnEnrollment")
}
