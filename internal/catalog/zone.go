package catalog

import (
	"sync"
	"time"
)

// zones caches loaded time zones by name. time.LoadLocation reads and parses the
// zone's data from disk on every call, and a class write needed it three times and
// a booking once (docs/benchmarks.md). Only zones that loaded are kept, so the cache
// holds at most the IANA database's few hundred names.
var zones sync.Map // name -> *time.Location

// loadZone is time.LoadLocation, cached.
func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
