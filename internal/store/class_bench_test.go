package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkModifyClassSeats changes the seats of one of 50 classes of a course per
// op, from one goroutine, as updateClass does: the store's own cost of a class
// write, without the HTTP stack and with less of the shared machine's noise.
//
//	TPORTAL_TEST_POSTGRES=… go test -run '^$' -bench ModifyClassSeats ./internal/store/
func BenchmarkModifyClassSeats(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect)
			_, co, _ := seed(b, db)
			const classes = 50
			for i := range classes {
				cl := newClass(b, co, "S"+strconv.Itoa(i))
				if err := db.CreateClass(ctx, &cl); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := db.ModifyClass(ctx, co.ID, "S"+strconv.Itoa(i%classes), func(c *catalog.Class) error {
					c.AvailableSeats = i % 40
					c.UpdatedAt = time.Now()
					return nil
				}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
