package store

import (
	"sync"

	"github.com/tportal/tportal/internal/catalog"
)

// classMemoSize bounds classMemo: enough for the classes a portal's providers are
// changing at any one time, and at about 0.5 KB a class a few hundred KB at most.
const classMemoSize = 1024

// classMemo remembers, per class, the row as this process last read or wrote it, so
// that ModifyClass can try its conditional UPDATE (classUnchanged) on the remembered
// row without reading it first (issue 11): on PostgreSQL one round trip instead of
// two. A remembered row is only ever a guess: the UPDATE writes only if the row still
// holds every remembered value, and when anything changed it meanwhile (a booking, the
// sweep, another instance) the UPDATE writes nothing and ModifyClass reads the row as
// before. So the memo needs no invalidation to be correct; dropping entries only
// saves a wasted UPDATE.
type classMemo struct {
	mu sync.Mutex
	m  map[classMemoKey]catalog.Class
}

// classMemoKey names a live class as ModifyClass is asked for it.
type classMemoKey struct {
	courseID   int64
	externalID string
}

// get returns a copy of the remembered class, which the caller may change freely.
func (m *classMemo) get(courseID int64, externalID string) (catalog.Class, bool) {
	m.mu.Lock()
	c, ok := m.m[classMemoKey{courseID, externalID}]
	m.mu.Unlock()
	return copyClass(c), ok
}

// put remembers c as stored: its instants at the database's millisecond precision,
// as scanClass would read them back, and its pointers its own.
func (m *classMemo) put(c catalog.Class) {
	c = copyClass(c)
	c.CreatedAt, c.UpdatedAt = fromMillis(millis(c.CreatedAt)), fromMillis(millis(c.UpdatedAt))
	if c.CancelledAt != nil {
		t := fromMillis(millis(*c.CancelledAt))
		c.CancelledAt = &t
	}
	k := classMemoKey{c.CourseID, c.ExternalID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[classMemoKey]catalog.Class)
	}
	if _, ok := m.m[k]; !ok && len(m.m) >= classMemoSize {
		for old := range m.m { // any one: a wrong guess costs one round trip, no more
			delete(m.m, old)
			break
		}
	}
	m.m[k] = c
}

// drop forgets a class whose remembered row turned out stale.
func (m *classMemo) drop(courseID int64, externalID string) {
	m.mu.Lock()
	delete(m.m, classMemoKey{courseID, externalID})
	m.mu.Unlock()
}

// copyClass copies c with pointers of its own, so that neither the memo's caller nor
// the memo changes what the other holds.
func copyClass(c catalog.Class) catalog.Class {
	if c.StartTime != nil {
		t := *c.StartTime
		c.StartTime = &t
	}
	if c.EndTime != nil {
		t := *c.EndTime
		c.EndTime = &t
	}
	if c.CancelledAt != nil {
		t := *c.CancelledAt
		c.CancelledAt = &t
	}
	return c
}
