package web

import (
	"net/http"
	"strings"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// search is the catalogue's search form, as sent.
type search struct {
	Text, City, From, To string
	FreeOnly             bool
	Errors               map[string]string // by field: "from", "to"
}

// courseView is a course with the classes the search found.
type courseView struct {
	Name, Description, ProviderName string
	Classes                         []classView
}

type catalogueData struct {
	Search  search
	Courses []courseView
	Found   int
}

// catalogue lists courses and their classes, searched by text (course name and
// description, place), city, start date range and free seats. Without a from date it
// shows classes from today on.
func (p *Pages) catalogue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := search{Text: strings.TrimSpace(q.Get("q")), City: strings.TrimSpace(q.Get("city")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), FreeOnly: q.Get("free") != "",
		Errors: map[string]string{}}
	for name, v := range map[string]string{"q": s.Text, "city": s.City, "from": s.From, "to": s.To} {
		if problem := catalog.TextProblem(v, false); problem != "" {
			p.fail(w, r, errs.E(errs.Invalid, "%s: %s", name, problem))
			return
		}
	}
	now := p.cfg.Now()
	var f catalog.ClassFilter
	f.FreeSeatsOnly = s.FreeOnly
	today := catalog.DateOf(now)
	f.From = &today
	for _, d := range []struct {
		name, v string
		dst     **catalog.Date
	}{{"from", s.From, &f.From}, {"to", s.To, &f.To}} {
		if d.v == "" {
			continue
		}
		date, err := catalog.ParseDateInput(d.v)
		if err != nil {
			s.Errors[d.name] = err.Error()
			continue
		}
		*d.dst = &date
	}
	data := catalogueData{Search: s}
	if len(s.Errors) == 0 {
		classes, err := p.cfg.Catalog.FindClasses(r.Context(), f)
		if errs.Is(err, errs.Invalid) {
			s.Errors["from"] = strings.TrimPrefix(errs.MessageOf(err), "from: ")
			data.Search = s
		} else if err != nil {
			p.fail(w, r, err)
			return
		}
		if data.Courses, data.Found, err = p.group(r, classes, s); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	status := http.StatusOK
	if len(s.Errors) > 0 {
		status = http.StatusBadRequest
	}
	p.render(w, r, status, "catalogue.html", "Courses", data)
}

// group puts the classes that match the text and city under their courses, in the
// order found (by start).
func (p *Pages) group(r *http.Request, classes []catalog.Class, s search) ([]courseView, int, error) {
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		return nil, 0, err
	}
	text, city := strings.ToLower(s.Text), strings.ToLower(s.City)
	now := p.cfg.Now()
	var out []courseView
	index := map[int64]int{}
	found := 0
	for _, c := range classes {
		course := courses[c.CourseID]
		haystack := strings.ToLower(course.Name + " " + course.Description + " " + c.Location + " " + c.Address.City)
		if text != "" && !strings.Contains(haystack, text) {
			continue
		}
		if city != "" && !strings.Contains(strings.ToLower(c.Address.City), city) {
			continue
		}
		provider := providers[c.ProviderID]
		i, ok := index[c.CourseID]
		if !ok {
			i = len(out)
			index[c.CourseID] = i
			out = append(out, courseView{Name: course.Name, Description: course.Description, ProviderName: provider.Name})
		}
		out[i].Classes = append(out[i].Classes, newClassView(c, course, provider, now))
		found++
	}
	return out, found, nil
}

// courseIndex returns every course and provider by id.
func (p *Pages) courseIndex(r *http.Request) (map[int64]catalog.Course, map[int64]catalog.Provider, error) {
	courses, err := p.cfg.Catalog.AllCourses(r.Context(), "")
	if err != nil {
		return nil, nil, err
	}
	providers, err := p.cfg.Catalog.Store.Providers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	cm := make(map[int64]catalog.Course, len(courses))
	for _, c := range courses {
		cm[c.ID] = c
	}
	pm := make(map[int64]catalog.Provider, len(providers))
	for _, pr := range providers {
		pm[pr.ID] = pr
	}
	return cm, pm, nil
}

// class returns one class as the pages show it, deleted or not.
func (p *Pages) class(r *http.Request, id int64) (catalog.Class, classView, error) {
	c, err := p.cfg.Bookings.Store.ClassByID(r.Context(), id)
	if errs.Is(err, errs.NotFound) {
		return c, classView{}, errs.E(errs.NotFound, "there is no class %d", id)
	}
	if err != nil {
		return c, classView{}, err
	}
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		return c, classView{}, err
	}
	return c, newClassView(c, courses[c.CourseID], providers[c.ProviderID], p.cfg.Now()), nil
}
