package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// A revocation confirmed by every edge: with a shared PostgreSQL store,
// each edge registers itself in the store, sends a heartbeat over its
// LISTEN connection and records the store version its snapshot holds. A
// DELETE of a key or a change of a policy through the API then waits,
// for at most SIGNGATE_EDGE_CONFIRM_TIMEOUT, until every live edge has
// applied the change, and its answer says whether all did.

// Fleet is a Store shared by several edges that tells which version of
// the store each edge has applied. Postgres is one; SQLite, for one node,
// is not.
type Fleet interface {
	Store
	// Join is Notifier.Changes for edge m: while its listening
	// connection is up, m is registered in the store, with a heartbeat
	// every m.Heartbeat that records m.Applied(). When ctx ends, m is
	// removed, so that no change waits for it.
	Join(ctx context.Context, log *slog.Logger, m Member) <-chan struct{}
	// Version returns the store's change version: every write to keys or
	// policies, by any edge or by hand, increases it in its transaction.
	Version(ctx context.Context) (int64, error)
	// Applied records that edge id holds every change up to version v.
	Applied(ctx context.Context, id string, v int64) error
	// Confirm waits until every edge whose last heartbeat is less than
	// live ago, and self, has applied version v, for at most wait. Its
	// Confirmation lists those that have not, if any.
	Confirm(ctx context.Context, self string, v int64, wait, live time.Duration) (Confirmation, error)
}

// Member is an edge as Fleet.Join registers it.
type Member struct {
	ID        string
	Heartbeat time.Duration
	// Applied returns the store version the edge's snapshot holds.
	Applied func() int64
}

// Confirmation says whether a change reached every live edge.
type Confirmation struct {
	Confirmed bool
	Edges     int      // the live edges, this one included
	Pending   []string // the ids of live edges that have not applied it; never nil
}

// newEdgeID names this edge in the store: host name, process id and a
// random part, so that two edges on one host differ.
func newEdgeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "edge"
	}
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ID is the name this edge is registered under in a shared store, as
// "pending" lists it.
func (e *Edge) ID() string { return e.id }

// confirm waits until every live edge has applied version v, which this
// edge's own refresh applied (applied false: that refresh failed, so the
// version is unknown), and records the outcome.
func (e *Edge) confirm(ctx context.Context, v int64, applied bool) Confirmation {
	if e.fleet == nil {
		// One node: the write is in this edge's snapshot, through the
		// refresh or its fallback.
		return Confirmation{Confirmed: true, Edges: 1, Pending: []string{}}
	}
	start := time.Now()
	c := Confirmation{Edges: 1, Pending: []string{e.id}}
	var err error
	if applied {
		c, err = e.fleet.Confirm(ctx, e.id, v, e.cfg.ConfirmWait(), e.cfg.LiveFor())
	}
	waited := time.Since(start)
	e.metrics.confirmed(c.Confirmed, waited)
	switch {
	case err != nil:
		e.log.Error("confirm a change with the other edges", "version", v, "err", err)
		c = Confirmation{Edges: max(c.Edges, 1), Pending: nonNil(c.Pending)}
	case !c.Confirmed:
		e.log.Warn("change not confirmed by every live edge within SIGNGATE_EDGE_CONFIRM_TIMEOUT",
			"version", v, "edges", c.Edges, "pending", c.Pending, "waited", waited.Round(time.Millisecond))
	default:
		e.log.Debug("change confirmed by every live edge", "version", v, "edges", c.Edges, "waited", waited.Round(time.Microsecond))
	}
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
