package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recorder is a tracer provider that exports every ended span at once to
// the SDK's in-memory exporter.
type recorder struct {
	tp  *sdktrace.TracerProvider
	exp *tracetest.InMemoryExporter
}

func newRecorder(t testing.TB) *recorder {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return &recorder{tp: tp, exp: exp}
}

// spans returns what was exported, and forgets it.
func (r *recorder) spans() tracetest.SpanStubs {
	s := r.exp.GetSpans()
	r.exp.Reset()
	return s
}

// named returns the spans called name.
func named(ss tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the single span called name, failing otherwise.
func one(t *testing.T, ss tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	n := named(ss, name)
	if len(n) != 1 {
		t.Fatalf("%d spans named %q, want 1; spans: %v", len(n), name, spanNames(ss))
	}
	return n[0]
}

func spanNames(ss tracetest.SpanStubs) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// childOf fails unless c's parent is p.
func childOf(t *testing.T, c, p tracetest.SpanStub) {
	t.Helper()
	if c.Parent.SpanID() != p.SpanContext.SpanID() || c.SpanContext.TraceID() != p.SpanContext.TraceID() {
		t.Errorf("span %q: parent %s, want %q (%s)", c.Name, c.Parent.SpanID(), p.Name, p.SpanContext.SpanID())
	}
}

func attr(s tracetest.SpanStub, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

// TestTracingRedirect checks the span tree of a redirect: the request,
// its authenticator, the token cache (a miss, then a hit) and the
// signature on the miss alone.
func TestTracingRedirect(t *testing.T) {
	rec := newRecorder(t)
	f := newFixtureWith(t, nil, Options{TracerProvider: rec.tp})
	tok := f.session("alice", nil)
	for i, wantHit := range []string{"false", "true"} {
		resp := f.do("GET", "/media/v/a.mp4?x=1&auth=client-token", bearer(tok))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		ss := rec.spans()
		req := one(t, ss, "GET media 0")
		if req.SpanKind != trace.SpanKindServer || req.Parent.IsValid() {
			t.Errorf("request span: kind %v, parent %v; want a server root", req.SpanKind, req.Parent)
		}
		if p, _ := attr(req, "url.path"); p != "/media/v/a.mp4" {
			t.Errorf("url.path %q", p)
		}
		if r, _ := attr(req, "http.route"); r != "/media" {
			t.Errorf("http.route %q, want /media", r)
		}
		auth := one(t, ss, "auth.jwt")
		childOf(t, auth, req)
		if v, _ := attr(auth, "signgate.auth.verdict"); v != "ok" {
			t.Errorf("auth verdict %q", v)
		}
		cache := one(t, ss, SpanTokenCache)
		childOf(t, cache, req)
		if h, _ := attr(cache, "signgate.token_cache.hit"); h != wantHit {
			t.Errorf("request %d: token_cache hit=%s, want %s", i, h, wantHit)
		}
		signs := named(ss, SpanSign)
		switch {
		case wantHit == "false" && len(signs) != 1:
			t.Fatalf("miss: %d sign spans, want 1", len(signs))
		case wantHit == "false":
			childOf(t, signs[0], cache)
			if k, _ := attr(signs[0], "signgate.key_id"); k != "key1" {
				t.Errorf("sign key_id %q", k)
			}
		case len(signs) != 0:
			t.Errorf("hit: %d sign spans, want none", len(signs))
		}
		if len(ss) != 3+len(signs) {
			t.Errorf("spans %v", spanNames(ss))
		}
	}
}

// TestTracingPassthrough checks the span tree of a pass-through, and that
// the upstream (a real server on 127.0.0.1) receives the traceparent of
// the upstream round trip's span.
func TestTracingPassthrough(t *testing.T) {
	rec := newRecorder(t)
	var mu sync.Mutex
	var got http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Write([]byte("app"))
	}))
	t.Cleanup(up.Close)
	f := newFixtureWith(t, map[string]string{"SIGNGATE_UPSTREAM": up.URL}, Options{TracerProvider: rec.tp})
	resp := f.do("GET", "/app/page?session=s3cret", map[string]string{"Cookie": "session=cookie-secret"})
	if b := body(t, resp); resp.StatusCode != http.StatusOK || b != "app" {
		t.Fatalf("status %d, body %q", resp.StatusCode, b)
	}
	resp.Body.Close()
	ss := rec.spans()
	req := one(t, ss, "GET passthrough")
	upstream := one(t, ss, SpanUpstream)
	childOf(t, upstream, req)
	if upstream.SpanKind != trace.SpanKindClient {
		t.Errorf("upstream span kind %v", upstream.SpanKind)
	}
	if u, _ := attr(upstream, "url.full"); u != up.URL+"/app/page" {
		t.Errorf("url.full %q, want %q (no query)", u, up.URL+"/app/page")
	}
	mu.Lock()
	defer mu.Unlock()
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(got)))
	if !sc.IsValid() || sc.TraceID() != req.SpanContext.TraceID() || sc.SpanID() != upstream.SpanContext.SpanID() {
		t.Errorf("traceparent at the upstream %q: want trace %s, parent %s", got.Get("traceparent"), req.SpanContext.TraceID(), upstream.SpanContext.SpanID())
	}
}

// TestTracingOff: without a provider the handler and transports are the
// untraced ones, and the upstream gets no traceparent of ours.
func TestTracingOff(t *testing.T) {
	f := newFixture(t, nil)
	if f.gw.tracer.On() {
		t.Fatal("tracing on without a provider")
	}
	resp := f.do("GET", "/app", nil)
	resp.Body.Close()
	if tp := f.app.lastRequest().Header.Get("traceparent"); tp != "" {
		t.Errorf("traceparent %q sent with tracing off", tp)
	}
}

// BenchmarkRedirectHitTraced is BenchmarkRedirectHit/jwt with tracing on:
// every span sampled and recorded (no exporter), the cost of the
// instrumentation itself.
func BenchmarkRedirectHitTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	f := newFixtureWith(b, map[string]string{"SIGNGATE_ACCESS_LOG": "false"}, Options{TracerProvider: tp})
	h := f.gw.Handler()
	tok := f.session("alice", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			r := httptest.NewRequest("GET", "/media/v/a.mp4", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != http.StatusFound {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// TestTracingRefreshAhead: a hit in the last stretch of its token's step
// is a hit (token_cache hit=true, no sign span in its trace), and the
// refresh ahead it starts in the background is a sign span in a trace of
// its own (signgate.token_cache.ahead), linked to the hit's token_cache
// span. The background signature used to set the request's "signed"
// flag after the request had read it: a data race, and a hit reported as
// a miss when the signature won it.
func TestTracingRefreshAhead(t *testing.T) {
	rec := newRecorder(t)
	f := newFixtureWith(t, nil, Options{TracerProvider: rec.tp})
	tok := f.session("alice", nil)
	if resp := f.do("GET", "/media/v/a.mp4", bearer(tok)); resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rec.spans()
	_, refresh := f.gw.routes[0].life.Expiry(f.clock.Now())
	f.clock.Advance(refresh.Sub(f.clock.Now()) - time.Second) // past every scope's aheadFrom
	if resp := f.do("GET", "/media/v/a.mp4", bearer(tok)); resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.gw.Cache().Stats().Ahead < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no refresh ahead: %+v", f.gw.Cache().Stats())
		}
		runtime.Gosched() // the background flight runs; bounded by the deadline
	}
	ss := rec.spans()
	cache := one(t, ss, SpanTokenCache)
	if h, _ := attr(cache, "signgate.token_cache.hit"); h != "true" {
		t.Errorf("the hit that started a refresh ahead: token_cache hit=%s", h)
	}
	sign := one(t, ss, SpanSign)
	if a, _ := attr(sign, "signgate.token_cache.ahead"); a != "true" {
		t.Errorf("the refresh ahead's sign span: ahead=%q", a)
	}
	if sign.Parent.IsValid() || sign.SpanContext.TraceID() == cache.SpanContext.TraceID() {
		t.Errorf("the refresh ahead's sign span is in the request's trace (parent %v)", sign.Parent)
	}
	if len(sign.Links) != 1 || sign.Links[0].SpanContext.SpanID() != cache.SpanContext.SpanID() {
		t.Errorf("the refresh ahead's sign span links %v, want the token_cache span %s", sign.Links, cache.SpanContext.SpanID())
	}
}
