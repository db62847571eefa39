package edge

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notifier is a Store that tells when its keys or policies may have
// changed, through another edge or by hand, so that an Edge refreshes its
// snapshot at once instead of at its next periodic refresh. New uses it
// when its store has it; the periodic refresh goes on regardless.
type Notifier interface {
	// Changes starts watching the store and returns a channel that
	// receives a value whenever keys or policies may have changed,
	// including each time the watch (re)starts, as changes may have been
	// missed before. Values coalesce: one pending value stands for any
	// number of changes. The watch retries, logging to log, until ctx
	// ends; the channel is closed once it has stopped.
	Changes(ctx context.Context, log *slog.Logger) <-chan struct{}
}

// listenerTiming is how a Postgres change listener paces itself.
type listenerTiming struct {
	// idle is how long the listener waits for a notification before it
	// pings the connection, so that a connection lost without a word
	// (a dropped route, a frozen server) is noticed.
	idle time.Duration
	// ping bounds that ping.
	ping time.Duration
	// minBackoff and maxBackoff bound the wait before a reconnection,
	// doubled (with jitter) after each failed attempt. The bound is low
	// (1 s), since a revocation waits for every live edge to reconnect
	// (SIGNGATE_EDGE_CONFIRM_TIMEOUT), and an attempt costs the database
	// one refused or accepted connection.
	minBackoff, maxBackoff time.Duration
}

func defaultListenerTiming() listenerTiming {
	return listenerTiming{idle: 30 * time.Second, ping: 5 * time.Second, minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
}

// listenerAppName names the listening connection in pg_stat_activity,
// unless the URL sets application_name.
const listenerAppName = "signgate-edge-listener"

// Changes implements Notifier: it LISTENs on NotifyChannel over a
// connection of its own (not one of the pool's), and on a lost connection
// reconnects with backoff and reports a change, so that the edge does a
// full refresh. Close stops it too.
func (p *Postgres) Changes(ctx context.Context, log *slog.Logger) <-chan struct{} {
	return p.start(ctx, log, nil)
}

// Join implements Fleet: Changes, and m's heartbeat on the listening
// connection, so that m counts as live exactly while it listens (and for
// the expiry of its last heartbeat after).
func (p *Postgres) Join(ctx context.Context, log *slog.Logger, m Member) <-chan struct{} {
	return p.start(ctx, log, &m)
}

func (p *Postgres) start(ctx context.Context, log *slog.Logger, m *Member) <-chan struct{} {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ch := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.base, cancel)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(ch)
		defer stop()
		defer cancel()
		p.watch(ctx, log, ch, m)
		if m != nil {
			if err := p.leave(m); err != nil {
				log.Warn("postgres: could not unregister this edge; it stops counting once its heartbeat expires", "err", err)
			}
		}
	}()
	return ch
}

// watch listens until ctx ends, reconnecting after each loss.
func (p *Postgres) watch(ctx context.Context, log *slog.Logger, ch chan<- struct{}, m *Member) {
	wait := p.listener.minBackoff
	started := time.Now()
	for attempt := 0; ; attempt++ {
		listened, err := p.listen(ctx, log, ch, m, started, attempt)
		p.listenPID.Store(0)
		if ctx.Err() != nil {
			return
		}
		if listened {
			wait = p.listener.minBackoff
			// A connection that was listening failed: the server most
			// likely restarted or failed over, and took the pool's
			// connections with it. Drop them now, so that the next API
			// call opens a fresh one instead of failing on a dead one.
			p.pool.Reset()
		}
		d := jitter(wait)
		log.Warn("postgres: change notifications interrupted; reconnecting",
			"db", p.redacted, "err", err, "retry_in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, p.listener.maxBackoff)
	}
}

// listen connects, LISTENs, registers m (when not nil), reports a change
// (whatever happened before LISTEN was missed), then reports each
// notification for this store's schema until the connection fails or ctx
// ends. Between notifications it renews m's heartbeat every m.Heartbeat,
// or without m pings the connection after listener.idle, so that a
// connection lost without a word is noticed. listened tells whether
// LISTEN took effect.
func (p *Postgres) listen(ctx context.Context, log *slog.Logger, ch chan<- struct{}, m *Member, started time.Time, attempt int) (listened bool, err error) {
	cfg := p.pool.Config().ConnConfig
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = listenerAppName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false, fmt.Errorf("current schema: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+NotifyChannel+`; LISTEN `+ConfirmChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	every := p.listener.idle
	if m != nil {
		every = m.Heartbeat
		if err := p.beat(ctx, conn, m, started, attempt == 0); err != nil {
			return false, err
		}
	}
	pid := conn.PgConn().PID()
	p.listenPID.Store(pid)
	if attempt > 0 {
		log.Info("postgres: listening for changes again; refreshing", "db", p.redacted, "pid", pid)
	} else {
		log.Debug("postgres: listening for changes", "db", p.redacted, "pid", pid, "channel", NotifyChannel)
	}
	notify(ch)
	p.confirms.fire() // a waiting call may have missed confirmations meanwhile
	next := time.Now().Add(every)
	for {
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			switch {
			case n.Payload != schema:
			case n.Channel == NotifyChannel:
				notify(ch)
			case n.Channel == ConfirmChannel:
				p.confirms.fire()
			}
		case ctx.Err() != nil:
			return true, ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			next = time.Now().Add(every)
			if m != nil {
				if err := p.beat(ctx, conn, m, started, false); err != nil {
					return true, err
				}
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, p.listener.ping)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("ping after %s without a notification: %w", p.listener.idle, err)
			}
			log.Debug("postgres: listener idle; connection alive", "pid", pid, "idle", p.listener.idle)
		default:
			return true, err
		}
	}
}

// beat is heartbeat, bounded by listener.ping.
func (p *Postgres) beat(ctx context.Context, conn *pgx.Conn, m *Member, started time.Time, first bool) error {
	ctx, cancel := context.WithTimeout(ctx, p.listener.ping)
	defer cancel()
	return heartbeat(ctx, conn, m, started, first)
}

// notify puts a value in ch unless one is already waiting.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// jitter spreads d by ±20%, so that edges that lost their database
// together do not reconnect in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
