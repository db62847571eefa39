package config

import (
	"fmt"
	"time"
)

// EdgeFleet says how edges sharing a PostgreSQL store confirm a
// revocation (SIGNGATE_EDGE_CONFIRM_TIMEOUT, SIGNGATE_EDGE_HEARTBEAT*).
// SQLite, for one node, needs none of it. Zero values, as in an Edge
// built in code, are the defaults.
type EdgeFleet struct {
	// ConfirmTimeout bounds how long a DELETE of a signing key or a
	// change of a bucket's policy through the API waits for every live
	// edge to apply it before answering; the answer says whether all
	// did ("confirmed"). 0 is the default.
	ConfirmTimeout time.Duration `env:"EDGE_CONFIRM_TIMEOUT" envDefault:"2s"`
	// Heartbeat is how often an edge on PostgreSQL tells, over its LISTEN
	// connection, that it is alive and which store version it applied.
	// 0 is the default.
	Heartbeat time.Duration `env:"EDGE_HEARTBEAT" envDefault:"1s"`
	// HeartbeatExpiry is how long after its last heartbeat an edge still
	// counts as live: a change waits for it (at most ConfirmTimeout) and
	// is not confirmed until it has applied it. An edge killed without a
	// word stops counting this long after its last heartbeat. 0 is the
	// default.
	HeartbeatExpiry time.Duration `env:"EDGE_HEARTBEAT_EXPIRY" envDefault:"5s"`
}

// The defaults of EdgeFleet, which its zero values stand for.
const (
	DefaultConfirmTimeout  = 2 * time.Second
	DefaultHeartbeat       = time.Second
	DefaultHeartbeatExpiry = 5 * time.Second
)

// ConfirmWait is ConfirmTimeout, or its default.
func (f EdgeFleet) ConfirmWait() time.Duration {
	return orDefault(f.ConfirmTimeout, DefaultConfirmTimeout)
}

// HeartbeatEvery is Heartbeat, or its default.
func (f EdgeFleet) HeartbeatEvery() time.Duration { return orDefault(f.Heartbeat, DefaultHeartbeat) }

// LiveFor is HeartbeatExpiry, or its default (at least twice the
// heartbeat).
func (f EdgeFleet) LiveFor() time.Duration {
	if f.HeartbeatExpiry == 0 {
		return max(DefaultHeartbeatExpiry, 2*f.HeartbeatEvery())
	}
	return f.HeartbeatExpiry
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (f EdgeFleet) validate() []error {
	var errs []error
	if f.ConfirmTimeout < 0 || f.ConfirmTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("%sEDGE_CONFIRM_TIMEOUT: %s: want 1ms to 1m (0 is the default)", Prefix, f.ConfirmTimeout))
	}
	if f.Heartbeat != 0 && (f.Heartbeat < 10*time.Millisecond || f.Heartbeat > time.Minute) {
		errs = append(errs, fmt.Errorf("%sEDGE_HEARTBEAT: %s: want 10ms to 1m (0 is the default)", Prefix, f.Heartbeat))
	}
	if f.HeartbeatExpiry < 0 || (f.HeartbeatExpiry != 0 && f.HeartbeatExpiry < 2*f.HeartbeatEvery()) {
		errs = append(errs, fmt.Errorf("%sEDGE_HEARTBEAT_EXPIRY: %s: want at least twice SIGNGATE_EDGE_HEARTBEAT (%s), or 0 for the default",
			Prefix, f.HeartbeatExpiry, f.HeartbeatEvery()))
	}
	return errs
}
