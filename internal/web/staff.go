package web

import (
	"net/http"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
)

// staffOnly lets only portal staff through: a visitor who is not signed in is sent to
// the sign-in page, and an enroller gets 404, the same page as a path that does not
// exist, so the staff pages are not advertised to them.
func (p *Pages) staffOnly(h func(http.ResponseWriter, *http.Request, account.Account)) http.HandlerFunc {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, a account.Account) {
		if a.Role != account.Staff {
			p.fail(w, r, errs.E(errs.NotFound, "there is no page at %s", r.URL.Path))
			return
		}
		h(w, r, a)
	})
}

// staffSection is one entry of the staff pages' index and navigation.
type staffSection struct {
	Path, Name, About string
}

// staffSections lists the staff pages, in the order the index shows them. Each staff
// page registers its own routes; it adds itself here so the index links to it.
var staffSections []staffSection

// staffIndex is the start page of portal staff: the dashboard (staff_dashboard.go),
// which links to the sections.
func (p *Pages) staffIndex(w http.ResponseWriter, r *http.Request, a account.Account) {
	p.staffDashboard(w, r, a)
}
