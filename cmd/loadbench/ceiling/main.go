// Command ceiling is the load benchmark's yardstick server (see internal/loadbench/ceiling):
// a bare net/http server with no database that answers as tportal does. The load
// benchmark (go run ./cmd/loadbench) builds and starts it; it prints the address it
// listens on as its first line.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/tportal/tportal/internal/loadbench/ceiling"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	reserveURL := flag.String("reserve-url", "", "the provider's reserve URL, called for every booking")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, ceiling.New(*reserveURL).Handler()))
}
