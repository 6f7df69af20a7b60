package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/httpapi"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/tpclient"
)

// The provider gateway's commands: a course provider's side of the integration, with
// its own database. They share no package with the portal's commands but the
// command-line helpers of this package.

// providerEnvPrefix starts the environment variables of the provider commands. It
// differs from the portal's TPORTAL_ so that a shell set up for the portal can never
// point the gateway at the portal's database.
const providerEnvPrefix = "TPORTAL_PROVIDER_"

// providerEnvFlags are the flags that read the environment: settings, not data.
var providerEnvFlags = map[string]bool{
	"db": true, "data": true, "addr": true, "portal": true, "username": true, "password": true,
	"allow-private-urls": true, "public-url": true, "format": true, "secret": true, "max-skew": true,
	"allow-ip": true, "proxy-header": true, "trusted-proxy": true, "log-format": true, "log-level": true,
	"shutdown-grace": true,
	// serve's background work (syncFlags)
	"provider-name": true, "confirm-window": true, "confirm-backoff": true, "retry-backoff": true,
	"push-delay": true, "job-poll": true, "job-rescue-after": true,
}

// providerCommand is one provider command: its flags, and what it does with the
// gateway's store open.
type providerCommand struct {
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, env providerEnv) error
}

// providerEnv is what a provider command works with.
type providerEnv struct {
	db     *gwstore.DB
	sys    *gateway.Reference
	fs     *flag.FlagSet
	out    io.Writer
	stderr io.Writer
}

// providerSummaries are the commands' lines in the listing of `tportal provider --help`.
var providerSummaries = map[string]string{
	"serve":         "run the reserve and cancel URLs and the background work with the portal",
	"course add":    "add a course (--external-id as the portal knows it, --name)",
	"course list":   "list the courses",
	"class add":     "add a class of a course; it reaches the portal by the catalogue push",
	"class update":  "change a class (seats, dates, price, …)",
	"class cancel":  "cancel a class",
	"class restore": "restore a cancelled class",
	"class list":    "list the classes, with seats and free seats",
	"booking list":  "list the bookings, by course, class or status",
	"attendance":    "record COMPLETED, NO_SHOW or FAILED on a booking",
	"reconcile":     "compare the catalogue with the portal's and repair it",
}

// providerCommands makes the commands by name; each call makes fresh flag variables.
var providerCommands = map[string]func() providerCommand{
	"serve":         providerServe,
	"course add":    providerCourseAdd,
	"course list":   providerCourseList,
	"class add":     func() providerCommand { return providerClassEdit(true) },
	"class update":  func() providerCommand { return providerClassEdit(false) },
	"class cancel":  func() providerCommand { return providerClassState((*gateway.Reference).CancelClass, "cancelled") },
	"class restore": func() providerCommand { return providerClassState((*gateway.Reference).RestoreClass, "restored") },
	"class list":    providerClassList,
	"booking list":  providerBookingList,
	"attendance":    providerAttendance,
	"reconcile":     providerReconcile,
}

func runProvider(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	set := commandSet{}
	for name := range providerCommands {
		set[name] = subcommand{summary: providerSummaries[name], run: func(ctx context.Context, path string, args []string, stdout, stderr io.Writer) error {
			return runProviderCommand(ctx, name, path, args, stdout, stderr)
		}}
	}
	return dispatch(ctx, "tportal provider", set, args, stdout, stderr)
}

// runProviderCommand parses the flags of the provider command name (path is its full
// name) and runs it on the gateway's store.
func runProviderCommand(ctx context.Context, name, path string, args []string, stdout, stderr io.Writer) error {
	cmd := providerCommands[name]()
	var envFlags []string
	for flagName := range providerEnvFlags {
		envFlags = append(envFlags, flagName)
	}
	fs := newFlagsWithPrefix(providerEnvPrefix, strings.TrimPrefix(path, "tportal "), path+" [flags]", stdout, envFlags...)
	var data, dbURL string
	fs.StringVar(&dbURL, "db", "", "the gateway's database: sqlite:PATH or postgres://… (default: sqlite:DATA/gateway.db)")
	fs.StringVar(&data, "data", "./provider-data", "folder for the gateway's embedded database")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(data, "gateway.db")
	}
	env, err := openGateway(ctx, dbURL, stdout, stderr)
	if err != nil {
		return err
	}
	defer env.db.Close()
	env.fs = fs
	// The operator reads every error in full, internal ones with their cause.
	return cmd.run(ctx, env)
}

// openGateway opens the gateway's store at dbURL with its change queue; the caller
// closes env.db.
func openGateway(ctx context.Context, dbURL string, stdout, stderr io.Writer) (providerEnv, error) {
	db, err := gwstore.Open(ctx, dbURL)
	if err != nil {
		return providerEnv{}, err
	}
	queue, err := newChangeQueue(ctx, db)
	if err != nil {
		db.Close()
		return providerEnv{}, err
	}
	db.SetChangeQueue(queue)
	return providerEnv{db: db, sys: gateway.NewReference(db), out: stdout, stderr: stderr}, nil
}

func given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func providerCourseAdd() providerCommand {
	var id, name string
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "external-id", "", "the course's id, as the portal knows it (externalCourseId; required)")
			fs.StringVar(&name, "name", "", "the course's name (required)")
		},
		run: func(ctx context.Context, env providerEnv) error {
			c, err := env.sys.AddCourse(ctx, id, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "course %s added: %s\n", c.ExternalID, c.Name)
			return nil
		},
	}
}

// courseJSON is a course in `course list --json`.
type courseJSON struct {
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
}

func providerCourseList() providerCommand {
	var asJSON bool
	return providerCommand{
		flags: func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") },
		run: func(ctx context.Context, env providerEnv) error {
			courses, err := env.db.Courses(ctx)
			if err != nil {
				return err
			}
			list := make([]courseJSON, len(courses))
			rows := [][]any{{"EXTERNAL ID", "NAME"}}
			for i, c := range courses {
				list[i] = courseJSON{c.ExternalID, c.Name}
				rows = append(rows, []any{c.ExternalID, c.Name})
			}
			if asJSON {
				return writeJSON(env.out, list)
			}
			return table(env.out, rows)
		},
	}
}

// classFlags are the flags of class add and class update.
type classFlags struct {
	course, id                                             string
	location, start, end, timeZone, enrollment, cancel     string
	price, currency, address, address2, city, zip, country string
	seats                                                  int
	sendSchedule                                           bool
}

func (c *classFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.course, "course", "", "the course's external id (required)")
	fs.StringVar(&c.id, "external-id", "", "the class's id, unique within its course (required)")
	fs.StringVar(&c.location, "location", "", "where, as the portal shows it (e.g. Oslo)")
	fs.IntVar(&c.seats, "seats", 0, "seats in the class, booked ones included")
	fs.StringVar(&c.start, "start", "", "start date and time at the venue: 2027-05-10T09:00 (or a date alone)")
	fs.StringVar(&c.end, "end", "", "end date and time at the venue: 2027-05-11T15:30 (or a date alone)")
	fs.StringVar(&c.timeZone, "time-zone", "", "IANA time zone of the venue (default "+gateway.DefaultTimeZone+" for a new class)")
	fs.StringVar(&c.enrollment, "enrollment-deadline", "", "last day to enroll: YYYY-MM-DD")
	fs.StringVar(&c.cancel, "cancellation-deadline", "", "last day to cancel: YYYY-MM-DD")
	fs.StringVar(&c.price, "price", "", "price per seat, at most two decimals: 12500.00")
	fs.StringVar(&c.currency, "currency", "", "currency of the price: "+strings.Join(gateway.Currencies, ", "))
	fs.StringVar(&c.address, "address", "", "street address")
	fs.StringVar(&c.address2, "address2", "", "second address line")
	fs.StringVar(&c.city, "city", "", "city")
	fs.StringVar(&c.zip, "zip", "", "postal code")
	fs.StringVar(&c.country, "country", "", "country (e.g. NO)")
	fs.BoolVar(&c.sendSchedule, "send-schedule-info", true, "let the portal send the schedule to participants")
}

// fields returns the class fields whose flags were given.
func (c *classFlags) fields(set map[string]bool) gateway.ClassFields {
	str := func(name string, v *string) *string {
		if set[name] {
			return v
		}
		return nil
	}
	var f gateway.ClassFields
	f.Location = str("location", &c.location)
	f.Start, f.End = str("start", &c.start), str("end", &c.end)
	f.TimeZone = str("time-zone", &c.timeZone)
	f.EnrollmentDeadline, f.CancellationDeadline = str("enrollment-deadline", &c.enrollment), str("cancellation-deadline", &c.cancel)
	f.Amount, f.Currency = str("price", &c.price), str("currency", &c.currency)
	f.AddressLine1, f.AddressLine2 = str("address", &c.address), str("address2", &c.address2)
	f.City, f.ZipCode, f.Country = str("city", &c.city), str("zip", &c.zip), str("country", &c.country)
	if set["seats"] {
		f.Seats = &c.seats
	}
	if set["send-schedule-info"] {
		f.SendScheduleInfo = &c.sendSchedule
	}
	return f
}

func (c *classFlags) key() error {
	var missing []string
	if strings.TrimSpace(c.course) == "" {
		missing = append(missing, "--course")
	}
	if strings.TrimSpace(c.id) == "" {
		missing = append(missing, "--external-id")
	}
	if len(missing) > 0 {
		return usageErrorf("%s required", strings.Join(missing, " and "))
	}
	return nil
}

func providerClassEdit(add bool) providerCommand {
	var c classFlags
	return providerCommand{
		flags: c.register,
		run: func(ctx context.Context, env providerEnv) error {
			if err := c.key(); err != nil {
				return err
			}
			set := given(env.fs)
			var (
				class gateway.Class
				err   error
				did   = "added"
			)
			if add {
				class, err = env.sys.AddClass(ctx, c.course, c.id, c.fields(set))
			} else {
				f := c.fields(set)
				if f == (gateway.ClassFields{}) {
					return usageErrorf("nothing to change: give the flags to change, e.g. --seats 10")
				}
				class, err = env.sys.UpdateClass(ctx, c.course, c.id, f)
				did = "updated"
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "class %s %s: %d seats, %d free, %s %s – %s %s (%s)\n", class.Key(), did,
				class.Seats, class.FreeSeats, class.StartDate, class.StartTime, class.EndDate, class.EndTime, class.TimeZone)
			return nil
		},
	}
}

func providerClassState(change func(*gateway.Reference, context.Context, string, string) (gateway.Class, error), did string) providerCommand {
	var c classFlags
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&c.course, "course", "", "the course's external id (required)")
			fs.StringVar(&c.id, "external-id", "", "the class's id (required)")
		},
		run: func(ctx context.Context, env providerEnv) error {
			if err := c.key(); err != nil {
				return err
			}
			class, err := change(env.sys, ctx, c.course, c.id)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "class %s %s\n", class.Key(), did)
			return nil
		},
	}
}

// classJSON is a class in `class list --json`, with the portal's field names.
type classJSON struct {
	CourseExternalID     string      `json:"courseExternalId"`
	ExternalID           string      `json:"externalId"`
	Location             string      `json:"location"`
	Seats                int         `json:"seats"`
	AvailableSeats       int         `json:"availableSeats"`
	StartDate            string      `json:"startDate"`
	StartTime            string      `json:"startTime,omitempty"`
	EndDate              string      `json:"endDate"`
	EndTime              string      `json:"endTime,omitempty"`
	TimeZone             string      `json:"timeZone"`
	EnrollmentDeadline   string      `json:"enrollmentDeadline"`
	CancellationDeadline string      `json:"cancellationDeadline"`
	Address              addressJSON `json:"address"`
	Price                priceJSON   `json:"price"`
	SendScheduleInfo     bool        `json:"sendScheduleInfoToParticipants"`
	Cancelled            bool        `json:"cancelled"`
}

type addressJSON struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	ZipCode      string `json:"zipCode"`
	Country      string `json:"country"`
}

type priceJSON struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

func providerClassList() providerCommand {
	var course string
	var asJSON bool
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&course, "course", "", "only this course's classes")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, env providerEnv) error {
			classes, err := env.db.Classes(ctx, course)
			if err != nil {
				return err
			}
			list := make([]classJSON, len(classes))
			rows := [][]any{{"COURSE", "CLASS", "LOCATION", "START", "END", "SEATS", "FREE", "PRICE", "STATUS"}}
			for i, c := range classes {
				list[i] = classJSON{
					CourseExternalID: c.CourseID, ExternalID: c.ID, Location: c.Location, Seats: c.Seats, AvailableSeats: c.FreeSeats,
					StartDate: string(c.StartDate), StartTime: string(c.StartTime), EndDate: string(c.EndDate), EndTime: string(c.EndTime),
					TimeZone: c.TimeZone, EnrollmentDeadline: string(c.EnrollmentDeadline), CancellationDeadline: string(c.CancellationDeadline),
					Address: addressJSON{c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.ZipCode, c.Address.Country},
					Price:   priceJSON{c.Price.Currency, c.Price.Amount()}, SendScheduleInfo: c.SendScheduleInfo, Cancelled: c.Cancelled,
				}
				status := "published"
				if c.Cancelled {
					status = "cancelled"
				}
				rows = append(rows, []any{c.CourseID, c.ID, c.Location,
					strings.TrimSpace(string(c.StartDate) + " " + string(c.StartTime)), strings.TrimSpace(string(c.EndDate) + " " + string(c.EndTime)),
					c.Seats, c.FreeSeats, c.Price.Amount() + " " + c.Price.Currency, status})
			}
			if asJSON {
				return writeJSON(env.out, list)
			}
			return table(env.out, rows)
		},
	}
}

// bookingJSON is a booking in `booking list --json`; outside scripts rely on these
// names.
type bookingJSON struct {
	Reference                      string     `json:"reference"`
	TrainingportalBookingReference string     `json:"trainingportalBookingReference"`
	Course                         string     `json:"course"`
	Class                          string     `json:"class"`
	Status                         string     `json:"status"`
	Student                        personJSON `json:"student"`
	Enroller                       personJSON `json:"enroller"`
	Company                        string     `json:"company,omitempty"`
	CompletionDate                 string     `json:"completionDate,omitempty"`
	Note                           string     `json:"note,omitempty"`
	Created                        time.Time  `json:"created"`
}

type personJSON struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
}

func providerBookingList() providerCommand {
	var course, class, statuses string
	var asJSON bool
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&course, "course", "", "only bookings on this course")
			fs.StringVar(&class, "class", "", "only bookings on classes with this id")
			fs.StringVar(&statuses, "status", "", "only these statuses, comma-separated: "+statusNames())
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, env providerEnv) error {
			f := gateway.BookingFilter{CourseID: course, ClassID: class}
			for _, s := range strings.Split(statuses, ",") {
				if s = strings.ToUpper(strings.TrimSpace(s)); s == "" {
					continue
				}
				if !strings.Contains(","+statusNames()+",", ","+s+",") {
					return usageErrorf("--status: %q is not one of %s", s, statusNames())
				}
				f.Statuses = append(f.Statuses, gateway.Status(s))
			}
			bookings, err := env.sys.Bookings(ctx, f)
			if err != nil {
				return err
			}
			list := make([]bookingJSON, len(bookings))
			rows := [][]any{{"REFERENCE", "PORTAL REFERENCE", "COURSE", "CLASS", "STATUS", "STUDENT", "EMAIL"}}
			for i, b := range bookings {
				list[i] = bookingJSON{
					Reference: b.Reference, TrainingportalBookingReference: b.PortalReference,
					Course: b.CourseID, Class: b.ClassID, Status: string(b.Status),
					Student:  personJSON{b.Student.FirstName, b.Student.LastName, b.Student.Email},
					Enroller: personJSON{b.Enroller.FirstName, b.Enroller.LastName, b.Enroller.Email},
					Company:  b.Company, CompletionDate: string(b.CompletionDate), Note: b.Note, Created: b.CreatedAt,
				}
				rows = append(rows, []any{b.Reference, b.PortalReference, b.CourseID, b.ClassID, b.Status,
					orDash(strings.TrimSpace(b.Student.FirstName + " " + b.Student.LastName)), orDash(b.Student.Email)})
			}
			if asJSON {
				return writeJSON(env.out, list)
			}
			return table(env.out, rows)
		},
	}
}

func statusNames() string {
	names := make([]string, len(gateway.Statuses))
	for i, s := range gateway.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ",")
}

func providerAttendance() providerCommand {
	var ref, status, date string
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&ref, "booking", "", "the provider's booking reference (required)")
			fs.StringVar(&status, "status", "", "COMPLETED, NO_SHOW or FAILED (required)")
			fs.StringVar(&date, "date", "", "completion date for COMPLETED: YYYY-MM-DD (default today at the venue)")
		},
		run: func(ctx context.Context, env providerEnv) error {
			if strings.TrimSpace(ref) == "" {
				return usageErrorf("--booking is required")
			}
			outcome, err := gateway.ParseOutcome(status)
			if err != nil {
				return usageErrorf("--%v", err)
			}
			var completion gateway.Date
			if outcome == gateway.Completed {
				if completion, err = completionDate(ctx, env, ref, date); err != nil {
					return err
				}
			} else if date != "" {
				return usageErrorf("--date is only for COMPLETED")
			}
			b, err := env.sys.RecordAttendance(ctx, ref, outcome, completion)
			if err != nil {
				return err
			}
			if b.CompletionDate != "" {
				fmt.Fprintf(env.out, "booking %s is %s on %s\n", b.Reference, b.Status, b.CompletionDate)
				return nil
			}
			fmt.Fprintf(env.out, "booking %s is %s\n", b.Reference, b.Status)
			return nil
		},
	}
}

// completionDate is --date, or today at the class's venue.
func completionDate(ctx context.Context, env providerEnv, ref, date string) (gateway.Date, error) {
	if date != "" {
		d, err := gateway.ParseDate(date)
		if err != nil {
			return "", usageErrorf("--date: %v", err)
		}
		return d, nil
	}
	b, err := env.sys.Booking(ctx, ref)
	if err != nil {
		return "", err
	}
	c, err := env.sys.Class(ctx, b.CourseID, b.ClassID)
	if err != nil {
		return "", err
	}
	return gateway.Date(time.Now().In(c.Zone()).Format(time.DateOnly)), nil
}

func providerReconcile() providerCommand {
	var dryRun bool
	var portal portalFlags
	return providerCommand{
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&dryRun, "dry-run", false, "report each difference and change nothing")
			portal.register(fs)
		},
		run: func(ctx context.Context, env providerEnv) error { return runReconcile(ctx, env, dryRun) },
	}
}

// portalFlags say how the gateway reaches the portal's course-provider API.
type portalFlags struct {
	baseURL, username, password string
	allowPrivate                bool
}

func (p *portalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.baseURL, "portal", "", "the portal's base URL, e.g. https://www.trainingportal.no/mintra (required)")
	fs.StringVar(&p.username, "username", "", "the provider's username at the portal (required)")
	fs.StringVar(&p.password, "password", "", "the provider's password at the portal (required)")
	fs.BoolVar(&p.allowPrivate, "allow-private-urls", false, "allow a portal on loopback or private addresses (local tests, the demo)")
}

// check requires the three settings and an http(s) portal URL.
func (p *portalFlags) check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"--portal", p.baseURL}, {"--username", p.username}, {"--password", p.password}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("%s required: the gateway confirms bookings and sends its catalogue to the portal", strings.Join(missing, ", "))
	}
	if _, err := p.client(); err != nil {
		return usageErrorf("--portal %q: %v", p.baseURL, err)
	}
	return nil
}

// client returns the SDK's client for the course-provider API under --portal; the
// base URL may name the portal (https://www.trainingportal.no/mintra) or the API itself
// (…/api/courseprovider/rest/).
func (p *portalFlags) client(opts ...tpclient.Option) (*tpclient.Client, error) {
	base := strings.TrimRight(strings.TrimSpace(p.baseURL), "/")
	if !strings.HasSuffix(base, "/api/courseprovider/rest") {
		base += "/api/courseprovider/rest"
	}
	return tpclient.New(base+"/", p.username, p.password, opts...)
}

// providerServeConfig is everything `tportal provider serve` is configured by.
type providerServeConfig struct {
	portal        portalFlags
	addr          string
	publicURL     string
	format        string
	secret        string
	maxSkew       time.Duration
	allowIPs      string
	proxyHeader   string
	trustedProxy  string
	logFormat     string
	logLevel      string
	shutdownGrace time.Duration
	sync          syncFlags // the background work: provider_sync.go
}

func (c *providerServeConfig) register(fs *flag.FlagSet) {
	c.portal.register(fs)
	fs.StringVar(&c.addr, "addr", ":8090", "address to listen on")
	fs.StringVar(&c.publicURL, "public-url", "", "the gateway's base URL as the portal reaches it, e.g. through a proxy (default http://ADDR)")
	fs.StringVar(&c.format, "format", "json", "answer format when the caller's Accept does not choose: json or xml")
	fs.StringVar(&c.secret, "secret", "", "shared secret: require calls signed by the portal with it")
	fs.DurationVar(&c.maxSkew, "max-skew", 5*time.Minute, "how old (or new) a signed call's timestamp may be")
	fs.StringVar(&c.allowIPs, "allow-ip", "", "admit calls only from these CIDRs or addresses, comma-separated")
	fs.StringVar(&c.proxyHeader, "proxy-header", "", "behind a reverse proxy: take the caller's address from this header (e.g. X-Forwarded-For)")
	fs.StringVar(&c.trustedProxy, "trusted-proxy", "", "CIDRs of the proxies trusted to set --proxy-header (default loopback)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 15*time.Second, "how long a shutdown waits for calls in flight")
	c.sync.register(fs)
}

// options checks the settings and turns them into the URLs' options.
func (c *providerServeConfig) options(logger *slog.Logger) (httpapi.Options, error) {
	o := httpapi.Options{Secret: []byte(c.secret), MaxSkew: c.maxSkew, Logger: logger}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return o, usageErrorf("--public-url %q: use the gateway's http(s) base URL, e.g. https://provider.example/tportal", c.publicURL)
		}
		// Behind a proxy that serves the gateway below a path, the URLs answer there too
		// and signatures are checked over the path the portal called.
		o.PathPrefix = u.EscapedPath()
	}
	switch c.format {
	case "json":
		o.Format = httpapi.JSON
	case "xml":
		o.Format = httpapi.XML
	default:
		return o, usageErrorf("--format %q: use json or xml", c.format)
	}
	if c.allowIPs != "" {
		f, err := httpapi.NewIPFilter([]string{c.allowIPs}, c.proxyHeader, []string{c.trustedProxy})
		if err != nil {
			return o, usageErrorf("--allow-ip: %v", err)
		}
		o.Filter = f
	} else if c.proxyHeader != "" || c.trustedProxy != "" {
		return o, usageErrorf("--proxy-header and --trusted-proxy only matter with --allow-ip")
	}
	return o, nil
}

// urls returns the reserve and cancel URLs for the portal's support team.
func (c *providerServeConfig) urls(listener net.Addr) (reserve, cancel string) {
	base := strings.TrimRight(c.publicURL, "/")
	if base == "" {
		host, port, _ := net.SplitHostPort(listener.String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			if h, err := os.Hostname(); err == nil && h != "" {
				host = h
			} else {
				host = "localhost"
			}
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	return base + httpapi.ReservePath, base + httpapi.CancelPath
}

func providerServe() providerCommand {
	var c providerServeConfig
	return providerCommand{
		flags: c.register,
		run: func(ctx context.Context, env providerEnv) error {
			return runGateway(ctx, env, c, func(addr net.Addr, reserve, cancel string) error {
				fmt.Fprintf(env.out, "provider gateway listening on %s (database: %s)\n", addr, env.db.Dialect())
				fmt.Fprintf(env.out, "Send these two URLs to the portal's support team:\n")
				fmt.Fprintf(env.out, "reserve URL: %s\n", reserve)
				fmt.Fprintf(env.out, "cancel URL: %s\n", cancel)
				return nil
			})
		},
	}
}

// runGateway runs a provider gateway configured by c on env's store until ctx is
// done: its URLs, its background work (confirmations, catalogue push, outcomes), then
// a graceful shutdown. ready is told the listener's address and the reserve and cancel
// URLs once the URLs answer and the background work runs; an error from it stops the
// gateway. `provider serve` and the demo both run the gateway through it.
func runGateway(ctx context.Context, env providerEnv, c providerServeConfig, ready func(addr net.Addr, reserve, cancel string) error) error {
	if err := c.portal.check(); err != nil {
		return err
	}
	logger, err := newLogger(env.stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	opts, err := c.options(logger)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	httpapi.New(env.sys, opts).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := env.db.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	graceful := server.Graceful(srv) // a client's unused connection does not hold up the shutdown
	reserve, cancel := c.urls(ln.Addr())
	logger.Info("provider gateway started", "addr", ln.Addr().String(), "portal", c.portal.baseURL,
		"signatures", len(opts.Secret) > 0, "ip_filter", opts.Filter != nil)
	// The background work (confirmations, catalogue push, outcomes): provider_sync.go.
	stopJobs, err := startGatewayJobs(ctx, env, c.portal, c.sync, logger, c.shutdownGrace)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopJobs()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	readyErr := ready(ln.Addr(), reserve, cancel)
	if readyErr == nil {
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		}
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), c.shutdownGrace)
	defer cancelShutdown()
	logger.Info("provider gateway stopping")
	if err := graceful(shutdown); err != nil {
		return err
	}
	return readyErr
}
