package edge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres as a Fleet: the store version (store_version, bumped by a
// trigger in each write's transaction) and the edges table, where each
// edge's listener keeps a heartbeat and each refresh records the version
// applied, notifying ConfirmChannel so that waiting API calls look again.

var _ Fleet = (*Postgres)(nil)

// ConfirmChannel is the channel an edge notifies, with its schema as the
// payload, when it has applied a newer version of the store.
const ConfirmChannel = "signgate_edge_confirm"

// confirmPoll is how often Confirm looks again without a notification:
// the backstop for a listener that is away.
const confirmPoll = 50 * time.Millisecond

// forgetEdges is how long after its last heartbeat an edge's row is
// deleted by the next edge to register.
const forgetEdges = "1 day"

// Version implements Fleet.
func (p *Postgres) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := p.pool.QueryRow(ctx, `SELECT version FROM store_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: store version: %w", err)
	}
	return v, nil
}

// Applied implements Fleet: it only ever raises the recorded version, and
// notifies ConfirmChannel when it does.
func (p *Postgres) Applied(ctx context.Context, id string, v int64) error {
	_, err := p.pool.Exec(ctx, `WITH u AS (
	UPDATE edges SET applied_version = $2 WHERE id = $1 AND applied_version < $2 RETURNING 1
) SELECT pg_notify('`+ConfirmChannel+`', current_schema()) FROM u`, id, v)
	if err != nil {
		return fmt.Errorf("postgres: record applied version: %w", err)
	}
	return nil
}

// Confirm implements Fleet. It looks at the edges table, then again at
// each notification on ConfirmChannel (or every confirmPoll without one),
// until every live edge has applied v or wait is over. Past wait it
// returns the last look, not confirmed, and no error.
func (p *Postgres) Confirm(ctx context.Context, self string, v int64, wait, live time.Duration) (Confirmation, error) {
	deadline, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	poll := time.NewTicker(confirmPoll)
	defer poll.Stop()
	last := Confirmation{Edges: 1, Pending: []string{self}}
	var looked bool
	var failed error
	for {
		woken := p.confirms.next()
		c, err := p.look(deadline, self, v, live)
		switch {
		case err == nil:
			last, looked = c, true
			if c.Confirmed {
				return c, nil
			}
		case ctx.Err() != nil:
			return last, ctx.Err()
		case deadline.Err() == nil:
			failed = err // look again at the next poll, within wait
		}
		select {
		case <-deadline.Done():
			switch {
			case ctx.Err() != nil:
				return last, ctx.Err()
			case !looked && failed != nil:
				return last, failed
			}
			return last, nil
		case <-woken:
		case <-poll.C:
		}
	}
}

// look reads which live edges have applied v.
func (p *Postgres) look(ctx context.Context, self string, v int64, live time.Duration) (Confirmation, error) {
	rows, err := p.pool.Query(ctx, `SELECT id, applied_version >= $2 FROM edges
WHERE id = $1 OR heartbeat_at > now() - make_interval(secs => $3) ORDER BY id`, self, v, live.Seconds())
	if err != nil {
		return Confirmation{}, fmt.Errorf("postgres: edges: %w", err)
	}
	c := Confirmation{Pending: []string{}}
	var id string
	var done, seen bool
	_, err = pgx.ForEachRow(rows, []any{&id, &done}, func() error {
		c.Edges++
		seen = seen || id == self
		if !done {
			c.Pending = append(c.Pending, id)
		}
		return nil
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("postgres: edges: %w", err)
	}
	if !seen {
		// Not registered yet (its listener is connecting): self applied
		// v before asking, so it counts, confirmed.
		c.Edges++
	}
	c.Confirmed = len(c.Pending) == 0
	return c, nil
}

// heartbeat registers m on conn, the listening connection, or renews its
// registration: a heartbeat is proof that m's LISTEN is up. first also
// forgets edges long gone.
func heartbeat(ctx context.Context, conn *pgx.Conn, m *Member, started time.Time, first bool) error {
	if first {
		if _, err := conn.Exec(ctx, `DELETE FROM edges WHERE heartbeat_at < now() - interval '`+forgetEdges+`'`); err != nil {
			return fmt.Errorf("forget old edges: %w", err)
		}
	}
	_, err := conn.Exec(ctx, `INSERT INTO edges (id, started_at, heartbeat_at, applied_version) VALUES ($1, $2, now(), $3)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), applied_version = GREATEST(edges.applied_version, excluded.applied_version)`,
		m.ID, started, m.Applied())
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// leave removes m from the edges table as it stops, so that no change
// waits for it; waiting calls are told.
func (p *Postgres) leave(m *Member) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := p.pool.Exec(ctx, `WITH d AS (DELETE FROM edges WHERE id = $1 RETURNING 1)
SELECT pg_notify('`+ConfirmChannel+`', current_schema()) FROM d`, m.ID)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("postgres: leave: %w", err)
	}
	return nil
}

// broadcast wakes every goroutine waiting on it at once, as many times as it
// fires: next returns a channel that the next fire closes.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *broadcast) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *broadcast) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
