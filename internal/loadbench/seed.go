package loadbench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create and drop the run's database

	"github.com/tportal/tportal/internal/loadbench/ceiling"
)

// The seeded catalogue: one provider, and a course per measured shape.
const (
	providerUser = "loadbench"
	providerName = "Loadbench Safety AS"
	// bookSeats is the booking class's seats, set again before every booking attack.
	bookSeats = 100000
	// updClasses is how many classes updateClass cycles through.
	updClasses = 50
)

// seedCourse is a course the benchmark creates, with how many classes it gets.
type seedCourse struct {
	ext     string
	name    string
	classes int
}

// classCourses are the getCourseClasses courses: 1, 20, 200 and 2000 classes.
var classCourses = []int{1, 20, 200, 2000}

func seedCourses() []seedCourse {
	var cs []seedCourse
	for _, n := range classCourses {
		cs = append(cs, seedCourse{ext: "C" + strconv.Itoa(n), name: fmt.Sprintf("Course with %d classes", n), classes: n})
	}
	return append(cs,
		seedCourse{ext: "ADD", name: "Course that addClass adds to"},
		seedCourse{ext: "UPD", name: "Course that updateClass changes", classes: updClasses},
		seedCourse{ext: "BOOK", name: "Course that is booked", classes: 1},
	)
}

// classForm is a complete addClass form in the canonical spelling tportal answers
// with, so that the ceiling's copy of the fields is byte for byte tportal's answer.
func classForm(ext string, seats int, start time.Time) url.Values {
	day := start.Format(time.DateOnly)
	deadline := start.AddDate(0, 0, -7).Format(time.DateOnly)
	return url.Values{
		"externalId": {ext}, "location": {"Oslo"}, "availableSeats": {strconv.Itoa(seats)},
		"enrollmentDeadline": {deadline}, "cancellationDeadline": {deadline},
		"startDate": {day}, "startTime": {"09:00"}, "endDate": {day}, "endTime": {"15:30"},
		"address.addressLine1": {"Storgata 1"}, "address.addressLine2": {""}, "address.city": {"Oslo"},
		"address.zipCode": {"0155"}, "address.country": {"NO"},
		"price.currency": {"NOK"}, "price.amount": {"4500.50"}, "sendScheduleInfoToParticipants": {"true"},
	}
}

// seedClassID names the n-th seeded class of a course; zero-padded so that the
// ceiling's order by externalId is tportal's.
func seedClassID(course string, n int) string { return fmt.Sprintf("%s-%05d", course, n) }

// target is one server under test: where it listens and how to call it.
type target struct {
	name     string // "ceiling", "sqlite", "postgres"
	proc     *process
	user     string
	password string
	token    string
	courseID map[string]int64 // portal course id by externalCourseId
	bookID   int64            // the booking class's portal id
	addSeq   atomic.Int64     // addClass's next externalId
	updSeq   atomic.Int64
	client   *http.Client
	debug    string // tportal's --debug-addr as http://host:port, when profiling
}

func (t *target) creds(v url.Values) url.Values {
	out := url.Values{"username": {t.user}, "password": {t.password}}
	for k, vs := range v {
		out[k] = vs
	}
	return out
}

func (t *target) cpURL(path string) string {
	return t.proc.base + "/api/courseprovider/rest/v1/courses/get" + path
}

// post sends a course-provider form and returns the body, failing on any status but 200.
func (t *target) post(ctx context.Context, path string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cpURL(path), strings.NewReader(t.creds(form).Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return t.do(req, http.StatusOK)
}

func (t *target) do(req *http.Request, want int) ([]byte, error) {
	res, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return body, fmt.Errorf("%s %s: %s (want %d): %.300s", req.Method, req.URL.Path, res.Status, want, body)
	}
	return body, nil
}

func (t *target) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.proc.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	return t.do(req, http.StatusOK)
}

// admin runs a `tportal admin` command on the database and returns its output.
func admin(ctx context.Context, bin, db, data string, args ...string) (string, error) {
	args = append(append([]string{"admin"}, args...), "--db", db, "--data", data, "--allow-private-urls")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tportal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

var (
	passwordLine = regexp.MustCompile(`(?m)^password: (\S+)$`)
	tokenLine    = regexp.MustCompile(`(?m)^token: (\S+)$`)
	courseLine   = regexp.MustCompile(`\(id (\d+), externalCourseId`)
)

// seedAdmin creates the provider, its courses and an API token through tportal's own
// admin commands, the way portal staff would.
func seedAdmin(ctx context.Context, t *target, bin, db, data, reserveURL, cancelURL string, courses []seedCourse) error {
	out, err := admin(ctx, bin, db, data, "provider", "add", "--name", providerName, "--username", providerUser,
		"--reserve-url", reserveURL, "--cancel-url", cancelURL)
	if err != nil {
		return err
	}
	m := passwordLine.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("provider add printed no password:\n%s", out)
	}
	t.user, t.password = providerUser, m[1]
	t.courseID = map[string]int64{}
	for _, c := range courses {
		out, err := admin(ctx, bin, db, data, "course", "add", "--name", c.name, "--description", "Load benchmark course "+c.ext,
			"--provider", providerUser, "--external-id", c.ext)
		if err != nil {
			return err
		}
		m := courseLine.FindStringSubmatch(out)
		if m == nil {
			return fmt.Errorf("course add printed no id:\n%s", out)
		}
		t.courseID[c.ext], _ = strconv.ParseInt(m[1], 10, 64)
	}
	out, err = admin(ctx, bin, db, data, "token", "create", "--name", "loadbench")
	if err != nil {
		return err
	}
	if m = tokenLine.FindStringSubmatch(out); m == nil {
		return fmt.Errorf("token create printed no token:\n%s", out)
	}
	t.token = m[1]
	return nil
}

// seedCeiling gives the ceiling tportal's courses, ids included.
func seedCeiling(ctx context.Context, t *target, from *target, courses []seedCourse) error {
	var list []ceiling.Course
	for _, c := range courses {
		list = append(list, ceiling.Course{ID: from.courseID[c.ext], ExternalCourseID: c.ext, Name: c.name,
			Description: "Load benchmark course " + c.ext, ProviderName: providerName})
	}
	body, _ := json.Marshal(list)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.proc.base+"/ceiling/courses", bytes.NewReader(body))
	if err != nil {
		return err
	}
	if _, err := t.do(req, http.StatusNoContent); err != nil {
		return err
	}
	t.user, t.password, t.token = from.user, from.password, from.token
	t.courseID = from.courseID
	return nil
}

// seedClasses adds every course's classes through addClass. The classes whose
// portal ids appear in measured answers (the 20-class course's, listed by
// /api/v1/classes, and the booking class) are added first, one at a time and in order,
// so that their ids are the same on every server and the ceiling's; the rest, whose
// ids no measured answer shows, by 8 clients in parallel.
func seedClasses(ctx context.Context, t *target, courses []seedCourse, start time.Time) error {
	add := func(ext string, i int) error {
		seats := 12
		if ext == "BOOK" {
			seats = bookSeats
		}
		if _, err := t.post(ctx, "/"+ext+"/courseClasses/add", classForm(seedClassID(ext, i), seats, start)); err != nil {
			return fmt.Errorf("%s: seeding %s: %w", t.name, ext, err)
		}
		return nil
	}
	type job struct {
		ext string
		i   int
	}
	var rest []job
	for _, c := range courses {
		for i := range c.classes {
			if c.ext == "C1" || c.ext == "C20" || c.ext == "BOOK" {
				if err := add(c.ext, i); err != nil {
					return err
				}
				continue
			}
			rest = append(rest, job{c.ext, i})
		}
	}
	var next atomic.Int64
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(rest) {
					errc <- nil
					return
				}
				if err := add(rest[n].ext, rest[n].i); err != nil {
					next.Store(int64(len(rest)))
					errc <- err
					return
				}
			}
		}()
	}
	var first error
	for range 8 {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	var classes []struct {
		ID int64 `json:"id"`
	}
	body, err := t.get(ctx, "/api/v1/classes?course="+strconv.FormatInt(t.courseID["BOOK"], 10))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &classes); err != nil || len(classes) != 1 {
		return fmt.Errorf("%s: the booking class: %v %.200s", t.name, err, body)
	}
	t.bookID = classes[0].ID
	return nil
}

// seedMany adds n classes to course ext through addClass with c parallel clients: the
// idle measurement's catalogue. It is the real write path, so it takes n divided by
// addClass's rate (tens of seconds for 100 000 classes).
func seedMany(ctx context.Context, t *target, ext string, n, c int, start time.Time) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				day := start.AddDate(0, 0, i%3000)
				if _, err := t.post(ctx, "/"+ext+"/courseClasses/add", classForm(seedClassID("I", i), 12, day)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// pgDatabase creates a fresh database on the PostgreSQL server of adminURL and returns
// its URL and a function that drops it.
func pgDatabase(ctx context.Context, adminURL, name string) (string, func(), error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}
	return u.String(), drop, nil
}

// readFirstLine reads the ceiling's "listening on ADDR" line from its log.
func readListenAddr(p *process) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return "", fmt.Errorf("%s exited while starting (%v):\n%s", p.name, err, p.logTail())
		default:
		}
		b, _ := os.ReadFile(p.log)
		sc := bufio.NewScanner(bytes.NewReader(b))
		if sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				return addr, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not say where it listens", p.name)
}
