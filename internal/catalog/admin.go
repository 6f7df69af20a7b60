package catalog

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/errs"
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$`)

// AddProvider creates a provider account. p.PasswordHash must already be set; the
// URLs, when given, must pass CheckURL.
func (s *Service) AddProvider(ctx context.Context, p Provider) (Provider, error) {
	p.Name = strings.TrimSpace(p.Name)
	var fe fieldErrors
	if p.Name == "" {
		fe.add("name", "is required")
	}
	fe.text("name", p.Name, false)
	if !usernamePattern.MatchString(p.Username) {
		fe.add("username", "%q must be 3 to 64 letters, digits, '.', '_', '@' or '-'", p.Username)
	}
	s.checkURLs(&fe, p)
	if err := fe.err(); err != nil {
		return Provider{}, err
	}
	p.CreatedAt = s.now()
	if err := s.Store.CreateProvider(ctx, &p); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Provider{}, errs.E(errs.Conflict, "username %q is taken", p.Username)
		}
		return Provider{}, err
	}
	return p, nil
}

// RegisterProvider creates a provider account with a new generated password and
// returns the password: the only time it is known, since only its hash is stored.
// p.PasswordHash is ignored.
func (s *Service) RegisterProvider(ctx context.Context, p Provider) (Provider, string, error) {
	password, hash, err := s.newPassword()
	if err != nil {
		return Provider{}, "", err
	}
	p.PasswordHash = hash
	if p, err = s.AddProvider(ctx, p); err != nil {
		return Provider{}, "", err
	}
	return p, password, nil
}

// RotateProviderPassword gives the provider with the username a new generated
// password and returns it, once. The old password stops working at once, on every
// instance: the authenticator reads the stored hash on every call, and its cache of
// verified passwords is keyed on that hash. Unknown is errs.NotFound.
func (s *Service) RotateProviderPassword(ctx context.Context, username string) (Provider, string, error) {
	password, hash, err := s.newPassword()
	if err != nil {
		return Provider{}, "", err
	}
	p, err := s.Store.ModifyProvider(ctx, username, func(p *Provider) error {
		p.PasswordHash = hash
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return Provider{}, "", errs.E(errs.NotFound, "no provider with username %q", username)
	}
	if err != nil {
		return Provider{}, "", err
	}
	return p, password, nil
}

// newPassword makes a password with NewPassword.
func (s *Service) newPassword() (password, hash string, err error) {
	if s.NewPassword == nil {
		return "", "", errs.E(errs.Internal, "catalog: Service.NewPassword is not set")
	}
	return s.NewPassword()
}

// ProviderChange lists what ChangeProvider changes; nil fields stay as they are.
type ProviderChange struct {
	Name       *string
	ReserveURL *string
	CancelURL  *string
	Secret     *string
	// PasswordHash sets a hash of a chosen password (the demo's known one);
	// RotateProviderPassword is the rule for a new one.
	PasswordHash *string
}

// ChangeProvider changes a provider's account.
func (s *Service) ChangeProvider(ctx context.Context, username string, ch ProviderChange) (Provider, error) {
	return s.Store.ModifyProvider(ctx, username, func(p *Provider) error {
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		set(&p.Name, ch.Name)
		set(&p.ReserveURL, ch.ReserveURL)
		set(&p.CancelURL, ch.CancelURL)
		set(&p.Secret, ch.Secret)
		set(&p.PasswordHash, ch.PasswordHash)
		var fe fieldErrors
		if p.Name == "" {
			fe.add("name", "must not be empty")
		}
		fe.text("name", p.Name, false)
		fe.text("secret", p.Secret, false)
		s.checkURLs(&fe, *p)
		return fe.err()
	})
}

func (s *Service) checkURLs(fe *fieldErrors, p Provider) {
	if s.CheckURL == nil {
		return
	}
	for _, u := range []struct{ name, kind, v string }{{"reserve-url", "reserve", p.ReserveURL}, {"cancel-url", "cancel", p.CancelURL}} {
		if u.v == "" {
			continue
		}
		if err := s.CheckURL(u.kind, u.v); err != nil {
			fe.add(u.name, "%v", err)
		}
	}
}

// AddCourse creates a course and assigns it to the provider with the username.
func (s *Service) AddCourse(ctx context.Context, providerUsername string, c Course) (Course, error) {
	if err := checkCourse(&c).err(); err != nil {
		return Course{}, err
	}
	p, err := s.Store.ProviderByUsername(ctx, providerUsername)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Course{}, errs.E(errs.NotFound, "no provider with username %q", providerUsername)
		}
		return Course{}, err
	}
	c.ProviderID, c.CreatedAt = p.ID, s.now()
	if err := s.Store.CreateCourse(ctx, &c); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Course{}, errs.E(errs.Conflict, "provider %q already has a course with external id %q", providerUsername, c.ExternalID)
		}
		return Course{}, err
	}
	return c, nil
}

// checkCourse trims a course's fields and names every bad one.
func checkCourse(c *Course) fieldErrors {
	c.Name, c.ExternalID = strings.TrimSpace(c.Name), strings.TrimSpace(c.ExternalID)
	var fe fieldErrors
	if c.Name == "" {
		fe.add("name", "is required")
	}
	if c.ExternalID == "" || utf8.RuneCountInString(c.ExternalID) > 100 || strings.ContainsAny(c.ExternalID, "/?#%") {
		fe.add("external-id", "%q must be 1 to 100 characters without '/', '?', '#' or '%%'", c.ExternalID)
	}
	// Admin input follows the API's text rule (SPEC §2 "Text"), so both databases
	// store the same text and the API can later name the course.
	fe.text("name", c.Name, false)
	fe.text("external-id", c.ExternalID, false)
	fe.text("description", c.Description, true)
	return fe
}

// AllCourses lists every course, or one provider's when providerUsername is set.
func (s *Service) AllCourses(ctx context.Context, providerUsername string) ([]Course, error) {
	var f CourseFilter
	if providerUsername != "" {
		p, err := s.Store.ProviderByUsername(ctx, providerUsername)
		if err != nil {
			return nil, err
		}
		f.ProviderID = &p.ID
	}
	return s.Store.Courses(ctx, f)
}

// text adds field's problem with the text rule (TextProblem), if it has one.
func (fe *fieldErrors) text(field, s string, freeText bool) {
	if p := TextProblem(s, freeText); p != "" {
		fe.add(field, "%s", p)
	}
}
