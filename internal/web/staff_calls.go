package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
)

func init() {
	staffSections = append(staffSections,
		staffSection{Path: "/staff/calls", Name: "Call journal", About: "every call to a provider's reserve and cancel URLs, with its request and answer"})
}

// staffCallsView is the journal's filter form, a page of calls and the next page.
type staffCallsView struct {
	Form      url.Values
	Problem   string
	Providers []option
	Outcomes  []option
	Kinds     []option
	Calls     []providercall.Call
	Next      string
}

// staffCalls lists the call journal, newest first, filtered by provider, outcome,
// kind and booking reference.
func (p *Pages) staffCalls(w http.ResponseWriter, r *http.Request, _ account.Account) {
	form := r.URL.Query()
	v := staffCallsView{Form: form}
	_, providers, err := p.courseIndex(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Providers = providerOptions(providers, form.Get("provider"))
	v.Outcomes = choices(form.Get("outcome"), string(providercall.OutcomeAnswered), "Answered", string(providercall.OutcomeFailed), "Failed (no usable answer)")
	v.Kinds = choices(form.Get("kind"), string(providercall.KindReserve), "Reserve", string(providercall.KindCancel), "Cancel")

	var f providercall.CallFilter
	var problems []string
	f.ProviderID, problems = idParam(form, "provider", "Provider", problems)
	f.BeforeID, problems = idParam(form, "before", "Page", problems)
	f.Outcome, problems = choice[providercall.Outcome](form, "outcome", "Outcome", v.Outcomes, problems)
	f.Kind, problems = choice[providercall.Kind](form, "kind", "Kind", v.Kinds, problems)
	f.BookingReference = strings.TrimSpace(form.Get("booking"))
	if len(problems) > 0 {
		v.Problem = strings.Join(problems, " ")
		p.render(w, r, http.StatusBadRequest, "staff_calls.html", "Call journal", v)
		return
	}
	f.Limit = staffPageSize + 1
	calls, err := p.cfg.Staff.Calls(r.Context(), f)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if len(calls) > staffPageSize {
		calls = calls[:staffPageSize]
		v.Next = nextPage(r, calls[len(calls)-1].ID)
	}
	v.Calls = calls
	p.render(w, r, http.StatusOK, "staff_calls.html", "Call journal", v)
}

// choices makes the options of a fixed list given as value, label pairs.
func choices(selected string, pairs ...string) []option {
	out := make([]option, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, option{Value: pairs[i], Label: pairs[i+1], Selected: pairs[i] == selected})
	}
	return out
}

// choice reads an optional value of a fixed list from the form.
func choice[T ~string](form url.Values, name, label string, opts []option, problems []string) (T, []string) {
	raw := form.Get(name)
	if raw == "" {
		return "", problems
	}
	for _, o := range opts {
		if o.Value == raw {
			return T(raw), problems
		}
	}
	return "", append(problems, label+": choose one from the list.")
}

// staffCall shows one journal entry: the request as sent and the answer as received.
func (p *Pages) staffCall(w http.ResponseWriter, r *http.Request, _ account.Account) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, errs.E(errs.NotFound, "there is no call %q in the journal", r.PathValue("id")))
		return
	}
	c, err := p.cfg.Staff.Call(r.Context(), id)
	if errs.Is(err, errs.NotFound) {
		err = errs.E(errs.NotFound, "there is no call %d in the journal", id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "staff_call.html", "Call "+strconv.FormatInt(id, 10), c)
}
