package demo

import (
	"context"
	"os/exec"
	"strings"
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
		cmd, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("cmd-"+v)))
		if err != nil {
			t.Fatal(err)
		}
		out[v] = cmd
	}
	return out
}

// runFFplayCommand runs a copied ffplay command as it stands, with
// ffplay standing for ffmpeg decoding every stream to nothing (the same
// options and URL, no window): it must play without an error.
func runFFplayCommand(t *testing.T, ffmpeg, command string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// ffplay OPTIONS... URL  ->  ffmpeg OPTIONS... -i URL -map 0 -f null -
	script := `ffplay() { "$FFMPEG" -nostdin -v error "${@:1:$#-1}" -i "${@: -1}" -map 0 -f null -; }; ` + command
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(cmd.Environ(), "FFMPEG="+ffmpeg)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("the copied command failed: %v\n%s", err, out)
	}
}

// checkCopiedCommands: the page's copied commands need no session and
// no HttpOnly cookie, and play with Debian's ffmpeg.
func checkCopiedCommands(t *testing.T, ctx context.Context, gw string) {
	t.Helper()
	ffmpeg := testenv.Program(t, "ffmpeg")
	cmds := copiedCommands(t, ctx, []string{"progressive", "hls", "dash-cookie"})
	for v, c := range cmds {
		if strings.Contains(c, SessionCookie) || strings.Contains(c, gw) {
			t.Errorf("%s: the command goes through the gateway or needs the session: %s", v, c)
		}
		if v != "progressive" && !strings.Contains(c, "-cookies 'Qencode-Auth-Token=") {
			t.Errorf("%s: the command carries no signed cookie: %s", v, c)
		}
		runFFplayCommand(t, ffmpeg, c)
	}
}
