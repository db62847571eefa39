package tracing

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

func TestClean(t *testing.T) {
	in := func() []attribute.KeyValue {
		return []attribute.KeyValue{
			attribute.String("url.full", "https://user:pw@cdn.example.com/v/a.ts?auth=TOKEN#frag"),
			attribute.String("http.url", "http://h/p?auth=TOKEN"),
			attribute.String("url.query", "auth=TOKEN"),
			attribute.String("http.target", "/p?auth=TOKEN"),
			attribute.String("url.path", "/v/a.ts"),
			attribute.StringSlice("http.request.header.cookie", []string{"session=COOKIE"}),
			attribute.StringSlice("http.response.header.set-cookie", []string{"Qencode-Auth-Token=TOKEN"}),
			attribute.Int("http.response.status_code", 302),
		}
	}
	for _, tt := range []struct {
		name string
		p    Policy
		want map[string]string
	}{
		{"keep path", KeepPath, map[string]string{
			"url.full": "https://cdn.example.com/v/a.ts", "http.url": "http://h/p",
			"url.path": "/v/a.ts", "http.response.status_code": "302",
		}},
		{"hide path", HidePath, map[string]string{
			"url.full": "https://cdn.example.com", "http.url": "http://h",
			"http.response.status_code": "302",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for _, kv := range Clean(in(), tt.p) {
				got[string(kv.Key)] = kv.Value.Emit()
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// FuzzClean: whatever URL a span is handed, what Clean keeps of it holds
// no query, fragment or user info, and under HidePath no path.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"https://u:p@h/p?auth=x#f", "/p?q", "http://h/%2F?x", "::", "http://h?auth=1", "http://[::1]:80/a;b?c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range []Policy{KeepPath, HidePath} {
			for _, kv := range Clean([]attribute.KeyValue{attribute.String("url.full", raw), attribute.String("url.query", raw)}, p) {
				if kv.Key == "url.query" {
					t.Fatalf("url.query kept")
				}
				v := kv.Value.AsString()
				u, err := url.Parse(v)
				if err != nil {
					t.Fatalf("Clean(%q) = %q, which does not parse: %v", raw, v, err)
				}
				if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
					t.Fatalf("Clean(%q) = %q: query, fragment or user info kept", raw, v)
				}
				if p == HidePath && u.Path != "" {
					t.Fatalf("HidePath: Clean(%q) = %q keeps a path", raw, v)
				}
			}
		}
	})
}

// TestOff: the nil Tracer hands back what it was given and starts spans
// without allocating.
func TestOff(t *testing.T) {
	var tr *Tracer
	if New(nil, nil) != nil || tr.On() {
		t.Fatal("New(nil, nil) is not off")
	}
	h := http.NewServeMux()
	if tr.Handler(h, "x", nil) != http.Handler(h) {
		t.Error("off: Handler wrapped")
	}
	rt := http.DefaultTransport
	if tr.Transport(rt, "x", KeepPath) != rt {
		t.Error("off: Transport wrapped")
	}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, s := tr.Start(ctx, "x")
		if s.IsRecording() || c != ctx {
			t.Fatal("off: a recording span")
		}
		s.End()
	})
	if allocs != 0 {
		t.Errorf("off: Start allocates %.0f times", allocs)
	}
}
