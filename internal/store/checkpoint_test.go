package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// A group's commit tells the store's Checkpointer, which then checkpoints the WAL
// off the writers' path (the writers' own checkpoints are only a backstop).
func TestGroupCommitTellsTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	_, co, _ := seed(t, db)
	before := db.CheckpointRuns()
	cl := newClass(t, co, "CKPT")
	if err := db.CreateClass(ctx, &cl); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); db.CheckpointRuns() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no WAL checkpoint ran after a group's commit")
		}
	}
}
