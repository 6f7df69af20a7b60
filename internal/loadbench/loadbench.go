// Package loadbench is the load benchmark anyone can run (go run ./cmd/loadbench): it
// builds tportal and the ceiling server (internal/loadbench/ceiling), starts them as
// separate processes over TCP, seeds tportal through its own admin commands and API,
// and drives each with vegeta at a fixed concurrency, interleaving rounds (ceiling,
// tportal on SQLite, tportal on PostgreSQL) and reporting medians. See
// docs/benchmarks.md, "Load benchmark (over TCP)".
package loadbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Config is what to measure.
type Config struct {
	Duration    time.Duration // per path, per server, per round
	Rounds      int
	Concurrency int
	// Paths limits the run to these path names (see PathNames); empty means all.
	Paths []string
	// Postgres is a PostgreSQL server URL on which each run creates, and afterwards
	// drops, a fresh database; empty skips the PostgreSQL rows.
	Postgres string
	// IdleClasses and IdleTime: when IdleTime > 0, a fresh tportal per database gets
	// IdleClasses classes and its CPU is measured over IdleTime with no requests.
	IdleClasses int
	IdleTime    time.Duration
	// Progress receives a line per step; nil discards them.
	Progress io.Writer
	// ProfileDir, when set, receives a CPU profile of tportal (from its --debug-addr)
	// over each attack, SERVER-PATH-rROUND.pprof, and a heap profile taken when the
	// attack ends, SERVER-PATH-rROUND.heap.pprof, for `go tool pprof`.
	ProfileDir string
}

// Servers, in the order each round measures them.
const (
	Ceiling  = "ceiling"
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Measure is one path on one server: medians over the rounds.
type Measure struct {
	Rate     float64       // successful requests per second
	P50, P99 time.Duration // latency seen by the client
	CPU      time.Duration // server CPU (user + system) per request
	Requests uint64        // over all rounds
	Failed   uint64        // requests with an unexpected status or a transport error, over all rounds
	Errors   []string      // a few distinct failures
	// MachineCPU is every core's busy time per request, whoever spent it (load
	// generator, provider, database, kernel, server); DatabaseCPU the part of it
	// PostgreSQL's processes spent; Busy the share of the machine's cores busy over
	// the attack.
	MachineCPU, DatabaseCPU time.Duration
	Busy                    float64
}

// Row is one path's measures, by server.
type Row struct {
	Path  string
	Label string
	// Rate is the requests per second offered (0: each connection sends its next
	// request when answered); the share of the ceiling then says nothing.
	Rate int
	By   map[string]*Measure
}

// Idle is tportal's CPU with no requests.
type Idle struct {
	Server  string
	Classes int
	Over    time.Duration
	CPU     time.Duration
}

// Result is a run's table and what it ran on.
type Result struct {
	Config  Config
	Servers []string         // measured servers, in order
	Rows    []Row            // in PathNames order
	PeakRSS map[string]int64 // bytes, by server, over the whole run (seeding included)
	// SeedRSS and LoadRSS split PeakRSS (bytes, by server): the peak until the end of
	// the seeding, and from then to the end of the run, what the measured requests
	// needed. Empty if the peak could not be reset.
	SeedRSS, LoadRSS map[string]int64
	Machine          Machine
	Mismatch         []string // answers in which tportal's bytes differ from the ceiling's
	Idle             []Idle
}

// Failed is the number of failed requests over every row.
func (r *Result) Failed() uint64 {
	var n uint64
	for _, row := range r.Rows {
		for _, m := range row.By {
			n += m.Failed
		}
	}
	return n
}

// path is a measured request.
type path struct {
	name, label string
	want        int // the expected status; any other is a failure
	// rate, when > 0, offers this many requests per second whatever the answers'
	// pace (open loop, up to Concurrency at once) instead of a new request per
	// answer: the latency then shows what a server adds at that load, not its queue
	// at saturation.
	rate     int
	targeter func(t *target) vegeta.Targeter
	before   func(ctx context.Context, t *target) error // run before each attack, not measured
}

func formTarget(t *target, p string, form func() url.Values) vegeta.Targeter {
	u := t.cpURL(p)
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return func(tg *vegeta.Target) error {
		tg.Method, tg.URL, tg.Header = http.MethodPost, u, hdr
		tg.Body = []byte(t.creds(form()).Encode())
		return nil
	}
}

func paths(start time.Time) []path {
	ps := []path{{
		name: "getCourses", label: "getCourses", want: 200,
		targeter: func(t *target) vegeta.Targeter {
			return formTarget(t, "", func() url.Values { return nil })
		},
	}}
	for _, n := range classCourses {
		ext := "C" + strconv.Itoa(n)
		ps = append(ps, path{
			name: "getCourseClasses" + strconv.Itoa(n), label: classesLabel(n), want: 200,
			targeter: func(t *target) vegeta.Targeter {
				return formTarget(t, "/"+ext+"/courseClasses", func() url.Values { return nil })
			},
		})
	}
	ps = append(ps, path{
		name: "classes", label: "`/api/v1/classes?course=` (20 classes)", want: 200,
		targeter: func(t *target) vegeta.Targeter {
			u := t.proc.base + "/api/v1/classes?course=" + strconv.FormatInt(t.courseID["C20"], 10)
			hdr := http.Header{"Authorization": {"Bearer " + t.token}}
			return func(tg *vegeta.Target) error {
				tg.Method, tg.URL, tg.Header, tg.Body = http.MethodGet, u, hdr, nil
				return nil
			}
		},
	}, path{
		name: "addClass", label: "addClass", want: 200,
		targeter: func(t *target) vegeta.Targeter {
			return formTarget(t, "/ADD/courseClasses/add", func() url.Values {
				return classForm(fmt.Sprintf("A%09d", t.addSeq.Add(1)), 12, start)
			})
		},
	}, path{
		name: "updateClass", label: "updateClass (seats)", want: 200,
		targeter: func(t *target) vegeta.Targeter {
			return formTarget(t, "/UPD/courseClasses/update", func() url.Values {
				i := t.updSeq.Add(1)
				return url.Values{"externalId": {seedClassID("UPD", int(i%updClasses))}, "availableSeats": {strconv.FormatInt(i%40, 10)}}
			})
		},
	}, bookingPath("bookings", "POST /api/v1/bookings (instant provider)", 0),
		bookingPath("bookingsPaced", fmt.Sprintf("POST /api/v1/bookings, %d/s offered (latency)", pacedBookingRate), pacedBookingRate))
	return ps
}

// pacedBookingRate is the bookings per second the bookingsPaced path offers: well below
// what either database sustains on the reference machine (~1 200–1 800/s), so that its
// latency is what a booking takes, not the time spent queueing at saturation, where
// the latency of a closed loop is its concurrency divided by its rate.
const pacedBookingRate = 200

// bookingPath books the seeded booking class, whose seats are set again before each
// attack, as fast as answered (rate 0) or at rate per second.
func bookingPath(name, label string, rate int) path {
	return path{
		name: name, label: label, want: 201, rate: rate,
		before: func(ctx context.Context, t *target) error {
			_, err := t.post(ctx, "/BOOK/courseClasses/update", url.Values{
				"externalId": {seedClassID("BOOK", 0)}, "availableSeats": {strconv.Itoa(bookSeats)}})
			return err
		},
		targeter: func(t *target) vegeta.Targeter {
			u := t.proc.base + "/api/v1/bookings"
			hdr := http.Header{"Authorization": {"Bearer " + t.token}, "Content-Type": {"application/json"}}
			body := bookingBody(t.bookID)
			return func(tg *vegeta.Target) error {
				tg.Method, tg.URL, tg.Header, tg.Body = http.MethodPost, u, hdr, body
				return nil
			}
		},
	}
}

func classesLabel(n int) string {
	if n == 1 {
		return "getCourseClasses, 1 class"
	}
	return fmt.Sprintf("getCourseClasses, %d classes", n)
}

func bookingBody(classID int64) []byte {
	return []byte(`{"classId": ` + strconv.FormatInt(classID, 10) + `,
 "student": {"firstName": "Kari", "lastName": "Nordmann", "email": "kari@example.no", "phone": "+47 912 34 567", "birthDate": "1990-04-12"},
 "enroller": {"firstName": "Ola", "lastName": "Hansen", "email": "ola@acme-industri.no", "phone": "+47 22 33 44 55"},
 "company": "Acme Industri AS", "commentOnEnrollment": "Vegetarian lunch", "purchaseOrderNumber": "PO-4711"}`)
}

// PathNames are the measured paths, in the table's order.
func PathNames() []string {
	var names []string
	for _, p := range paths(time.Now()) {
		names = append(names, p.name)
	}
	return names
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "loadbench %s: "+format+"\n", append([]any{time.Now().Format("15:04:05.0")}, args...)...)
	}
}

// instantProvider is a provider's reserve and cancel URLs that answer at once.
func instantProvider() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reserve", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d","errorMessage":""}`, n.Add(1))
	})
	mux.HandleFunc("GET /cancel", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"cancelled":true,"errorMessage":""}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// run holds a run's servers and what must be undone at the end.
type run struct {
	cfg      Config
	dir      string
	tportal  string
	ceiling  string
	provider string
	start    time.Time // the seeded classes' start date
	cleanups []func()
}

func (r *run) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func newClient(c int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConns: c + 4, MaxIdleConnsPerHost: c + 4}}
}

// startTportal starts tportal serve on a fresh database (SQLite in the run's folder,
// or a new PostgreSQL database), seeded with the provider, courses and a token.
func (r *run) startTportal(ctx context.Context, name string, courses []seedCourse) (*target, error) {
	data := filepath.Join(r.dir, name+"-"+randomSuffix())
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	db := "sqlite:" + filepath.Join(data, "tportal.db")
	if name == Postgres || strings.HasPrefix(name, Postgres+"-") {
		u, drop, err := pgDatabase(ctx, r.cfg.Postgres, "loadbench_"+randomSuffix())
		if err != nil {
			return nil, err
		}
		db = u
		r.cleanups = append(r.cleanups, drop)
	}
	t := &target{name: name, client: newClient(r.cfg.Concurrency)}
	if err := seedAdmin(ctx, t, r.tportal, db, data, r.provider+"/reserve", r.provider+"/cancel", courses); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--db", db, "--data", data, "--allow-private-urls"}
	if r.cfg.ProfileDir != "" {
		debug, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, "--debug-addr", debug)
		t.debug = "http://" + debug
	}
	p, err := start(r.dir, "tportal-"+name, r.tportal, args...)
	if err != nil {
		return nil, err
	}
	p.base = "http://" + addr
	t.proc = p
	r.cleanups = append(r.cleanups, p.stop)
	if err := waitHealthy(ctx, p); err != nil {
		return nil, err
	}
	return t, nil
}

// Run measures what cfg asks for and returns the table. Failed requests are counted
// in the result, not returned as an error; an error means the run itself failed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Rounds < 1 || cfg.Concurrency < 1 || cfg.Duration <= 0 {
		return nil, errors.New("loadbench: rounds, concurrency and duration must be positive")
	}
	all := paths(time.Time{})
	for _, name := range cfg.Paths {
		if !slices.ContainsFunc(all, func(p path) bool { return p.name == name }) {
			return nil, fmt.Errorf("loadbench: unknown path %q; the paths are %s", name, strings.Join(PathNames(), ", "))
		}
	}
	res := &Result{Config: cfg, Machine: machine(), PeakRSS: map[string]int64{}, SeedRSS: map[string]int64{}, LoadRSS: map[string]int64{}}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, dir: dir, start: time.Now().AddDate(0, 0, 60)}
	r.cleanups = append(r.cleanups, func() { os.RemoveAll(dir) })
	defer r.cleanup()

	cfg.progress("building tportal and the ceiling in %s", dir)
	if r.tportal, err = build(root, dir, "tportal", "./cmd/tportal"); err != nil {
		return nil, err
	}
	if r.ceiling, err = build(root, dir, "ceiling", "./cmd/loadbench/ceiling"); err != nil {
		return nil, err
	}
	prov, provURL, err := instantProvider()
	if err != nil {
		return nil, err
	}
	r.provider = provURL
	r.cleanups = append(r.cleanups, func() { prov.Close() })

	courses := seedCourses()
	var targets []*target
	servers := []string{SQLite}
	if cfg.Postgres != "" {
		servers = append(servers, Postgres)
	}
	for _, name := range servers {
		cfg.progress("starting and seeding tportal on %s", name)
		t, err := r.startTportal(ctx, name, courses)
		if err != nil {
			return nil, err
		}
		if err := seedClasses(ctx, t, courses, r.start); err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	cfg.progress("starting and seeding the ceiling")
	cp, err := start(dir, "ceiling", r.ceiling, "-reserve-url", r.provider+"/reserve")
	if err != nil {
		return nil, err
	}
	r.cleanups = append(r.cleanups, cp.stop)
	addr, err := readListenAddr(cp)
	if err != nil {
		return nil, err
	}
	cp.base = "http://" + addr
	ceil := &target{name: Ceiling, proc: cp, client: newClient(cfg.Concurrency)}
	if err := seedCeiling(ctx, ceil, targets[0], courses); err != nil {
		return nil, err
	}
	if err := seedClasses(ctx, ceil, courses, r.start); err != nil {
		return nil, err
	}
	targets = append([]*target{ceil}, targets...)
	for _, t := range targets {
		res.Servers = append(res.Servers, t.name)
	}
	// Keep the seeding's peak, then measure the load's apart from it.
	for _, t := range targets {
		if rss, err := peakRSS(t.proc.pid()); err == nil && resetPeakRSS(t.proc.pid()) == nil {
			res.SeedRSS[t.name] = rss
		}
	}
	for _, t := range targets[1:] {
		res.Mismatch = append(res.Mismatch, compareAnswers(ctx, ceil, t, r.start)...)
	}

	ps := paths(r.start)
	if len(cfg.Paths) > 0 {
		ps = slices.DeleteFunc(ps, func(p path) bool { return !slices.Contains(cfg.Paths, p.name) })
	}
	type sample struct {
		rate     float64
		p50, p99 time.Duration
		use      usage
	}
	samples := map[string]map[string][]sample{}
	for _, p := range ps {
		row := Row{Path: p.name, Label: p.label, Rate: p.rate, By: map[string]*Measure{}}
		samples[p.name] = map[string][]sample{}
		for _, t := range targets {
			row.By[t.name] = &Measure{}
		}
		res.Rows = append(res.Rows, row)
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for i, p := range ps {
			for _, t := range targets {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if p.before != nil {
					if err := p.before(ctx, t); err != nil {
						return nil, fmt.Errorf("%s before %s: %w", t.name, p.name, err)
					}
				}
				profiled := profile(ctx, cfg, t, fmt.Sprintf("%s-%s-r%d.pprof", t.name, p.name, round))
				m, use, err := attack(cfg, t, p)
				if err != nil {
					return nil, err
				}
				if err := profiled(); err != nil {
					return nil, err
				}
				cfg.progress("round %d/%d %-20s %-8s %8.0f req/s  p50 %v  p99 %v  cpu %v/req  failed %d",
					round, cfg.Rounds, p.name, t.name, m.Rate, m.P50.Round(time.Microsecond), m.P99.Round(time.Microsecond),
					use.server.Round(time.Microsecond), m.Failed)
				samples[p.name][t.name] = append(samples[p.name][t.name], sample{m.Rate, m.P50, m.P99, use})
				agg := res.Rows[i].By[t.name]
				agg.Requests += m.Requests
				agg.Failed += m.Failed
				for _, e := range m.Errors {
					if len(agg.Errors) < 5 && !slices.Contains(agg.Errors, e) {
						agg.Errors = append(agg.Errors, e)
					}
				}
			}
		}
	}
	for i, p := range ps {
		for name, ss := range samples[p.name] {
			m := res.Rows[i].By[name]
			m.Rate = median(ss, func(s sample) float64 { return s.rate })
			m.P50 = time.Duration(median(ss, func(s sample) float64 { return float64(s.p50) }))
			m.P99 = time.Duration(median(ss, func(s sample) float64 { return float64(s.p99) }))
			m.CPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.use.server) }))
			m.MachineCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.use.machine) }))
			m.DatabaseCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.use.database) }))
			m.Busy = median(ss, func(s sample) float64 { return s.use.busy })
		}
	}
	for _, t := range targets {
		if rss, err := peakRSS(t.proc.pid()); err == nil {
			if seed, reset := res.SeedRSS[t.name]; reset {
				res.LoadRSS[t.name] = rss
				rss = max(seed, rss)
			}
			res.PeakRSS[t.name] = rss
		}
	}
	res.Machine.LoadAfter = loadAverage()
	for _, t := range targets {
		t.proc.stop() // quiet the machine for the idle measurement
	}

	if cfg.IdleTime > 0 {
		idle, err := r.idle(ctx, servers)
		if err != nil {
			return nil, err
		}
		res.Idle = idle
	}
	return res, nil
}

func median[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, 0, len(xs))
	for _, x := range xs {
		vs = append(vs, f(x))
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// usage is the CPU an attack cost per request: the server's, the whole machine's and
// PostgreSQL's processes' (see Measure), with the share of the cores busy.
type usage struct {
	server, machine, database time.Duration
	busy                      float64
}

// cpuReading is what attack reads before and after an attack to make its usage.
type cpuReading struct {
	at                        time.Time
	server, machine, database time.Duration
}

// readCPU reads the server's (process pid), the machine's and PostgreSQL's CPU so far.
func readCPU(pid int) (cpuReading, error) {
	server, err := cpuTime(pid)
	if err != nil {
		return cpuReading{}, err
	}
	machine, err := machineBusy()
	if err != nil {
		return cpuReading{}, err
	}
	return cpuReading{at: time.Now(), server: server, machine: machine, database: commandCPU("postgres")}, nil
}

// per is the usage from r to a later reading, per request of n.
func (r cpuReading) per(later cpuReading, n uint64) usage {
	var u usage
	if n == 0 {
		return u
	}
	d := time.Duration(n)
	u.server, u.machine, u.database = (later.server-r.server)/d, (later.machine-r.machine)/d, max(0, later.database-r.database)/d
	if wall := later.at.Sub(r.at); wall > 0 {
		u.busy = float64(later.machine-r.machine) / float64(wall) / float64(runtime.NumCPU())
	}
	return u
}

// attack drives p on t for cfg.Duration with cfg.Concurrency keep-alive connections,
// each sending its next request as soon as the previous answer has been read, and
// measures the CPU it cost.
func attack(cfg Config, t *target, p path) (*Measure, usage, error) {
	c := uint64(cfg.Concurrency)
	// The attacker's transport is ours (the options below configure it), so that its
	// connections are closed when the attack ends: left open, every path left c idle
	// keep-alive connections on the server, and the peak RSS at the last path counted
	// some 9 × c connections' buffers and goroutine stacks instead of c.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Client(&http.Client{Transport: tr}), vegeta.Workers(c), vegeta.MaxWorkers(c),
		vegeta.Connections(cfg.Concurrency), vegeta.MaxConnections(cfg.Concurrency), vegeta.KeepAlive(true),
		vegeta.Timeout(60*time.Second), vegeta.HTTP2(false), vegeta.Redirects(vegeta.NoFollow))
	before, err := readCPU(t.proc.pid())
	if err != nil {
		return nil, usage{}, err
	}
	var metrics vegeta.Metrics
	m := &Measure{}
	var failed uint64
	rate := vegeta.Rate{} // as fast as answered
	if p.rate > 0 {
		rate = vegeta.Rate{Freq: p.rate, Per: time.Second}
	}
	for res := range atk.Attack(p.targeter(t), rate, cfg.Duration, p.name) {
		if res.Error != "" || int(res.Code) != p.want {
			failed++
			msg := res.Error
			if msg == "" {
				msg = fmt.Sprintf("HTTP %d: %.200s", res.Code, res.Body)
			}
			if len(m.Errors) < 5 && !slices.Contains(m.Errors, msg) {
				m.Errors = append(m.Errors, msg)
			}
		}
		res.Body = nil
		metrics.Add(res)
	}
	metrics.Close()
	after, err := readCPU(t.proc.pid())
	if err != nil {
		return nil, usage{}, err
	}
	m.Requests, m.Failed = metrics.Requests, failed
	if elapsed := metrics.Duration + metrics.Wait; elapsed > 0 {
		m.Rate = float64(metrics.Requests-failed) / elapsed.Seconds()
	}
	m.P50, m.P99 = metrics.Latencies.P50, metrics.Latencies.P99
	return m, before.per(after, metrics.Requests), nil
}

// profile starts a CPU profile of t (tportal's --debug-addr) for the length of an
// attack, written to cfg.ProfileDir/name; wait returns once it is written, with the
// heap profile taken right after the attack beside it (name with .heap.pprof for
// .pprof: the memory in use at the last collection, and what the run allocated).
// Without a profile directory, or for the ceiling, it does nothing.
func profile(ctx context.Context, cfg Config, t *target, name string) (wait func() error) {
	if cfg.ProfileDir == "" || t.debug == "" {
		return func() error { return nil }
	}
	seconds := max(1, int(cfg.Duration.Round(time.Second)/time.Second))
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", t.debug, seconds), filepath.Join(cfg.ProfileDir, name))
	}()
	return func() error {
		if err := <-done; err != nil {
			return err
		}
		heap := strings.TrimSuffix(name, ".pprof") + ".heap.pprof"
		return fetchProfile(ctx, t.debug+"/debug/pprof/heap", filepath.Join(cfg.ProfileDir, heap))
	}
}

// fetchProfile writes the profile that url answers into the file path, creating its
// folder if needed.
func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", filepath.Base(path), err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: HTTP %d", filepath.Base(path), res.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// compareAnswers checks that t answers the measured requests with the ceiling's bytes
// (booking references and times aside) and lists the differences.
func compareAnswers(ctx context.Context, ceil, t *target, start time.Time) []string {
	var out []string
	check := func(what string, a, b []byte, errA, errB error) {
		switch {
		case errA != nil || errB != nil:
			out = append(out, fmt.Sprintf("%s, %s: %v / %v", t.name, what, errA, errB))
		case string(a) != string(b):
			out = append(out, fmt.Sprintf("%s, %s: %d bytes differ from the ceiling's %d: %s", t.name, what, len(b), len(a), firstDiff(a, b)))
		}
	}
	a, errA := ceil.post(ctx, "", nil)
	b, errB := t.post(ctx, "", nil)
	check("getCourses", a, b, errA, errB)
	for _, n := range classCourses {
		p := "/C" + strconv.Itoa(n) + "/courseClasses"
		a, errA := ceil.post(ctx, p, nil)
		b, errB := t.post(ctx, p, nil)
		check("getCourseClasses "+strconv.Itoa(n), a, b, errA, errB)
	}
	q := "/api/v1/classes?course=" + strconv.FormatInt(t.courseID["C20"], 10)
	a, errA = ceil.get(ctx, q)
	b, errB = t.get(ctx, q)
	check("/api/v1/classes", a, b, errA, errB)
	form := classForm("CHECK-"+t.name, 12, start)
	a, errA = ceil.post(ctx, "/ADD/courseClasses/add", form)
	b, errB = t.post(ctx, "/ADD/courseClasses/add", form)
	check("addClass", a, b, errA, errB)
	upd := url.Values{"externalId": {seedClassID("UPD", 0)}, "availableSeats": {"7"}}
	a, errA = ceil.post(ctx, "/UPD/courseClasses/update", upd)
	b, errB = t.post(ctx, "/UPD/courseClasses/update", upd)
	check("updateClass", a, b, errA, errB)
	book := func(t *target) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.proc.base+"/api/v1/bookings", strings.NewReader(string(bookingBody(t.bookID))))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+t.token)
		body, err := t.do(req, http.StatusCreated)
		return maskBooking(body), err
	}
	a, errA = book(ceil)
	b, errB = book(t)
	check("POST /api/v1/bookings (references and times masked)", a, b, errA, errB)
	return out
}

// maskBooking blanks a booking answer's references and times, which differ by nature.
func maskBooking(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range []string{"bookingReference", "providerBookingReference", "createdAt", "updatedAt"} {
		if _, ok := m[k]; ok {
			m[k] = json.RawMessage(`"…"`)
		}
	}
	out, _ := json.Marshal(m)
	return out
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d: ceiling %q, tportal %q", i, a[from:min(len(a), i+40)], b[from:min(len(b), i+40)])
}

// idle starts a fresh tportal per database with cfg.IdleClasses classes and measures
// its CPU over cfg.IdleTime with no requests.
func (r *run) idle(ctx context.Context, servers []string) ([]Idle, error) {
	var out []Idle
	for _, name := range servers {
		r.cfg.progress("idle: tportal on %s with %d classes", name, r.cfg.IdleClasses)
		t, err := r.startTportal(ctx, name+"-idle", []seedCourse{{ext: "IDLE", name: "Idle course"}})
		if err != nil {
			return nil, err
		}
		began := time.Now()
		if err := seedMany(ctx, t, "IDLE", r.cfg.IdleClasses, max(r.cfg.Concurrency, 4), r.start); err != nil {
			return nil, err
		}
		// Let the seeding's aftermath (WAL checkpoints, connections closing) pass first.
		settle := min(3*time.Second, r.cfg.IdleTime)
		r.cfg.progress("idle: seeded %d classes in %v; settling %v, then measuring %v", r.cfg.IdleClasses, time.Since(began).Round(time.Second), settle, r.cfg.IdleTime)
		t.client.CloseIdleConnections()
		time.Sleep(settle)
		before, err := cpuTime(t.proc.pid())
		if err != nil {
			return nil, err
		}
		select {
		case <-time.After(r.cfg.IdleTime):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		after, err := cpuTime(t.proc.pid())
		if err != nil {
			return nil, err
		}
		out = append(out, Idle{Server: name, Classes: r.cfg.IdleClasses, Over: r.cfg.IdleTime, CPU: after - before})
		t.proc.stop()
	}
	return out, nil
}
