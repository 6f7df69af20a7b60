package tpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the course-provider API v1 with one provider's credentials. It is safe
// for concurrent use.
type Client struct {
	base      *url.URL
	username  string
	password  string
	http      *http.Client
	xml       bool
	retries   int
	userAgent string
	backoff   time.Duration // the first retry's wait ceiling
	maxWait   time.Duration // the ceiling of any wait, Retry-After included
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (for its transport, proxy or TLS settings). Its
// timeout, if any, applies to each attempt; the context bounds the whole call.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithXML asks for XML answers (Accept: application/xml) instead of JSON.
func WithXML() Option { return func(c *Client) { c.xml = true } }

// WithRetries sets how many times a call is retried where repeating is safe
// (default 3; 0 disables retries).
func WithRetries(n int) Option {
	return func(c *Client) { c.retries = max(n, 0) }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithBackoff sets the wait before the first retry (it doubles with each retry, with
// full jitter) and the most any one wait may last, a server's Retry-After included.
// The defaults are 250 ms and 30 s.
func WithBackoff(first, ceiling time.Duration) Option {
	return func(c *Client) { c.backoff, c.maxWait = first, ceiling }
}

// defaultHTTP is the HTTP client of Clients made without WithHTTPClient, shared so
// that they share connections. http.DefaultTransport keeps only two idle connections
// per host, so a program making more concurrent calls than that to the portal (the
// gateway's confirm jobs, for instance) would open a new TCP connection for most
// calls and leave the old ones in TIME_WAIT.
var defaultHTTP = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 100, 32
	return t
}()}

// DefaultUserAgent is the User-Agent sent unless WithUserAgent sets another.
const DefaultUserAgent = "tportal-tpclient/1"

// maxAnswerBytes bounds an answer the client reads.
const maxAnswerBytes = 32 << 20

// New returns a client for the API at baseURL, such as
// "https://www.trainingportal.no/mintra/api/courseprovider/rest/" or
// "http://localhost:8080/api/courseprovider/rest/" (the trailing slash is optional).
func New(baseURL, username, password string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("tpclient: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("tpclient: base URL %q: must be an absolute http or https URL", baseURL)
	}
	if u.User != nil {
		return nil, errors.New("tpclient: base URL must not contain credentials; pass them to New")
	}
	if username == "" || password == "" {
		return nil, errors.New("tpclient: username and password are required")
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	c := &Client{
		base: u, username: username, password: password,
		http: defaultHTTP, retries: 3, userAgent: DefaultUserAgent,
		backoff: 250 * time.Millisecond, maxWait: 30 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// repeat says when a call may be sent again.
type repeat int

const (
	// repeatSafe: the call may be repeated after any transient failure.
	repeatSafe repeat = iota
	// repeatSafeOrPending: also after a 404 with Retry-After (a booking still pending).
	repeatSafeOrPending
	// repeatUnsent: only when the server cannot have acted on it (429, never sent).
	repeatUnsent
)

// call is one API method's request.
type call struct {
	name        string   // the documented method name, for errors
	path        []string // path segments under v1/, escaped one by one
	form        url.Values
	body        []byte // a prepared body (multipart); form is used when nil
	contentType string
	repeat      repeat
}

// do sends the call, retrying where its repeat rule allows, and returns the parsed
// answer of a 2xx status.
func (c *Client) do(ctx context.Context, cl call) (*node, error) {
	target := c.endpoint(cl.path)
	body, contentType := cl.body, cl.contentType
	if body == nil {
		form := url.Values{}
		for k, vs := range cl.form {
			form[k] = vs
		}
		form.Set("username", c.username)
		form.Set("password", c.password)
		body, contentType = []byte(form.Encode()), "application/x-www-form-urlencoded"
	}
	for attempt := 0; ; attempt++ {
		n, retryAfter, retry, err := c.attempt(ctx, cl, target, body, contentType)
		if err == nil {
			return n, nil
		}
		if !retry || attempt >= c.retries {
			return nil, err
		}
		if werr := c.wait(ctx, attempt, retryAfter); werr != nil {
			return nil, errors.Join(err, werr)
		}
	}
}

// endpoint is the URL of the method at path under v1/.
func (c *Client) endpoint(path []string) string {
	escaped := make([]string, len(path))
	for i, p := range path {
		escaped[i] = url.PathEscape(p)
	}
	u := *c.base
	u.RawPath = ""
	return u.String() + "v1/" + strings.Join(escaped, "/")
}

// attempt sends the request once. retry reports whether the failure may be retried.
func (c *Client) attempt(ctx context.Context, cl call, target string, body []byte, contentType string) (n *node, retryAfter time.Duration, retry bool, err error) {
	var wrote bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote = true }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, 0, false, fmt.Errorf("tpclient: %s: %w", cl.name, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.userAgent)
	if c.xml {
		req.Header.Set("Accept", "application/xml")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, false, fmt.Errorf("tpclient: %s: %w", cl.name, ctx.Err())
		}
		// Not sent at all: safe to repeat any call. Sent: only calls safe to repeat.
		return nil, 0, !wrote || cl.repeat != repeatUnsent, fmt.Errorf("tpclient: %s: %w", cl.name, redact(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, 0, cl.repeat != repeatUnsent, fmt.Errorf("tpclient: %s: reading the answer: %w", cl.name, redact(err))
	}
	if len(raw) > maxAnswerBytes {
		return nil, 0, false, fmt.Errorf("tpclient: %s: answer larger than %d bytes: %w", cl.name, maxAnswerBytes, ErrUnexpected)
	}
	retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	if res.StatusCode < 200 || res.StatusCode > 299 {
		apiErr := &APIError{Method: cl.name, StatusCode: res.StatusCode, Message: errorMessage(raw, res.StatusCode), RetryAfter: retryAfter}
		return nil, retryAfter, retryable(cl.repeat, res.StatusCode, retryAfter), apiErr
	}
	n, err = parse(raw)
	if err != nil {
		return nil, 0, false, fmt.Errorf("tpclient: %s: %v: %w", cl.name, err, ErrUnexpected)
	}
	return n, 0, false, nil
}

// retryable reports whether an answer with status may be retried under rule.
func retryable(rule repeat, status int, retryAfter time.Duration) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true // refused before it was acted on
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return rule != repeatUnsent
	case http.StatusNotFound:
		return rule == repeatSafeOrPending && retryAfter > 0
	}
	return false
}

// errorMessage returns the server's errorMessage, or the status text when the answer
// has none (an HTML error page from a proxy, say), never the raw body.
func errorMessage(raw []byte, status int) string {
	if n, err := parse(raw); err == nil {
		if msg := n.str("errorMessage", "errorMesssage", "message"); msg != "" {
			return msg
		}
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "status " + strconv.Itoa(status)
}

// wait sleeps before retry number attempt+1: the server's Retry-After when it gave
// one, else exponential backoff with full jitter; both capped by maxWait.
func (c *Client) wait(ctx context.Context, attempt int, retryAfter time.Duration) error {
	d := retryAfter
	if d <= 0 {
		ceiling := c.backoff << min(attempt, 30)
		if ceiling <= 0 || ceiling > c.maxWait {
			ceiling = c.maxWait
		}
		if ceiling > 0 {
			d = rand.N(ceiling + 1)
		}
	}
	d = min(d, c.maxWait)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redact drops the query string from a *url.Error's URL. The client never puts
// credentials in a URL, but a redirect target might carry anything.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User = "", nil
			ue.URL = u.String()
		}
	}
	return err
}
