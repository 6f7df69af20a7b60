package loadbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tportal/tportal/internal/freeaddr"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux the project runs on (Go cannot call sysconf without cgo).
const clockTicks = 100

// cpuTime is the CPU time (user + system) process pid has used so far, from
// /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// machineBusy is the CPU time every core of the machine has spent busy so far (user,
// nice, system, interrupts and steal from /proc/stat's first line; idle and I/O wait
// excluded): the load generator's, the provider's, the database's and the kernel's
// work as well as the server's.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: unexpected format")
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal: guest time is counted in user.
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// commandCPU is the CPU time used so far by the running processes whose command name
// is comm (PostgreSQL's postmaster and backends are all "postgres"), or 0 when /proc
// cannot be listed. A process that exits between two readings takes its time with it;
// tportal's pooled backends live through an attack.
func commandCPU(comm string) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		if cpu, err := cpuTime(pid); err == nil {
			total += cpu
		}
	}
	return total
}

// peakRSS is process pid's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// resetPeakRSS sets process pid's VmHWM back to its current RSS (Linux's clear_refs
// value 5), so that the next peakRSS reports the peak from now on: the peak under load
// apart from the seeding's.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// Machine names the machine a run was measured on.
type Machine struct {
	CPU         string
	Cores       int
	LoadBefore  string // /proc/loadavg's three averages when the run began
	LoadAfter   string // and when it ended
	GoVersion   string
	KernelLabel string
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func machine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), LoadBefore: loadAverage(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.KernelLabel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// process is a server the benchmark started: tportal serve or the ceiling.
type process struct {
	name string
	cmd  *exec.Cmd
	base string // http://host:port
	log  string // file holding its stdout and stderr
	done chan error
	once sync.Once
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop ends the process: SIGTERM, then SIGKILL if it has not exited after 10 s.
func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// logTail is the end of the process's log, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// start runs bin with args, its output in dir/name.log.
func start(dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); lf.Close() }()
	return p, nil
}

// cleanEnv is the environment without TPORTAL_ variables, so that a variable left in
// the caller's shell cannot change the servers' settings behind the benchmark's back.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TPORTAL_") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a loopback address with a port free at the moment, outside the
// ephemeral range that the benchmark's own thousands of client connections use.
func freeAddr() (string, error) { return freeaddr.Loopback() }

// waitHealthy polls base/healthz until it answers 200, the process exits, or 60 s pass.
func waitHealthy(ctx context.Context, p *process) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited while starting (%v):\n%s", p.name, err, p.logTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		res, err := http.Get(p.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become healthy in 60 s:\n%s", p.name, p.logTail())
}

// moduleRoot is the directory of the tportal module's go.mod, found from the working
// directory, so that the benchmark runs from the repository root or a package in it.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the load benchmark inside the tportal module")
	}
	return filepath.Dir(gomod), nil
}

// build compiles the package pkg of the module at root into dir/name.
func build(root, dir, name, pkg string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}
