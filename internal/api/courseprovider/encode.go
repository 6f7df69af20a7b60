package courseprovider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tportal/tportal/internal/errs"
)

// wantsXML reports whether the caller asked for XML: Accept names application/xml or
// text/xml and does not prefer JSON. JSON is the default, as documented.
func wantsXML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return false
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			var err error
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				q = 0
			}
		}
		switch mt {
		case "application/xml", "text/xml", "application/json":
			if q > bestQ {
				best, bestQ = mt, q
			}
		}
	}
	return best == "application/xml" || best == "text/xml"
}

// write sends v as JSON or XML with the status.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	if raw, ok := v.(rawBody); ok {
		w.Header().Set("Content-Type", raw.contentType)
		w.WriteHeader(status)
		_, _ = w.Write(raw.body)
		return
	}
	asXML := wantsXML(r)
	w.Header().Set("Content-Type", contentType(asXML))
	w.WriteHeader(status)
	if err := encode(w, v, asXML); err != nil {
		slog.ErrorContext(r.Context(), "encode", "xml", asXML, "err", err)
	}
}

func contentType(asXML bool) string {
	if asXML {
		return "application/xml; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// encode writes v to w as JSON or XML, as the API writes every body.
func encode(w io.Writer, v any, asXML bool) error {
	lb, isList := v.(listBody)
	if asXML {
		if isList {
			v = lb.xml
		}
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		return xml.NewEncoder(w).Encode(v)
	}
	if isList {
		v = lb.json
	}
	return json.NewEncoder(w).Encode(v)
}

// rawBody is an answer already encoded, written as it is.
type rawBody struct {
	contentType string
	body        []byte
}

// encoded returns v encoded as write would send it, into a buffer of about sizeHint
// bytes (0: unknown).
func encoded(v any, asXML bool, sizeHint int) (rawBody, error) {
	buf := bytes.NewBuffer(make([]byte, 0, sizeHint))
	if err := encode(buf, v, asXML); err != nil {
		return rawBody{}, errs.Wrap(err, "encode answer")
	}
	return rawBody{contentType: contentType(asXML), body: fitted(buf.Bytes())}, nil
}

// fitted is b, copied into a buffer of its own length if b's spare capacity is more
// than a quarter of it: a cached answer should not keep a grown buffer's slack.
func fitted(b []byte) []byte {
	if cap(b)-len(b) > len(b)/4 {
		return bytes.Clone(b)
	}
	return b
}

// maxCachedBytes bounds the bodies each answerCache keeps: beyond it, the answers used
// longest ago are dropped (a dropped answer costs its next call a rebuild). Each
// answer is about 470 bytes per class in JSON, so 16 MiB holds some 35 000 classes.
const maxCachedBytes = 16 << 20

// answerCache keeps the latest encoded answer per key (a course or a provider) and
// format, with the version it was built at, within maxCachedBytes (limit in tests).
// Callers that miss the same key at the same version at once share one build: after a
// write to a course with 2000 classes, 64 concurrent readers would otherwise each
// read the classes and hold their own copy of them and of the answer, some 3 MB each
// (docs/benchmarks.md, "Peak memory at c = 64").
type answerCache struct {
	m     sync.Map     // answerKey -> *cachedAnswer
	limit int64        // bytes; 0 is maxCachedBytes
	clock atomic.Int64 // ticks on every hit, to order answers by last use

	mu      sync.Mutex            // guards what follows; held for puts and evictions, not gets
	size    int64                 // the cached bodies' bytes
	flights map[flightKey]*flight // builds in progress
}

type answerKey struct {
	id  int64
	xml bool
}

type cachedAnswer struct {
	version int64
	body    rawBody
	used    atomic.Int64 // the cache's clock at the latest hit
}

// flightKey is a build in progress: a key at a version.
type flightKey struct {
	answerKey
	version int64
}

// flight is a build that callers wait for; body and err are set before done closes.
type flight struct {
	done chan struct{}
	body rawBody
	err  error
}

// get returns the answer cached for the key at exactly this version.
func (c *answerCache) get(id int64, asXML bool, version int64) (rawBody, bool) {
	v, ok := c.m.Load(answerKey{id, asXML})
	if !ok {
		return rawBody{}, false
	}
	a := v.(*cachedAnswer)
	if a.version != version {
		return rawBody{}, false
	}
	a.used.Store(c.clock.Add(1))
	return a.body, true
}

// answer returns the key's answer at version: the cached one, or the one build (a
// call of build) that every caller missing it at the same time waits for. build gets
// the length of the key's previous answer (0 if none), a good guess at the new one's,
// and a context that the caller leaving does not cancel, since others may wait on it;
// a waiter stops waiting when its own ctx ends.
func (c *answerCache) answer(ctx context.Context, id int64, asXML bool, version int64,
	build func(ctx context.Context, sizeHint int) (rawBody, error)) (rawBody, error) {
	if body, ok := c.get(id, asXML, version); ok {
		return body, nil
	}
	key := answerKey{id, asXML}
	fk := flightKey{key, version}
	c.mu.Lock()
	if f, ok := c.flights[fk]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.body, f.err
		case <-ctx.Done():
			return rawBody{}, errs.Wrap(ctx.Err(), "wait for the answer")
		}
	}
	// The build that was in flight may have ended between the get and the lock.
	if body, ok := c.get(id, asXML, version); ok {
		c.mu.Unlock()
		return body, nil
	}
	f := &flight{done: make(chan struct{})}
	if c.flights == nil {
		c.flights = map[flightKey]*flight{}
	}
	c.flights[fk] = f
	hint := 0
	if v, ok := c.m.Load(key); ok {
		hint = len(v.(*cachedAnswer).body.body)
	}
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		if f.err == nil {
			c.putLocked(key, version, f.body)
		}
		delete(c.flights, fk)
		c.mu.Unlock()
		close(f.done)
	}()
	f.err = errs.E(errs.Internal, "the answer's build panicked") // replaced unless build panics
	f.body, f.err = build(context.WithoutCancel(ctx), hint)
	return f.body, f.err
}

// putLocked caches body as the key's answer at version and drops the answers used
// longest ago while the cache is over its limit (never the new one, which may alone
// exceed it). Two builds of different versions may end in either order: an older
// version only costs the next call a rebuild.
func (c *answerCache) putLocked(key answerKey, version int64, body rawBody) {
	a := &cachedAnswer{version: version, body: body}
	a.used.Store(c.clock.Add(1))
	if old, loaded := c.m.Swap(key, a); loaded {
		c.size -= int64(len(old.(*cachedAnswer).body.body))
	}
	c.size += int64(len(body.body))
	limit := c.limit
	if limit == 0 {
		limit = maxCachedBytes
	}
	if c.size <= limit {
		return
	}
	type entry struct {
		key  answerKey
		a    *cachedAnswer
		used int64
	}
	var all []entry
	c.m.Range(func(k, v any) bool {
		if k.(answerKey) != key {
			all = append(all, entry{k.(answerKey), v.(*cachedAnswer), v.(*cachedAnswer).used.Load()})
		}
		return true
	})
	slices.SortFunc(all, func(x, y entry) int { return cmp.Compare(x.used, y.used) })
	for _, e := range all {
		if c.size <= limit {
			break
		}
		if c.m.CompareAndDelete(e.key, e.a) {
			c.size -= int64(len(e.a.body.body))
		}
	}
}

// errorBody is the documented error shape. It also carries the status message's
// flag, false, in both spellings (see statusMessage), so a client that reads only the
// flag sees the failure.
type errorBody struct {
	XMLName      xml.Name `json:"-" xml:"error"`
	Successful   bool     `json:"successful" xml:"successful"`
	Sucessful    bool     `json:"sucessful" xml:"sucessful"`
	ErrorMessage string   `json:"errorMessage" xml:"errorMessage"`
}

// statusMessage is the documented body of restore, cancel, booking update and upload.
// The public docs spell the flag successful in their tables and sucessful in their
// examples, and providers have coded to both: it is answered in both spellings.
type statusMessage struct {
	XMLName      xml.Name `json:"-" xml:"statusMessage"`
	Successful   bool     `json:"successful" xml:"successful"`
	Sucessful    bool     `json:"sucessful" xml:"sucessful"`
	ErrorMessage string   `json:"errorMessage" xml:"errorMessage"`
	DocumentID   string   `json:"documentId,omitempty" xml:"documentId,omitempty"`
}

// succeeded is the status message of a method that did what it was asked, with the
// id of the stored document for an upload ("" otherwise).
func succeeded(documentID string) statusMessage {
	return statusMessage{Successful: true, Sucessful: true, DocumentID: documentID}
}

// writeError sends err in the documented error shape with the status of the one
// errs table. Internal errors are logged with their cause and shown only generically.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := errs.HTTPStatus(err)
	switch errs.CodeOf(err) {
	case errs.Internal:
		slog.ErrorContext(r.Context(), "internal error", "route", r.Pattern, "err", err)
	case errs.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="tportal course-provider API", charset="UTF-8"`)
	case errs.RateLimited:
		w.Header().Set("Retry-After", "10")
	case errs.Unavailable:
		w.Header().Set("Retry-After", "1")
	}
	write(w, r, status, errorBody{ErrorMessage: errs.MessageOf(err)})
}
