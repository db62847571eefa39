package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is the soak's own PostgreSQL: initdb into a temporary directory,
// a free port on 127.0.0.1, run as the postgres user when the soak runs
// as root (initdb refuses root). The soak restarts it; it never touches
// any other cluster.
type cluster struct {
	bin      string // directory of initdb and postgres
	dir      string // data directory
	sock     string // its Unix socket directory
	port     int
	password string
	cred     *syscall.Credential // nil: as the soak's own user
	procs    *procs
	version  string
}

func newCluster(bin, tmp string, ps *procs) (*cluster, error) {
	c := &cluster{bin: bin, dir: filepath.Join(tmp, "pg", "data"), sock: filepath.Join(tmp, "pg", "sock"), procs: ps}
	var b [16]byte
	rand.Read(b[:])
	c.password = hex.EncodeToString(b[:])
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.port = port
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	for _, d := range []string{filepath.Dir(c.dir), c.dir, c.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return nil, err
		}
	}
	pw := filepath.Join(filepath.Dir(c.dir), "pwfile")
	if err := os.WriteFile(pw, []byte(c.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(pw)
	if err := os.Chown(pw, uid, gid); err != nil {
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "soak", "-E", "UTF8",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pw)
	initdb.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
	initdb.Dir = filepath.Dir(c.dir)
	if c.cred != nil {
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	v, _ := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	c.version = strings.TrimSpace(string(v))
	return c, nil
}

// url is the edge's SIGNGATE_EDGE_DB.
func (c *cluster) url() string {
	return fmt.Sprintf("postgres://soak:%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.password, c.port)
}

// start runs the postmaster and waits until it takes a query.
func (c *cluster) start(ctx context.Context) error {
	argv := []string{filepath.Join(c.bin, "postgres"), "-D", c.dir, "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + c.sock,
		"-c", "max_connections=60", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning"}
	p, err := c.procs.start("postgres", argv, []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C"}, c.cred)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.url())
		if err == nil {
			err = conn.Ping(cctx)
			conn.Close(cctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited at start: %s\n%s", p.cmd.ProcessState, c.procs.tail("postgres", 10))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not take a query within 60 s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop shuts the postmaster down (SIGINT: fast shutdown, which ends every
// session) and waits for it.
func (c *cluster) stop() error {
	if !c.procs.stop("postgres", syscall.SIGINT, 30*time.Second) {
		return fmt.Errorf("postgres did not stop within 30 s of SIGINT and was killed")
	}
	return nil
}
