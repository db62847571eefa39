package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Cluster is a private PostgreSQL cluster of one test, which the test may
// stop and restart (never the shared one of SIGNGATE_TEST_POSTGRES). Its
// methods fail t on error.
type Cluster struct {
	t    testing.TB
	bin  string // the directory of initdb and pg_ctl
	dir  string // the data directory
	log  string // the server's log file
	as   []string
	URL  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
	Port int
}

// PrivatePostgres starts a PostgreSQL cluster of t's own, on a free port
// of 127.0.0.1, from initdb and pg_ctl (on PATH or under
// /usr/lib/postgresql/*/bin), and stops and removes it when t ends. Run as
// root, the cluster belongs to the user postgres, since initdb refuses
// root. Without the programs it skips t (fails it under CI).
func PrivatePostgres(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping private PostgreSQL test in -short mode")
	}
	c := &Cluster{t: t, bin: postgresBin()}
	if c.bin == "" {
		Missing(t, "PostgreSQL's initdb and pg_ctl", "install postgresql, or put its bin directory on PATH")
	}
	root, err := os.MkdirTemp("", "signgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(t, "the user postgres (initdb refuses root)", err.Error())
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			Missing(t, "runuser (to run initdb as postgres)", "util-linux")
		}
		c.as = []string{runuser, "-u", "postgres", "--"}
	}
	c.dir = filepath.Join(root, "data")
	c.Port = freePort(t)
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	c.run("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", c.Port, root)
	c.log = filepath.Join(root, "log")
	c.run("pg_ctl", "-D", c.dir, "-o", opts, "-l", c.log, "-w", "-t", "60", "start")
	t.Cleanup(func() { c.pgCtl("stop", "-m", "immediate") })
	return c
}

// Restart stops the cluster (fast: connections are cut) and starts it
// again, and returns when it accepts connections.
func (c *Cluster) Restart() {
	c.t.Helper()
	if err := c.pgCtl("restart", "-m", "fast", "-l", c.log); err != nil {
		c.t.Fatal(err)
	}
}

// Stop stops the cluster; Start starts it again.
func (c *Cluster) Stop() {
	c.t.Helper()
	if err := c.pgCtl("stop", "-m", "fast"); err != nil {
		c.t.Fatal(err)
	}
}

// Start starts a stopped cluster, with the options it had.
func (c *Cluster) Start() {
	c.t.Helper()
	if err := c.pgCtl("start", "-l", c.log); err != nil {
		c.t.Fatal(err)
	}
}

func (c *Cluster) pgCtl(args ...string) error {
	args = append([]string{"-D", c.dir, "-w", "-t", "60"}, args...)
	return c.exec("pg_ctl", args...)
}

func (c *Cluster) run(prog string, args ...string) {
	c.t.Helper()
	if err := c.exec(prog, args...); err != nil {
		c.t.Fatal(err)
	}
}

// exec runs prog as the cluster's owner. A server it starts must write to
// the log file (-l), or it would hold the output pipe open.
func (c *Cluster) exec(prog string, args ...string) error {
	argv := append(slices.Clone(c.as), filepath.Join(c.bin, prog))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(c.dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v (after %s): %w\n%s", prog, args, time.Since(start).Round(time.Millisecond), err, out)
	}
	return nil
}

// postgresBin finds the directory that holds initdb and pg_ctl: PATH
// first, then the newest /usr/lib/postgresql/*/bin.
func postgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "pg_ctl"))
		if e1 == nil && e2 == nil {
			return d
		}
	}
	return ""
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
