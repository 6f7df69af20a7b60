package web

import (
	"net/http"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
)

var signUpFields = []string{"company", "firstName", "lastName", "email", "phone", "password"}

type formData struct {
	Values  map[string]string
	Errors  map[string]string
	Problem string
	Next    string
}

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signup.html", "Sign up your company", formData{Values: map[string]string{}, Errors: map[string]string{}})
}

// signUp registers a company and its first enroller, and signs the enroller in.
func (p *Pages) signUp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return
	}
	f := r.PostForm
	data := formData{Values: map[string]string{}, Errors: map[string]string{}}
	for _, name := range signUpFields {
		if name != "password" {
			data.Values[name] = f.Get(name)
		}
	}
	a, err := p.cfg.Accounts.SignUp(r.Context(), account.SignUp{
		Company: f.Get("company"), FirstName: f.Get("firstName"), LastName: f.Get("lastName"),
		Email: f.Get("email"), Phone: f.Get("phone"), Password: f.Get("password"),
	})
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			p.fail(w, r, err)
			return
		}
		data.Errors, data.Problem = fieldErrors(err, signUpFields)
		if errs.Is(err, errs.Conflict) {
			field, problem, _ := strings.Cut(errs.MessageOf(err), ": ")
			data.Errors, data.Problem = map[string]string{field: problem}, ""
		}
		if data.Problem == "" {
			data.Problem = "Please correct the marked fields."
		}
		p.render(w, r, errs.HTTPStatus(err), "signup.html", "Sign up your company", data)
		return
	}
	if !p.startSession(w, r, a) {
		return
	}
	p.flash(r, "Welcome, "+a.FirstName+". Your company is signed up; you can book courses now.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signin.html", "Sign in",
		formData{Values: map[string]string{}, Errors: map[string]string{}, Next: safeNext(r.URL.Query().Get("next"))})
}

// signIn checks the e-mail and password. Repeated failures are slowed down by the
// account service; every failure gets the same answer.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return
	}
	email, next := r.PostForm.Get("email"), safeNext(r.PostForm.Get("next"))
	a, err := p.cfg.Accounts.SignIn(r.Context(), p.clientKey(r), email, r.PostForm.Get("password"))
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			p.fail(w, r, err)
			return
		}
		p.render(w, r, http.StatusUnauthorized, "signin.html", "Sign in", formData{
			Values: map[string]string{"email": email}, Errors: map[string]string{}, Next: next,
			Problem: errs.MessageOf(err),
		})
		return
	}
	if !p.startSession(w, r, a) {
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession signs a in, under a new session token so that a token planted before
// sign-in is worth nothing after it.
func (p *Pages) startSession(w http.ResponseWriter, r *http.Request, a account.Account) bool {
	if err := p.sessions.RenewToken(r.Context()); err != nil {
		p.fail(w, r, errs.Wrap(err, "web: renew session"))
		return false
	}
	p.sessions.Put(r.Context(), sessionAccount, a.ID)
	p.sessions.Put(r.Context(), sessionEpoch, a.SessionEpoch)
	return true
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	if err := p.sessions.Destroy(r.Context()); err != nil {
		p.fail(w, r, errs.Wrap(err, "web: end session"))
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// safeNext keeps a "next" page on this site: a local path, never "//host" or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
