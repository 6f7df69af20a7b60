package providercall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The defaults of Options.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultConnectTimeout = 3 * time.Second
	DefaultMaxBodyBytes   = 64 << 10
	// MaxRedirects is how many redirects a call follows; each target is
	// checked by the SSRF guard like the first.
	MaxRedirects = 3
)

// UserAgent is sent with every call, so providers can tell the portal's calls
// apart in their logs and IP filters.
const UserAgent = "tportal/1"

const acceptHeader = "application/json, application/xml;q=0.9"

// Options configure a Client. The zero value is usable.
type Options struct {
	Timeout          time.Duration    // total per call, including redirects and reading the body; default 10s
	ConnectTimeout   time.Duration    // per TCP connection attempt; default 3s
	MaxBodyBytes     int64            // largest answer read; default 64 KiB
	AllowPrivateURLs bool             // allow loopback/private/link-local/metadata targets (demo, tests)
	Journal          Journal          // may be nil
	Metrics          *Metrics         // may be nil
	Now              func() time.Time // the clock for signatures and journal times; default time.Now
	Logger           *slog.Logger     // may be nil
}

// Client calls providers' reserve and cancel URLs. It is safe for concurrent
// use and should be shared, so connections to providers are reused.
type Client struct {
	o    Options
	http *http.Client
	log  *slog.Logger
}

// New returns a Client with o's defaults filled in.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialer := &net.Dialer{
		Timeout:   o.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Control:   dialControl(o.AllowPrivateURLs),
	}
	transport := &http.Transport{
		// No proxy from the environment: a proxy would make the dial-time
		// guard check the proxy's address instead of the provider's.
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: o.ConnectTimeout,
		// Keep as many idle connections to one provider as the portal makes
		// concurrent calls to it under load: with 4, sixteen concurrent bookings
		// opened a new TCP connection every ~4 calls and left the closed ones in
		// TIME_WAIT (docs/benchmarks.md).
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &Client{o: o, log: log}
	c.http = &http.Client{Transport: transport, CheckRedirect: c.checkRedirect}
	return c
}

// CallError is the error of a failed call. Reason is meant for people (it is
// the journal's Error) and has no package prefix.
type CallError struct {
	Kind            Kind
	Reason          string
	HTTPStatus      int    // 0 when there was no response
	ProviderMessage string // the errorMessage of a readable non-2xx answer
	// Refused is set when the SSRF guard refused the target or the URL is
	// invalid: retrying cannot help until the provider's URL is changed.
	Refused bool
	// Timeout is set when the provider did not answer in time.
	Timeout bool
	Err     error // the underlying error, if any
}

// Error implements error.
func (e *CallError) Error() string { return "providercall: " + string(e.Kind) + ": " + e.Reason }

// Unwrap returns the underlying error.
func (e *CallError) Unwrap() error { return e.Err }

// Reserve calls the provider's reserve URL (SPEC §3). The error is non-nil
// exactly when the call failed (no usable answer); it is then a *CallError,
// and the returned answer holds at most the provider's errorMessage, from a
// non-2xx answer for instance. A readable answer, successful or not, has a nil
// error.
//
// Every call that gets as far as choosing a URL is journaled and counted,
// including refused targets. An invalid request (no ExternalCourseClassID)
// returns an error before that: nothing was sent and nothing is journaled, as
// the fault is the portal's, not the provider's.
func (c *Client) Reserve(ctx context.Context, t Target, r ReserveRequest) (ReserveAnswer, error) {
	if r.ExternalCourseClassID == "" {
		return ReserveAnswer{}, errors.New("providercall: reserve needs an externalCourseClassId")
	}
	var ans ReserveAnswer
	// The parameters live on the stack: returned by reserveParams, which is too large
	// to inline, they were a heap allocation of 13 Params per call.
	var buf [reserveParamCount]Param
	params := appendReserveParams(buf[:0], r)
	cerr := c.call(ctx, KindReserve, t, t.ReserveURL, r.BookingReference, params, func(body []byte) (bool, string, error) {
		var err error
		ans, err = ParseReserveAnswer(body)
		return ans.Successful, ans.ErrorMessage, err
	})
	if cerr != nil {
		return ReserveAnswer{ErrorMessage: cerr.ProviderMessage}, cerr
	}
	return ans, nil
}

// Cancel calls the provider's cancel URL (SPEC §3) with bookingReference set
// to the provider's reference and trainingportalBookingReference to the
// portal's. Errors follow the rules of Reserve; a CancelRequest with neither
// reference is invalid.
func (c *Client) Cancel(ctx context.Context, t Target, r CancelRequest) (CancelAnswer, error) {
	if r.ProviderBookingReference == "" && r.BookingReference == "" {
		return CancelAnswer{}, errors.New("providercall: cancel needs a provider booking reference or a booking reference")
	}
	var ans CancelAnswer
	cerr := c.call(ctx, KindCancel, t, t.CancelURL, r.BookingReference, cancelParams(r), func(body []byte) (bool, string, error) {
		var err error
		ans, err = ParseCancelAnswer(body)
		return ans.Cancelled, ans.ErrorMessage, err
	})
	if cerr != nil {
		return CancelAnswer{ErrorMessage: cerr.ProviderMessage}, cerr
	}
	return ans, nil
}

// reserveParams lists a reserve call's parameters in the order they are
// appended, as the seed document lists them. The portal's reference is sent as
// trainingportalBookingReference: in the reserve answer and the cancel call
// "bookingReference" is the provider's. {bookingReference} stays a placeholder
// alias in reserve templates, where only the portal's reference exists, so that
// templates registered before the rename keep working.
func reserveParams(r ReserveRequest) []Param {
	return appendReserveParams(make([]Param, 0, reserveParamCount), r)
}

// reserveParamCount is how many parameters reserveParams lists.
const reserveParamCount = 13

// appendReserveParams appends reserveParams(r) to dst: into a caller's array, the
// parameters of a call need no allocation.
func appendReserveParams(dst []Param, r ReserveRequest) []Param {
	return append(dst,
		Param{Name: "externalCourseClassId", Value: r.ExternalCourseClassID},
		Param{Name: "externalCourseId", Value: r.ExternalCourseID},
		Param{Name: "trainingportalBookingReference", Value: r.BookingReference, Aliases: reserveReferenceAliases},
		Param{Name: "studentFirstName", Value: r.Student.FirstName},
		Param{Name: "studentLastName", Value: r.Student.LastName},
		Param{Name: "studentEmailAddress", Value: r.Student.Email},
		Param{Name: "studentPhoneNumber", Value: r.Student.Phone},
		Param{Name: "studentBirthDate", Value: r.StudentBirthDate},
		Param{Name: "enrollerFirstName", Value: r.Enroller.FirstName},
		Param{Name: "enrollerLastName", Value: r.Enroller.LastName},
		Param{Name: "enrollerEmailAddress", Value: r.Enroller.Email},
		Param{Name: "enrollerPhoneNumber", Value: r.Enroller.Phone},
		Param{Name: "company", Value: r.Company},
	)
}

// The aliases of the parameters, shared by every call: never modified.
var (
	reserveReferenceAliases = []string{"bookingReference"}
	cancelReferenceAliases  = []string{"providerBookingReference", "enrollmentReference"}
)

// cancelParams lists a cancel call's parameters. A placeholder named like a
// parameter takes that parameter's value, so in a cancel URL
// {bookingReference} is the provider's reference, as are
// {providerBookingReference} and {enrollmentReference} (the seed's word: "a URL
// ... with enrollmentReference as part of URL").
func cancelParams(r CancelRequest) []Param {
	return []Param{
		{Name: "bookingReference", Value: r.ProviderBookingReference, Aliases: cancelReferenceAliases},
		{Name: "trainingportalBookingReference", Value: r.BookingReference},
	}
}

// interpretFunc reads a 2xx answer: whether it was successful, its
// errorMessage, and whether it was readable at all.
type interpretFunc func(body []byte) (success bool, message string, err error)

// call makes one call and journals it. It returns nil or a *CallError.
func (c *Client) call(ctx context.Context, kind Kind, t Target, tmpl, bookingRef string, params []Param, interpret interpretFunc) *CallError {
	start := time.Now() // monotonic, whatever Options.Now says
	rec := Call{
		At:               c.o.Now(),
		ProviderID:       t.ProviderID,
		ProviderName:     t.ProviderName,
		Kind:             kind,
		BookingReference: bookingRef,
		Outcome:          OutcomeFailed,
	}
	cerr := c.do(ctx, kind, t, tmpl, params, nil, interpret, &rec)
	rec.Latency = time.Since(start)
	if cerr == nil {
		rec.Outcome = OutcomeAnswered
	} else {
		rec.Error = cerr.Reason
		rec.Success = false
	}
	c.record(ctx, rec)
	return cerr
}

// do makes the request; header holds extra headers to send (the test marker of a
// dry call), nil for none.
func (c *Client) do(ctx context.Context, kind Kind, t Target, tmpl string, params []Param, header http.Header, interpret interpretFunc, rec *Call) *CallError {
	fail := func(reason string, err error) *CallError {
		return &CallError{Kind: kind, Reason: reason, HTTPStatus: rec.HTTPStatus, Err: err}
	}
	refuse := func(err error) *CallError {
		cerr := fail(Reason(err), err)
		cerr.Refused = true
		return cerr
	}
	if tmpl == "" {
		return refuse(fmt.Errorf("providercall: the provider has no %s URL", kind))
	}
	rec.URL = redactString(tmpl) // until the real URL is known
	// The URL as expand parsed it serves the journal and the guard: parsing its text
	// again for each of them (and once more for the request) was a good share of a
	// call's allocations. Not the request's own URL, which drops an empty port
	// ("h:"), so that the journal records the URL's text exactly as before.
	u, err := expand(tmpl, params, true)
	if err != nil {
		return refuse(err)
	}
	raw := u.String()
	rec.URL = redactParsed(u)
	rec.RequestMethod, rec.RequestParams = http.MethodGet, RequestParams(params)
	if err := checkTarget(u, c.o.AllowPrivateURLs); err != nil {
		return refuse(err)
	}

	callCtx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	if len(t.Secret) > 0 {
		callCtx = context.WithValue(callCtx, secretKey{}, t.Secret)
	}
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, raw, nil)
	if err != nil {
		return refuse(err)
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", UserAgent)
	for name, values := range header {
		req.Header[name] = values
	}
	if len(t.Secret) > 0 {
		SignRequest(req, t.Secret, c.o.Now())
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(kind, ctx, callCtx, err)
	}
	defer resp.Body.Close()
	rec.HTTPStatus = resp.StatusCode
	rec.AnswerContentType = resp.Header.Get("Content-Type")

	limit := c.o.MaxBodyBytes
	if resp.ContentLength > limit {
		return fail("answer larger than "+formatBytes(limit), nil)
	}
	// Read one byte more than allowed, to tell "exactly the limit" from "over".
	body, err := readBody(io.LimitReader(resp.Body, limit+1), resp.ContentLength)
	if err != nil {
		if cerr := c.deadlineError(kind, ctx, callCtx, err); cerr != nil {
			cerr.HTTPStatus = rec.HTTPStatus
			return cerr
		}
		return fail("provider broke off its answer: "+unwrapURLError(err).Error(), err)
	}
	rec.AnswerBody, rec.AnswerTruncated = answerExcerpt(body)
	if int64(len(body)) > limit {
		return fail("answer larger than "+formatBytes(limit), nil)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := fmt.Sprintf("provider answered HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		msg := providerMessage(body)
		if msg != "" {
			reason += fmt.Sprintf(": %q", excerpt([]byte(msg), 300))
		}
		cerr := fail(reason, nil)
		cerr.ProviderMessage = msg
		return cerr
	}
	success, msg, err := interpret(body)
	if err != nil {
		cerr := fail(Reason(err), err)
		cerr.ProviderMessage = msg
		return cerr
	}
	rec.Success = success
	return nil
}

// readBody reads r to its end, like io.ReadAll, into a buffer of the announced
// length (-1: unknown) and one byte more to meet the end in: io.ReadAll's 512 bytes
// and list of chunks were a call's largest allocation after the HTTP exchange's own.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length < 0 || length > DefaultMaxBodyBytes {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // more than announced: grow
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// secretKey carries a call's secret to checkRedirect through the request's
// context, as the http.Client is shared by all providers.
type secretKey struct{}

// redirectError is returned by checkRedirect.
type redirectError struct {
	reason  string
	refused bool
}

func (e *redirectError) Error() string { return "providercall: " + e.reason }

// checkRedirect follows at most MaxRedirects redirects, puts each target
// through the SSRF guard, and keeps the signature valid: re-signed for the
// new path on the same host, removed for another host, which has no business
// with it.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return &redirectError{reason: fmt.Sprintf("provider redirected more than %d times", MaxRedirects)}
	}
	if err := checkTarget(req.URL, c.o.AllowPrivateURLs); err != nil {
		return &redirectError{reason: "provider redirected to a refused URL: " + Reason(err), refused: true}
	}
	if secret, ok := req.Context().Value(secretKey{}).([]byte); ok {
		if req.URL.Host == via[0].URL.Host {
			SignRequest(req, secret, c.o.Now())
		} else {
			req.Header.Del(TimestampHeader)
			req.Header.Del(SignatureHeader)
		}
	}
	return nil
}

// deadlineError explains an error caused by a context: the portal's own
// cancellation, or this call's timeout. It returns nil for other errors.
func (c *Client) deadlineError(kind Kind, parent, callCtx context.Context, err error) *CallError {
	switch {
	case parent.Err() != nil:
		reason := "call abandoned: the portal cancelled it"
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			reason = "no answer before the portal's deadline"
		}
		return &CallError{Kind: kind, Reason: reason, Timeout: true, Err: err}
	case errors.Is(callCtx.Err(), context.DeadlineExceeded):
		return &CallError{Kind: kind, Reason: "no answer within " + c.o.Timeout.String(), Timeout: true, Err: err}
	}
	return nil
}

// transportError turns an error from http.Client.Do into a reason a person
// can act on.
func (c *Client) transportError(kind Kind, parent, callCtx context.Context, err error) *CallError {
	cerr := &CallError{Kind: kind, Err: err}
	var (
		refused  *RefusedError
		redirect *redirectError
		dnsErr   *net.DNSError
		opErr    *net.OpError
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &refused):
		cerr.Reason, cerr.Refused = refused.reason(), true
	case errors.As(err, &redirect):
		cerr.Reason, cerr.Refused = redirect.reason, redirect.refused
	default:
		if d := c.deadlineError(kind, parent, callCtx, err); d != nil {
			return d
		}
		switch {
		case errors.As(err, &dnsErr):
			cerr.Reason = "could not resolve host " + dnsErr.Name
			if dnsErr.IsNotFound {
				cerr.Reason += ": no such host"
			} else if dnsErr.Err != "" {
				cerr.Reason += ": " + dnsErr.Err
			}
		case errors.As(err, &opErr) && opErr.Op == "dial":
			addr := "the provider"
			if opErr.Addr != nil {
				addr = opErr.Addr.String()
			}
			switch {
			case opErr.Timeout():
				cerr.Reason, cerr.Timeout = "could not connect to "+addr+" within "+c.o.ConnectTimeout.String(), true
			case errors.Is(err, syscall.ECONNREFUSED):
				cerr.Reason = "could not connect to " + addr + ": connection refused"
			default:
				cerr.Reason = "could not connect to " + addr + ": " + innermost(opErr.Err).Error()
			}
		case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
			cerr.Reason = "provider's TLS certificate is not accepted: " + innermost(err).Error()
		case errors.As(err, &record):
			cerr.Reason = "provider does not speak TLS at this address (is the URL http rather than https?)"
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			cerr.Reason = "provider closed the connection without answering"
		default:
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				cerr.Reason, cerr.Timeout = "no answer: "+unwrapURLError(err).Error(), true
			} else {
				cerr.Reason = "request failed: " + unwrapURLError(err).Error()
			}
		}
	}
	return cerr
}

// innermost returns the deepest error of a chain of single wraps, whose text
// is the cause without repeated context ("dial tcp ...: connect: ...").
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Reason returns an error of this package as text for people, without the
// "providercall: " prefix: for an admin form showing why CheckURL refused a
// URL, or a booking page showing why a call failed.
func Reason(err error) string {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	var ae *AnswerError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	var re *RefusedError
	if errors.As(err, &re) {
		return re.reason()
	}
	s, _ := strings.CutPrefix(err.Error(), "providercall: ")
	return s
}

// formatBytes writes a size the way people say it: 64 KiB, 1 MiB, 1000 bytes.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// record writes a call to the journal, the log and the metrics. A journal
// failure is logged and otherwise ignored: the call itself happened, and its
// answer matters more to the booking than its journal entry.
func (c *Client) record(ctx context.Context, rec Call) {
	c.o.Metrics.observe(rec)
	level := slog.LevelInfo
	if rec.Outcome == OutcomeFailed {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.Int64("provider_id", rec.ProviderID),
		slog.String("provider", rec.ProviderName),
		slog.String("kind", string(rec.Kind)),
		slog.String("url", rec.URL),
		slog.String("booking_reference", rec.BookingReference),
		slog.Int("status", rec.HTTPStatus),
		slog.Duration("latency", rec.Latency),
		slog.String("outcome", string(rec.Outcome)),
		slog.Bool("success", rec.Success),
	}
	if rec.Error != "" {
		attrs = append(attrs, slog.String("error", rec.Error))
	}
	c.log.LogAttrs(ctx, level, "provider call", attrs...)
	if c.o.Journal == nil {
		return
	}
	if d, ok := ctx.Value(deferredKey{}).(*deferred); ok {
		d.calls = append(d.calls, rec) // written by whoever deferred it, with the answer
		return
	}
	// The journal entry is written even when the caller has given up.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.o.Journal.RecordCall(jctx, rec); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "provider call not journaled",
			slog.Int64("provider_id", rec.ProviderID), slog.String("kind", string(rec.Kind)),
			slog.String("booking_reference", rec.BookingReference), slog.String("error", err.Error()))
	}
}

// deferredKey marks a context whose calls are journaled by the caller (deferJournal).
type deferredKey struct{}

// deferred collects the journal entries of the calls made with a context.
type deferred struct{ calls []Call }

// deferJournal returns a context whose calls are not written to the journal but
// collected in the returned deferred, so that the caller can write them in the same
// transaction as what it does with the answer: one commit instead of two per booking.
func deferJournal(ctx context.Context) (context.Context, *deferred) {
	d := &deferred{}
	return context.WithValue(ctx, deferredKey{}, d), d
}
