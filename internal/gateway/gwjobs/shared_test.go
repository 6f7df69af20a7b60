package gwjobs_test

import (
	"context"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/tportal/tportal/internal/gateway/gwstore"
)

// migrateDefaultRiver creates River's tables in the database's default schema, as the
// portal does when it shares the database.
func migrateDefaultRiver(ctx context.Context, db *gwstore.DB) error {
	m, err := rivermigrate.New(riverdatabasesql.New(db.SQL()), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
