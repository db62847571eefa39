package edge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// Bucket keys never open streams, stream keys never open buckets, and a
// stream's keys open that stream alone: a property over generated keys
// (each a bucket's or a stream's, configured or not, some sharing their
// RSA key under another kid and owner), tokens and requests, checked
// against an oracle that knows only who owns each kid.

// space is a bucket or a stream, as the oracle sees it.
type space struct {
	stream bool
	name   string
}

func (s space) String() string {
	if s.stream {
		return "stream " + s.name
	}
	return "bucket " + s.name
}

// The spaces of the property's edge. Names collide on purpose: a bucket
// and a stream are both "cam1" and "media", and a stream "Cam1" differs
// from "cam1" by case only.
var (
	propBuckets = map[string]config.Bucket{
		"media": {Name: "media", Region: "us-west", Policy: config.PolicyPublic},
		"other": {Name: "other", Region: "us-west", Policy: config.PolicyAuthenticated},
		"cam1":  {Name: "cam1", Region: "us-west", Policy: config.PolicyAuthenticated},
	}
	propStreams = []string{"cam1", "media", "Cam1", "s.2"}
	// Keys may belong to spaces this edge does not serve.
	propOwners = []space{
		{false, "media"}, {false, "other"}, {false, "cam1"}, {false, "ghost"},
		{true, "cam1"}, {true, "media"}, {true, "Cam1"}, {true, "s.2"}, {true, "ghost"},
	}
	propTargets = []space{
		{false, "media"}, {false, "other"}, {false, "cam1"},
		{true, "cam1"}, {true, "media"}, {true, "Cam1"}, {true, "s.2"},
	}
	propPaths = []string{"/x.ts", "/a/x.ts", "/a/b.m3u8", "/b/y.ts"}
	propURIs  = []string{"", "/a", "/a/x.ts", "/b", "/x.ts", "/live/cam1"}
)

// propFiles are the files of every bucket and stream: the same paths, so
// that only the rules tell them apart.
var propFiles = []string{"x.ts", "a/x.ts", "a/b.m3u8", "b/y.ts", "live/cam1/x.ts"}

// propKey is a generated key: its kid, the test key it uses, its owner,
// and whether it is stored (a token may name a kid the edge never had)
// and still not deleted.
type propKey struct {
	kid   string
	file  string
	owner space
	live  bool
}

// propEdge starts the property's edge.
func propEdge(t *testing.T) *harness {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	cfg.Buckets = nil
	for _, name := range []string{"media", "other", "cam1"} {
		b := propBuckets[name]
		b.Origin = filepath.Join(root, "b-"+name)
		cfg.Buckets = append(cfg.Buckets, b)
	}
	for i, id := range propStreams {
		s := config.Stream{ID: id, Origin: filepath.Join(root, fmt.Sprintf("s-%d", i))}
		if id == "media" {
			s.Hosts = []string{"play-media.example.test"}
		}
		cfg.Streams = append(cfg.Streams, s)
	}
	for _, dir := range append(bucketDirs(cfg), streamDirs(cfg)...) {
		for _, f := range propFiles {
			writeFile(t, filepath.Join(dir, f), dir+" "+f)
		}
	}
	return startHarness(t, cfg, newClock())
}

func bucketDirs(c config.Edge) (out []string) {
	for _, b := range c.Buckets {
		out = append(out, b.Origin)
	}
	return out
}

func streamDirs(c config.Edge) (out []string) {
	for _, s := range c.Streams {
		out = append(out, s.Origin)
	}
	return out
}

// propRequest is a request for path p of space to, through one of the
// ways to reach it: for a bucket its host; for a stream its path form on
// a host of no bucket or on a bucket's host, or its own host.
func propRequest(r *rand.Rand, to space, p string) *http.Request {
	host, target := to.name+".media-storage.us-west.example.test", p
	if to.stream {
		target = config.LivePrefix + to.name + p
		switch r.IntN(3) {
		case 0:
			host = edgeHost
		case 1:
			host = "other.media-storage.us-west.example.test"
		default:
			if to.name == "media" {
				host, target = "play-media.example.test", p
			} else {
				host = edgeHost
			}
		}
	}
	return httptest.NewRequest(http.MethodGet, "http://"+host+target, nil)
}

// covers is the oracle's own reading of a uri claim: the whole space, or
// the claim itself and what lies below it at a "/".
func covers(uri, p string) bool {
	u := "/" + strings.Trim(uri, "/")
	return uri == "" || p == u || strings.HasPrefix(p, u+"/")
}

// opens is the oracle: whether a token of key k (nil: no token) with
// claim uri opens path p of space to.
func opens(k *propKey, uri string, to space, p string) bool {
	if !to.stream && propBuckets[to.name].Policy == config.PolicyPublic {
		return true
	}
	return k != nil && k.live && k.owner == to && covers(uri, p)
}

func TestStreamKeysProperty(t *testing.T) {
	trials := 120
	if testing.Short() {
		trials = 60
	}
	h := propEdge(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(12, 34))
	exp := h.clock.Now().Add(time.Hour)
	files := []string{"key1.pem", "key2.pem"}
	signers := map[string]*signer.SigningKey{}
	for _, f := range files {
		signers[f] = testKey(t, f)
	}
	// opened: by a token (not a public bucket); crossed: refused though
	// the key is live and its claim covers the path, for it is another
	// space's, the case the property is about.
	checked, opened, crossed := 0, 0, 0
	for trial := range trials {
		var keys []*propKey
		for i := range 1 + r.IntN(4) {
			k := &propKey{kid: fmt.Sprintf("t%d-k%d", trial, i), file: files[r.IntN(len(files))], owner: propOwners[r.IntN(len(propOwners))], live: r.IntN(6) > 0}
			if k.live {
				pub := signers[k.file].Public()
				sk := Key{ID: k.kid, PublicKey: signer.EncodePublicKey(pub.Key), Created: h.clock.Now()}
				if k.owner.stream {
					sk.StreamID = k.owner.name
				} else {
					sk.Bucket = k.owner.name
				}
				if err := h.e.store.CreateKey(ctx, sk); err != nil {
					t.Fatal(err)
				}
			}
			keys = append(keys, k)
		}
		if err := h.e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		type probe struct {
			k        *propKey
			uri, tok string
			to       space
			p        string
			cookie   bool
		}
		var probes []probe
		for range 8 {
			pr := probe{to: propTargets[r.IntN(len(propTargets))], p: propPaths[r.IntN(len(propPaths))], cookie: r.IntN(4) == 0}
			if r.IntN(8) > 0 {
				pr.k = keys[r.IntN(len(keys))]
				pr.uri = propURIs[r.IntN(len(propURIs))]
				if r.IntN(2) == 0 && pr.k.owner.name != "ghost" {
					pr.to = pr.k.owner // half the time, the key's own space
				}
				sk := *signers[pr.k.file]
				sk.ID = pr.k.kid
				pr.tok = sign(t, &sk, signer.Claims{URI: pr.uri, Expires: exp})
			}
			probes = append(probes, pr)
		}
		// Each probe twice (the second from the verified-token cache),
		// then again after a key is deleted through the edge.
		run := func(round string) {
			for _, pr := range probes {
				for range 2 {
					req := propRequest(r, pr.to, pr.p)
					if pr.tok != "" && pr.cookie {
						req.AddCookie(&http.Cookie{Name: CookieName, Value: pr.tok})
					} else if pr.tok != "" {
						req.URL.RawQuery = "auth=" + pr.tok
					}
					rec := httptest.NewRecorder()
					h.e.Handler().ServeHTTP(rec, req)
					want := opens(pr.k, pr.uri, pr.to, pr.p)
					checked++
					switch {
					case want && rec.Code != http.StatusOK:
						t.Fatalf("trial %d %s: %s %s of %v, key %+v uri %q: %d %s, want 200", trial, round, req.Host, req.URL.Path, pr.to, pr.k, pr.uri, rec.Code, rec.Header().Get(ReasonHeader))
					case !want && rec.Code != http.StatusUnauthorized && rec.Code != http.StatusForbidden:
						t.Fatalf("trial %d %s: %s %s of %v, key %+v uri %q: %d, want 401 or 403", trial, round, req.Host, req.URL.Path, pr.to, pr.k, pr.uri, rec.Code)
					case want:
						if got, dir := rec.Body.String(), h.dirOf(pr.to); !strings.HasPrefix(got, dir+" ") {
							t.Fatalf("trial %d: %v %s served %q, not from %s", trial, pr.to, pr.p, got, dir)
						}
					}
					switch {
					case !want && pr.k != nil && pr.k.live && covers(pr.uri, pr.p):
						crossed++
					case want && pr.k != nil && pr.k.owner == pr.to:
						opened++
					}
				}
			}
		}
		run("before")
		if k := keys[r.IntN(len(keys))]; k.live {
			if err := h.e.DeleteKey(ctx, k.kid); err != nil {
				t.Fatal(err)
			}
			k.live = false
		}
		run("after a deletion")
		for _, k := range keys {
			if k.live {
				if err := h.e.DeleteKey(ctx, k.kid); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	t.Logf("%d trials, %d requests checked, %d opened by a token, %d refused to a live key of another space", trials, checked, opened, crossed)
	if opened < checked/20 || crossed < checked/10 {
		t.Fatalf("the generator is too weak: of %d requests, %d opened by a token, %d crossed", checked, opened, crossed)
	}
}

// dirOf returns the directory the property's edge serves space s from.
func (h *harness) dirOf(s space) string {
	if s.stream {
		return h.e.byStream[s.name].origin.(*dirOrigin).root.Name()
	}
	return h.e.byName[s.name].origin.(*dirOrigin).root.Name()
}
