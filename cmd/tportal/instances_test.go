package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// startServes starts n `tportal serve` processes at once (none waits for another) and
// returns their base URLs once every one answers /readyz with 200.
func startServes(t *testing.T, n int, env []string) []string {
	t.Helper()
	type instance struct {
		addr string
		done chan error
		logs *syncBuffer
	}
	var instances []instance
	for range n {
		addr := freeAddr(t)
		cmd := exec.Command(binary, "serve", "--addr", addr, "--allow-private-urls", "--log-level", "warn")
		cmd.Env = append(os.Environ(), env...)
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
			}
			if t.Failed() {
				t.Logf("serve %s logs:\n%s", addr, logs.String())
			}
		})
		instances = append(instances, instance{addr, done, logs})
	}
	var urls []string
	for _, in := range instances {
		waitReady(t, "http://"+in.addr+"/readyz", in.done, in.logs)
		urls = append(urls, "http://"+in.addr)
	}
	return urls
}

// TestFourInstancesStartTogether starts four portal processes at the same moment, on
// a fresh database and on one whose tables an admin command already made (the case
// that used to fail on PostgreSQL with a duplicate pg_type row): all four serve.
func TestFourInstancesStartTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		for _, existing := range []bool{false, true} {
			name := "fresh database"
			if existing {
				name = "after an admin command"
			}
			t.Run(name, func(t *testing.T) {
				env := []string{"TPORTAL_DB=" + storetest.URL(t, dialect)}
				if existing {
					tportal(t, env, "admin", "token", "create", "--name", "first")
				}
				// startServes fails the test unless every instance answers /readyz 200.
				if urls := startServes(t, 4, env); len(urls) != 4 {
					t.Errorf("%d instances ready, want 4", len(urls))
				}
			})
		}
	})
}
