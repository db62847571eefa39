package demo

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signgate/signgate/internal/testenv"
)

// copiedCommands clicks each variant's "Copy ffplay command" button and
// returns the commands the page shows, by variant.
func copiedCommands(t *testing.T, ctx context.Context, variants []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range variants {
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("copy-"+v)),
			chromedp.Poll[chromedp.Void](`document.getElementById('cmd-`+v+`').textContent.startsWith('ffplay ')`, chromedp.WithPollingTimeout(10*time.Second)),
		); err != nil {
			t.Fatalf("copy the ffplay command of %s: %v", v, err)
		}
		cmd, err := testenv.TextOf(ctx, "cmd-"+v)
		if err != nil {
			t.Fatal(err)
		}
		out[v] = cmd
	}
	return out
}

// runFFplayCommand runs a copied ffplay command as it stands, with no
// window and no sound card (-nodisp, SDL's dummy drivers), to the end of
// the media (-autoexit): it must play the whole sample, 6 s, in real time
// without a word at -loglevel error (ffplay exits 0 on errors too).
func runFFplayCommand(t *testing.T, ffplay, command string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	script := `ffplay() { "$FFPLAY" -nodisp -autoexit -loglevel error "$@"; }; ` + command
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(cmd.Environ(), "FFPLAY="+ffplay, "SDL_VIDEODRIVER=dummy", "SDL_AUDIODRIVER=dummy")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if took := time.Since(start); err != nil || len(strings.TrimSpace(string(out))) > 0 || took < 5*time.Second {
		t.Errorf("the copied command ended after %s: %v\n%s", took.Round(100*time.Millisecond), err, out)
	}
}

// checkCopiedCommands: the page's copied commands need no session and
// no HttpOnly cookie, go straight to the edge, and play in Debian's
// ffplay.
func checkCopiedCommands(t *testing.T, ctx context.Context, gw string) {
	t.Helper()
	ffplay := testenv.Program(t, "ffplay")
	cmds := copiedCommands(t, ctx, []string{"progressive", "hls", "dash-cookie"})
	var wg sync.WaitGroup
	for v, c := range cmds {
		if strings.Contains(c, SessionCookie) || strings.Contains(c, gw) {
			t.Errorf("%s: the command goes through the gateway or needs the session: %s", v, c)
		}
		if v != "progressive" && !strings.Contains(c, "-cookies 'Qencode-Auth-Token=") {
			t.Errorf("%s: the command carries no signed cookie: %s", v, c)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runFFplayCommand(t, ffplay, c)
		}()
	}
	wg.Wait()
}
