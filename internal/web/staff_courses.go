package web

import (
	"net/http"
	"strconv"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// courseFields are the course form's inputs, named as catalog.Service names them in
// its "field: problem" messages.
var courseFields = []string{"name", "external-id", "description", "provider"}

// courseRow is a course as the list shows it.
type courseRow struct {
	catalog.Course
	Provider catalog.Provider
}

// staffCourses lists the courses with their providers.
func (p *Pages) staffCourses(w http.ResponseWriter, r *http.Request, _ account.Account) {
	courses, err := p.cfg.Catalog.AllCourses(r.Context(), "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	providers, err := p.providersByID(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rows := make([]courseRow, len(courses))
	for i, c := range courses {
		rows[i] = courseRow{Course: c, Provider: providers[c.ProviderID]}
	}
	p.render(w, r, http.StatusOK, "staff_courses.html", "Courses", rows)
}

func (p *Pages) providersByID(r *http.Request) (map[int64]catalog.Provider, error) {
	providers, err := p.cfg.Catalog.Providers(r.Context())
	if err != nil {
		return nil, err
	}
	m := make(map[int64]catalog.Provider, len(providers))
	for _, pr := range providers {
		m[pr.ID] = pr
	}
	return m, nil
}

// courseForm is the data of the new-course and edit-course forms.
type courseForm struct {
	Course    *catalog.Course // nil for a new course
	Providers []catalog.Provider
	Values    map[string]string
	Errors    map[string]string
	Problem   string
}

// renderCourseForm shows the course form with its status.
func (p *Pages) renderCourseForm(w http.ResponseWriter, r *http.Request, status int, f courseForm) {
	providers, err := p.cfg.Catalog.Providers(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f.Providers = providers
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	title := "New course"
	if f.Course != nil {
		title = f.Course.Name
	}
	p.render(w, r, status, "staff_courses_form.html", title, f)
}

// staffCourseNew shows the form for a new course; ?provider= preselects one.
func (p *Pages) staffCourseNew(w http.ResponseWriter, r *http.Request, _ account.Account) {
	p.renderCourseForm(w, r, http.StatusOK, courseForm{Values: map[string]string{"provider": r.URL.Query().Get("provider")}})
}

// staffCourseCreate adds a course assigned to a provider.
func (p *Pages) staffCourseCreate(w http.ResponseWriter, r *http.Request, _ account.Account) {
	v, ok := p.readForm(w, r, courseFields)
	if !ok {
		return
	}
	if v["provider"] == "" {
		p.renderCourseForm(w, r, http.StatusBadRequest, courseForm{Values: v,
			Errors: map[string]string{"provider": "choose the provider that runs the course"}, Problem: "Please correct the marked fields."})
		return
	}
	c, err := p.cfg.Catalog.AddCourse(r.Context(), v["provider"], catalog.Course{Name: v["name"], ExternalID: v["external-id"], Description: v["description"]})
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			p.fail(w, r, err)
			return
		}
		conflict := "external-id"
		if errs.CodeOf(err) == errs.NotFound {
			conflict, err = "provider", errs.E(errs.Conflict, "%s", errs.MessageOf(err))
		}
		f := courseForm{Values: v}
		f.Errors, f.Problem = formProblems(err, courseFields, conflict)
		p.renderCourseForm(w, r, errs.HTTPStatus(err), f)
		return
	}
	p.flash(r, "Added the course "+c.Name+" (externalCourseId "+c.ExternalID+").")
	http.Redirect(w, r, "/staff/courses", http.StatusSeeOther)
}

// course loads the course named by the path; ok is false when an error page was written.
func (p *Pages) course(w http.ResponseWriter, r *http.Request) (catalog.Course, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, errs.E(errs.NotFound, "there is no course %q", r.PathValue("id")))
		return catalog.Course{}, false
	}
	c, err := p.cfg.Catalog.CourseByID(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return catalog.Course{}, false
	}
	return c, true
}

// staffCourse shows the form to change a course.
func (p *Pages) staffCourse(w http.ResponseWriter, r *http.Request, _ account.Account) {
	c, ok := p.course(w, r)
	if !ok {
		return
	}
	owner, err := p.cfg.Catalog.ProviderByID(r.Context(), c.ProviderID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.renderCourseForm(w, r, http.StatusOK, courseForm{Course: &c, Values: map[string]string{
		"name": c.Name, "external-id": c.ExternalID, "description": c.Description, "provider": owner.Username}})
}

// staffCourseSave changes a course; catalog.Service decides what may change.
func (p *Pages) staffCourseSave(w http.ResponseWriter, r *http.Request, _ account.Account) {
	c, ok := p.course(w, r)
	if !ok {
		return
	}
	v, ok := p.readForm(w, r, courseFields)
	if !ok {
		return
	}
	changed, err := p.cfg.Catalog.ChangeCourse(r.Context(), c.ID, catalog.CourseChange{
		Name: v["name"], Description: v["description"], ExternalID: v["external-id"], ProviderUsername: v["provider"]})
	if err != nil {
		if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.NotFound {
			p.fail(w, r, err)
			return
		}
		f := courseForm{Course: &c, Values: v}
		f.Errors, f.Problem = formProblems(err, courseFields, "external-id")
		p.renderCourseForm(w, r, errs.HTTPStatus(err), f)
		return
	}
	p.flash(r, "Saved the course "+changed.Name+".")
	http.Redirect(w, r, "/staff/courses", http.StatusSeeOther)
}
