package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
)

func init() {
	staffSections = append(staffSections,
		staffSection{Path: "/staff/providers", Name: "Providers", About: "register course providers, their reserve and cancel URLs, credentials and signing secret; test a URL"},
		staffSection{Path: "/staff/courses", Name: "Courses", About: "create courses and assign each to a provider with its externalCourseId"},
	)
}

// providerFields are the provider forms' inputs, named as catalog.Service names them
// in its "field: problem" messages.
var providerFields = []string{"name", "username", "reserve-url", "cancel-url", "secret"}

// providerRow is a provider as the list shows it.
type providerRow struct {
	catalog.Provider
	Courses int
}

// staffProviders lists the providers.
func (p *Pages) staffProviders(w http.ResponseWriter, r *http.Request, _ account.Account) {
	providers, err := p.cfg.Catalog.Providers(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	courses, err := p.cfg.Catalog.AllCourses(r.Context(), "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	count := map[int64]int{}
	for _, c := range courses {
		count[c.ProviderID]++
	}
	rows := make([]providerRow, len(providers))
	for i, pr := range providers {
		rows[i] = providerRow{Provider: pr, Courses: count[pr.ID]}
	}
	p.render(w, r, http.StatusOK, "staff_providers.html", "Providers", rows)
}

// providerForm is the data of the new-provider form.
type providerForm struct {
	Values  map[string]string
	Errors  map[string]string
	Problem string
}

// staffProviderNew shows the form for a new provider.
func (p *Pages) staffProviderNew(w http.ResponseWriter, r *http.Request, _ account.Account) {
	p.render(w, r, http.StatusOK, "staff_providers_new.html", "New provider", providerForm{Values: map[string]string{}, Errors: map[string]string{}})
}

// readForm parses a posted form and returns the values of fields, trimmed; ok is
// false when an error page was written.
func (p *Pages) readForm(w http.ResponseWriter, r *http.Request, fields []string) (map[string]string, bool) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return nil, false
	}
	v := map[string]string{}
	for _, f := range fields {
		v[f] = strings.TrimSpace(r.PostForm.Get(f))
	}
	return v, true
}

// formProblems splits a service's error into the form's field errors and the rest; a
// conflict (a taken name) is put next to conflictField.
func formProblems(err error, fields []string, conflictField string) (map[string]string, string) {
	if errs.CodeOf(err) == errs.Conflict && conflictField != "" {
		return map[string]string{conflictField: errs.MessageOf(err)}, "Please correct the marked fields."
	}
	byField, rest := fieldErrors(err, fields)
	if rest == "" {
		rest = "Please correct the marked fields."
	}
	return byField, rest
}

// credentials is the page that shows a provider's password, once: Password is empty
// when it was shown already (or never made in this session).
type credentials struct {
	Provider catalog.Provider
	Password string
}

// passwordKey names the session value that keeps a provider's new password until its
// credentials page shows it.
func passwordKey(id int64) string { return "provider-password/" + strconv.FormatInt(id, 10) }

// showPasswordOnce keeps a provider's new password in the session and sends the
// browser on (303) to the credentials page, which shows it once. The answer to the
// POST is never the password itself, so reloading or going back neither posts the
// form again nor shows the password again.
func (p *Pages) showPasswordOnce(w http.ResponseWriter, r *http.Request, pr catalog.Provider, password, flash string) {
	p.sessions.Put(r.Context(), passwordKey(pr.ID), password)
	p.flash(r, flash)
	http.Redirect(w, r, "/staff/providers/"+strconv.FormatInt(pr.ID, 10)+"/credentials", http.StatusSeeOther)
}

// staffProviderCreate adds a provider with a generated password (catalog
// RegisterProvider) and shows its credentials once.
func (p *Pages) staffProviderCreate(w http.ResponseWriter, r *http.Request, _ account.Account) {
	v, ok := p.readForm(w, r, providerFields)
	if !ok {
		return
	}
	if v["username"] == "" {
		v["username"] = catalog.UsernameFor(v["name"])
	}
	pr, password, err := p.cfg.Catalog.RegisterProvider(r.Context(), catalog.Provider{Name: v["name"], Username: v["username"],
		ReserveURL: v["reserve-url"], CancelURL: v["cancel-url"], Secret: v["secret"]})
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			p.fail(w, r, err)
			return
		}
		form := providerForm{Values: v}
		form.Errors, form.Problem = formProblems(err, providerFields, "username")
		p.render(w, r, errs.HTTPStatus(err), "staff_providers_new.html", "New provider", form)
		return
	}
	p.showPasswordOnce(w, r, pr, password, "Added the provider "+pr.Name+".")
}

// staffProviderCredentials shows the password kept by showPasswordOnce and forgets
// it; shown again, the page says the password is gone and offers a new one. The
// security headers keep every page out of caches (Cache-Control: no-store).
func (p *Pages) staffProviderCredentials(w http.ResponseWriter, r *http.Request, _ account.Account) {
	pr, ok := p.provider(w, r)
	if !ok {
		return
	}
	password := p.sessions.PopString(r.Context(), passwordKey(pr.ID))
	p.render(w, r, http.StatusOK, "staff_providers_credentials.html", "Credentials of "+pr.Name, credentials{Provider: pr, Password: password})
}

// providerPage is the data of a provider's page: the form to change it, and the
// result of a URL test when one was made.
type providerPage struct {
	Provider catalog.Provider
	Courses  []catalog.Course
	Values   map[string]string
	Errors   map[string]string
	Problem  string
	CanTest  bool
	Test     *urlTest
}

// urlTest is a dry call's result as the page shows it.
type urlTest struct {
	providercall.DryRun
	Latency string
	Verdict string // one sentence: does the URL work?
	OK      bool
}

// provider loads the provider named by the path; ok is false when an error page was written.
func (p *Pages) provider(w http.ResponseWriter, r *http.Request) (catalog.Provider, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, errs.E(errs.NotFound, "there is no provider %q", r.PathValue("id")))
		return catalog.Provider{}, false
	}
	pr, err := p.cfg.Catalog.ProviderByID(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return catalog.Provider{}, false
	}
	return pr, true
}

// renderProvider shows a provider's page with its status.
func (p *Pages) renderProvider(w http.ResponseWriter, r *http.Request, status int, data providerPage) {
	courses, err := p.cfg.Catalog.AllCourses(r.Context(), data.Provider.Username)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data.Courses, data.CanTest = courses, p.cfg.ProviderCalls != nil
	if data.Values == nil {
		data.Values = map[string]string{"name": data.Provider.Name, "reserve-url": data.Provider.ReserveURL, "cancel-url": data.Provider.CancelURL}
	}
	if data.Errors == nil {
		data.Errors = map[string]string{}
	}
	p.render(w, r, status, "staff_providers_edit.html", data.Provider.Name, data)
}

// staffProvider shows a provider's page.
func (p *Pages) staffProvider(w http.ResponseWriter, r *http.Request, _ account.Account) {
	if pr, ok := p.provider(w, r); ok {
		p.renderProvider(w, r, http.StatusOK, providerPage{Provider: pr})
	}
}

// staffProviderSave changes a provider's name, URLs and signing secret. An empty
// secret field keeps the secret; "stop signing" removes it.
func (p *Pages) staffProviderSave(w http.ResponseWriter, r *http.Request, _ account.Account) {
	pr, ok := p.provider(w, r)
	if !ok {
		return
	}
	v, ok := p.readForm(w, r, providerFields)
	if !ok {
		return
	}
	ch := catalog.ProviderChange{Name: ptrTo(v["name"]), ReserveURL: ptrTo(v["reserve-url"]), CancelURL: ptrTo(v["cancel-url"])}
	switch {
	case r.PostForm.Get("clear-secret") != "":
		ch.Secret = ptrTo("")
	case v["secret"] != "":
		ch.Secret = ptrTo(v["secret"])
	}
	changed, err := p.cfg.Catalog.ChangeProvider(r.Context(), pr.Username, ch)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.NotFound {
			p.fail(w, r, err)
			return
		}
		data := providerPage{Provider: pr, Values: v}
		data.Values["secret"] = "" // never echoed back into the page
		data.Errors, data.Problem = formProblems(err, providerFields, "")
		p.renderProvider(w, r, errs.HTTPStatus(err), data)
		return
	}
	p.flash(r, "Saved the changes to "+changed.Name+".")
	http.Redirect(w, r, "/staff/providers/"+strconv.FormatInt(pr.ID, 10), http.StatusSeeOther)
}

// staffProviderRotate gives a provider a new password (catalog
// RotateProviderPassword), shown once; the old one stops working at once.
func (p *Pages) staffProviderRotate(w http.ResponseWriter, r *http.Request, _ account.Account) {
	pr, ok := p.provider(w, r)
	if !ok {
		return
	}
	pr, password, err := p.cfg.Catalog.RotateProviderPassword(r.Context(), pr.Username)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showPasswordOnce(w, r, pr, password, "New password made for "+pr.Name+"; the old one no longer works.")
}

// staffProviderTest makes a dry call to the provider's reserve URL as it is stored,
// and shows what came back.
func (p *Pages) staffProviderTest(w http.ResponseWriter, r *http.Request, _ account.Account) {
	pr, ok := p.provider(w, r)
	if !ok {
		return
	}
	if p.cfg.ProviderCalls == nil {
		p.fail(w, r, errs.E(errs.NotFound, "URL tests are not available on this portal"))
		return
	}
	run := p.cfg.ProviderCalls.TestReserve(r.Context(), providercall.TargetOf(pr))
	t := &urlTest{DryRun: run, Latency: run.Latency.Round(time.Millisecond / 10).String()}
	switch {
	case run.Refused:
		t.Verdict = "The call was not made: the portal refuses this URL. Change the reserve URL."
	case run.Readable:
		t.OK = true
		t.Verdict = "The reserve URL works: the provider's system answered in a form the portal reads."
	default:
		t.Verdict = "The reserve URL does not work yet: the portal could not read an answer."
	}
	p.renderProvider(w, r, http.StatusOK, providerPage{Provider: pr, Test: t})
}

func ptrTo(s string) *string { return &s }
