package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
)

// Paths of the one-time links. The secret goes in the query, never the path, so that
// the request log (which records paths) never holds one.
const (
	invitationPath = "/invitation"
	resetPath      = "/reset"
)

// linkTo returns the builder of absolute links to path for the account service:
// Config.PublicURL, or this request's scheme and host when it is empty.
func (p *Pages) linkTo(r *http.Request, path string) func(secret string) string {
	base := strings.TrimRight(p.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil || (p.cfg.TrustForwarded && r.Header.Get("X-Forwarded-Proto") == "https") {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return func(secret string) string { return base + path + "?token=" + url.QueryEscape(secret) }
}

var inviteFields = []string{"firstName", "lastName", "email"}

// colleaguesData is the colleagues page: the company's accounts, the invitation form,
// and the link just made.
type colleaguesData struct {
	formData
	Colleagues []account.Account
	Invited    *account.Invited
	Mailer     bool // the portal mails invitations
	ValidDays  int
}

func (p *Pages) colleaguesPage(w http.ResponseWriter, r *http.Request, a account.Account, status int, data colleaguesData) {
	list, err := p.cfg.Accounts.Colleagues(r.Context(), a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data.Colleagues, data.Mailer = list, p.cfg.Accounts.Mailer != nil
	data.ValidDays = int(account.InvitationValidFor.Hours() / 24)
	if data.Values == nil {
		data.Values = map[string]string{}
	}
	if data.Errors == nil {
		data.Errors = map[string]string{}
	}
	p.render(w, r, status, "colleagues.html", "Colleagues", data)
}

// colleagues lists the company's enrollers, with the form to invite one more.
func (p *Pages) colleagues(w http.ResponseWriter, r *http.Request, a account.Account) {
	p.colleaguesPage(w, r, a, http.StatusOK, colleaguesData{})
}

// invite adds a colleague and shows the link on the page, so that it works without mail.
func (p *Pages) invite(w http.ResponseWriter, r *http.Request, a account.Account) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return
	}
	f := r.PostForm
	in := account.Invite{FirstName: f.Get("firstName"), LastName: f.Get("lastName"), Email: f.Get("email")}
	invited, err := p.cfg.Accounts.Invite(r.Context(), a, in, p.linkTo(r, invitationPath))
	if err != nil {
		if errs.CodeOf(err) == errs.Internal || errs.Is(err, errs.Forbidden) {
			p.fail(w, r, err)
			return
		}
		data := colleaguesData{formData: formData{Values: map[string]string{"firstName": in.FirstName, "lastName": in.LastName, "email": in.Email}}}
		data.Errors, data.Problem = fieldErrors(err, inviteFields)
		if errs.Is(err, errs.Conflict) {
			field, problem, _ := strings.Cut(errs.MessageOf(err), ": ")
			data.Errors, data.Problem = map[string]string{field: problem}, ""
		}
		if data.Problem == "" {
			data.Problem = "Please correct the marked fields."
		}
		p.colleaguesPage(w, r, a, errs.HTTPStatus(err), data)
		return
	}
	p.colleaguesPage(w, r, a, http.StatusOK, colleaguesData{Invited: &invited})
}

// setPasswordData is the page behind a one-time link.
type setPasswordData struct {
	formData
	Action  string // the form's path
	Token   string
	Account account.Account
	Invite  bool
}

// linkPage shows the form to set a password through a link of purpose pr; a link
// that cannot be used shows why instead.
func (p *Pages) linkPage(pr account.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret := r.URL.Query().Get("token")
		a, err := p.cfg.Accounts.CheckLink(r.Context(), pr, secret)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		p.renderSetPassword(w, r, http.StatusOK, pr, setPasswordData{Token: secret, Account: a})
	}
}

func (p *Pages) renderSetPassword(w http.ResponseWriter, r *http.Request, status int, pr account.Purpose, data setPasswordData) {
	title := "Choose a new password"
	data.Invite, data.Action = pr == account.Invitation, resetPath
	if data.Invite {
		data.Action, title = invitationPath, "Welcome to Trainingportal"
	}
	if data.Values == nil {
		data.Values = map[string]string{}
	}
	if data.Errors == nil {
		data.Errors = map[string]string{}
	}
	p.render(w, r, status, "setpassword.html", title, data)
}

// setPassword sets the password through a link, and signs the account holder in.
func (p *Pages) setPassword(pr account.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
			return
		}
		secret := r.PostForm.Get("token")
		a, err := p.cfg.Accounts.SetPassword(r.Context(), pr, secret, r.PostForm.Get("password"))
		if errs.Is(err, errs.Invalid) {
			data := setPasswordData{Token: secret}
			data.Errors, data.Problem = fieldErrors(err, []string{"password"})
			if data.Problem == "" {
				data.Problem = "Please choose another password."
			}
			if data.Account, err = p.cfg.Accounts.CheckLink(r.Context(), pr, secret); err == nil {
				p.renderSetPassword(w, r, http.StatusUnprocessableEntity, pr, data)
				return
			}
		}
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if !p.startSession(w, r, a) {
			return
		}
		if pr == account.Invitation {
			p.flash(r, "Welcome, "+a.FirstName+". Your password is set; you can book courses for your company now.")
		} else {
			p.flash(r, "Your new password is set, and you are signed in. Every other session of your account has ended.")
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// forgotData is the "forgot your password?" page.
type forgotData struct {
	formData
	Sent   bool // the request was taken: the same answer whether or not the address has an account
	Mailer bool // the portal mails reset links
}

func (p *Pages) renderForgot(w http.ResponseWriter, r *http.Request, status int, data forgotData) {
	data.Mailer = p.cfg.Accounts.Mailer != nil
	if data.Values == nil {
		data.Values = map[string]string{}
	}
	if data.Errors == nil {
		data.Errors = map[string]string{}
	}
	p.render(w, r, status, "forgot.html", "Forgot your password?", data)
}

func (p *Pages) forgotForm(w http.ResponseWriter, r *http.Request) {
	p.renderForgot(w, r, http.StatusOK, forgotData{})
}

// forgot asks for a reset link. The answer is the same whether or not the address
// has an account; the account service slows repeated requests down.
func (p *Pages) forgot(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, errs.E(errs.Invalid, "the form could not be read"))
		return
	}
	email := r.PostForm.Get("email")
	err := p.cfg.Accounts.RequestPasswordReset(r.Context(), p.clientKey(r), email, p.linkTo(r, resetPath))
	switch {
	case errs.Is(err, errs.Invalid):
		p.renderForgot(w, r, http.StatusUnprocessableEntity, forgotData{formData: formData{
			Values: map[string]string{"email": email}, Errors: map[string]string{"email": "is not an e-mail address"},
			Problem: "Please correct the marked field."}})
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	p.renderForgot(w, r, http.StatusOK, forgotData{formData: formData{Values: map[string]string{"email": email}}, Sent: true})
}
