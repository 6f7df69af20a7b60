package sqldb

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// walPages returns the size of the WAL file of the database at path in 4 KiB pages.
func walPages(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size() / 4096
}

// writeRows commits n transactions of one 2 KB row each (a table page and often a
// second one in the WAL per commit), calling committed after each.
func writeRows(t *testing.T, db *sql.DB, n int, committed func()) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 2000)
	for range n {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES ($1)`, row); err != nil {
			t.Fatal(err)
		}
		committed()
	}
}

// A database opened for a Checkpointer: the writers do not checkpoint at SQLite's
// default of 1000 frames, only at backstopFrames, which bounds the WAL when the
// Checkpointer is not told of the writes; told, it copies the WAL back.
func TestCheckpointer(t *testing.T) {
	for _, c := range []struct {
		name               string
		commits            int
		told               bool
		minPages, maxPages int64 // the WAL file's size after the writes
	}{
		// More than 1000 frames and no checkpoint: the writers left them alone.
		{name: "not told", commits: 3000, minPages: 3000, maxPages: backstopFrames},
		// Past backstopFrames the writers' own checkpoint reuses the WAL.
		{name: "not told, past the backstop", commits: 6000, maxPages: backstopFrames + 500},
		{name: "told", commits: 3000, told: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.sqlite")
			db, err := openSQLite(path, backstopFrames)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cp := newCheckpointer(db, 5*time.Millisecond)
			committed := func() {}
			if c.told {
				committed = cp.Committed
			}
			writeRows(t, db, c.commits, committed)
			if got := walPages(t, path); got < c.minPages || c.maxPages > 0 && got > c.maxPages {
				t.Errorf("WAL file of %d pages after %d commits, want %d to %d", got, c.commits, c.minPages, c.maxPages)
			}
			cp.Close()
			runs, frames, backfilled := cp.runs.Load(), cp.frames.Load(), cp.backfilled.Load()
			switch {
			case !c.told && runs != 0:
				t.Errorf("%d checkpoints ran, untold", runs)
			case c.told && (runs < 2 || frames == 0 || backfilled != frames):
				t.Errorf("%d checkpoints ran, the last copied %d of %d frames; want at least 2, all copied", runs, backfilled, frames)
			}
		})
	}
}
