package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs are the processes the soak started, by name. Each is stopped by
// its PID when the soak ends (stopAll), whatever way it ends; one that
// exits without being asked to is reported on died.
type procs struct {
	logDir string
	died   chan string // names of processes that exited unasked

	mu    sync.Mutex
	order []string
	byNam map[string]*proc
}

type proc struct {
	name  string
	cmd   *exec.Cmd
	done  chan struct{} // closed once the process has exited
	asked bool          // guarded by procs.mu: stop was called
}

func newProcs(logDir string) *procs {
	return &procs{logDir: logDir, died: make(chan string, 16), byNam: map[string]*proc{}}
}

// start runs argv with exactly env (no inherited variables), its output
// appended to logs/NAME.log, as cred when not nil.
func (ps *procs) start(name string, argv, env []string, cred *syscall.Credential) (*proc, error) {
	logf, err := os.OpenFile(filepath.Join(ps.logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	ps.mu.Lock()
	if _, again := ps.byNam[name]; !again {
		ps.order = append(ps.order, name)
	}
	ps.byNam[name] = p
	ps.mu.Unlock()
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
		ps.mu.Lock()
		asked := p.asked
		ps.mu.Unlock()
		if !asked {
			select {
			case ps.died <- fmt.Sprintf("%s (pid %d) exited by itself: %s; see %s", name, cmd.Process.Pid, cmd.ProcessState, filepath.Join(ps.logDir, name+".log")):
			default:
			}
		}
	}()
	return p, nil
}

// get returns the running process of that name, or nil.
func (ps *procs) get(name string) *proc {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.byNam[name]
}

// stop sends sig to the process NAME (by its PID), waits up to wait for
// it to exit, then kills it. It reports whether it exited in time.
func (ps *procs) stop(name string, sig syscall.Signal, wait time.Duration) bool {
	ps.mu.Lock()
	p := ps.byNam[name]
	if p != nil {
		p.asked = true
	}
	ps.mu.Unlock()
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(wait):
	}
	p.cmd.Process.Kill()
	<-p.done
	return false
}

// stopAll stops every process, the last started first: SIGTERM, and
// SIGKILL after 15 s (PostgreSQL: SIGINT, its fast shutdown).
func (ps *procs) stopAll() {
	ps.mu.Lock()
	order := append([]string(nil), ps.order...)
	ps.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		sig := syscall.SIGTERM
		if order[i] == "postgres" {
			sig = syscall.SIGINT
		}
		ps.stop(order[i], sig, 15*time.Second)
	}
}

// tail returns the last lines of NAME's log, for an error message.
func (ps *procs) tail(name string, lines int) string {
	b, err := os.ReadFile(filepath.Join(ps.logDir, name+".log"))
	if err != nil {
		return ""
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// logSize is the size of NAME's log now.
func (ps *procs) logSize(name string) int64 {
	st, err := os.Stat(filepath.Join(ps.logDir, name+".log"))
	if err != nil {
		return 0
	}
	return st.Size()
}

// logFrom returns NAME's log from offset on (at most 1 MiB).
func (ps *procs) logFrom(name string, offset int64) string {
	f, err := os.Open(filepath.Join(ps.logDir, name+".log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 1<<20)
	n, _ := f.ReadAt(b, offset)
	return string(b[:n])
}

// waitHTTP polls url until it answers want, up to limit, or until the
// process p exits.
func waitHTTP(ctx context.Context, p *proc, url string, want int, limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		if p != nil {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited while starting: %s", p.name, p.cmd.ProcessState)
			default:
			}
		}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer %d within %s (last: %s)", url, want, limit, last)
}

// freePort returns a port free on 127.0.0.1 at the time of asking.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pidRSS returns a process's resident set and its peak (VmRSS, VmHWM)
// in bytes, from /proc.
func pidRSS(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb)
			rss = kb << 10
		case strings.HasPrefix(line, "VmHWM:"):
			fmt.Sscanf(strings.TrimPrefix(line, "VmHWM:"), "%d", &kb)
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}
