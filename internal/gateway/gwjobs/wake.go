package gwjobs

import (
	"context"
	"database/sql"
	"sync"

	"github.com/riverqueue/river/riverdriver"
)

// River's SQLite driver emulates LISTEN by querying a notification table every 50 ms,
// and job inserts write rows to that table for it: most of an idle gateway's CPU. On
// PostgreSQL through database/sql River has no listener at all, so a job that serve
// inserted waited for the next poll. The gateway's River instead hears of new jobs in
// process: after a store transaction commits (the store calls Queue.Committed), and
// after River's own transactions that would have notified (the scheduler making
// retries due). Otherwise its workers poll every Options.PollEvery. Jobs inserted by
// another process (a `provider` command while serve runs) wait for that poll; so does
// a second serve on one database to take over leadership.

// insertPayload is River's insert notification for the queue the gateway works.
const insertPayload = `{"queue":"default"}`

// localDriver is River's driver for the database with its listener replaced by
// localListener and its notifications (NotifyMany) turned into local wakes.
type localDriver struct {
	riverdriver.Driver[*sql.Tx]
	listener *localListener
}

func (d localDriver) GetListener(*riverdriver.GetListenenerParams) riverdriver.Listener {
	return d.listener
}

// SupportsListener makes River use localListener rather than poll only.
func (d localDriver) SupportsListener() bool { return true }

// SupportsListenNotify makes River call NotifyMany, which localTx turns into a wake.
func (d localDriver) SupportsListenNotify() bool { return true }

func (d localDriver) GetExecutor() riverdriver.Executor {
	return localExecutor{Executor: d.Driver.GetExecutor(), listener: d.listener}
}

func (d localDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return &localTx{ExecutorTx: d.Driver.UnwrapExecutor(tx), listener: d.listener}
}

// localExecutor begins River's transactions as localTx.
type localExecutor struct {
	riverdriver.Executor
	listener *localListener
}

func (e localExecutor) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := e.Executor.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localTx{ExecutorTx: tx, listener: e.listener}, nil
}

// localTx writes no notification; an insert notification wakes the local workers
// when the transaction commits (a transaction River does not commit itself, the
// store's, wakes them through Queue.Committed).
type localTx struct {
	riverdriver.ExecutorTx
	listener *localListener
	outer    *localTx // of a nested transaction (a savepoint), which commits nothing yet
	inserted bool
}

func (t *localTx) NotifyMany(_ context.Context, p *riverdriver.NotifyManyParams) error {
	if p.Topic == topicInsert && len(p.Payload) > 0 {
		root := t
		for root.outer != nil {
			root = root.outer
		}
		root.inserted = true
	}
	return nil
}

func (t *localTx) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := t.ExecutorTx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localTx{ExecutorTx: tx, listener: t.listener, outer: t}, nil
}

func (t *localTx) Commit(ctx context.Context) error {
	if err := t.ExecutorTx.Commit(ctx); err != nil {
		return err
	}
	if t.inserted {
		t.listener.wake()
	}
	return nil
}

// localListener delivers insert notifications raised in this process by wake. It
// implements riverdriver.Listener.
type localListener struct {
	schema string
	wakeCh chan struct{} // capacity 1: wakes raised while one is pending make one

	mu        sync.Mutex
	listening bool // on River's insert topic
}

func newLocalListener(schema string) *localListener {
	return &localListener{schema: schema, wakeCh: make(chan struct{}, 1)}
}

// wake tells River's producer that jobs were committed. It never blocks.
func (l *localListener) wake() {
	select {
	case l.wakeCh <- struct{}{}:
	default:
	}
}

func (l *localListener) Connect(context.Context) error { return nil }
func (l *localListener) Close(context.Context) error   { return nil }
func (l *localListener) Ping(context.Context) error    { return nil }
func (l *localListener) Schema() string                { return l.schema }
func (l *localListener) SetAfterConnectExec(string)    {}

func (l *localListener) Listen(_ context.Context, topic string) error {
	if topic == topicInsert {
		l.mu.Lock()
		l.listening = true
		l.mu.Unlock()
	}
	return nil
}

func (l *localListener) Unlisten(_ context.Context, topic string) error {
	if topic == topicInsert {
		l.mu.Lock()
		l.listening = false
		l.mu.Unlock()
	}
	return nil
}

func (l *localListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.wakeCh:
			l.mu.Lock()
			listening := l.listening
			l.mu.Unlock()
			if listening {
				return &riverdriver.Notification{Topic: topicInsert, Payload: insertPayload}, nil
			}
		}
	}
}

// topicInsert is River's topic for new jobs (notifier.NotificationTopicInsert).
const topicInsert = "river_insert"
