package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServeDebug(t *testing.T) {
	addr, stop, err := serveDebug("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string
	}{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/heap?debug=1", "heap profile"},
		{"/debug/pprof/profile?seconds=1", ""}, // a CPU profile: binary, not empty
	} {
		res, err := http.Get("http://" + addr + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s: %d, %d bytes, want 200 with %q", tt.path, res.StatusCode, len(body), tt.want)
		}
	}
	stop()
	if res, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		res.Body.Close()
		t.Error("the debug listener still answers after stop")
	}
}
