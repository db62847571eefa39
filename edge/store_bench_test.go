package edge

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// BenchmarkSQLiteStore times the edge store's own operations on a real
// SQLite file (WAL, the settings OpenSQLite uses): a key looked up by id
// among 100, an access token looked up by hash among 1,000, an access
// token added, and a key created (its transaction: the existence check,
// then the insert). The figures compare SQLite drivers (BENCHMARKS.md,
// "First start").
func BenchmarkSQLiteStore(b *testing.B) {
	ctx := context.Background()
	pem := signer.EncodePublicKey(&testKey(b, "key1.pem").Key.PublicKey)
	open := func(b *testing.B) *SQLite {
		s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "edge.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	token := func(i int) AccessToken {
		return AccessToken{Hash: sha256.Sum256(fmt.Appendf(nil, "t%d", i)), APIKeyHash: sha256.Sum256([]byte("api")), Expires: time.Unix(1_900_000_000, 0)}
	}
	b.Run("key", func(b *testing.B) {
		s := open(b)
		for i := range 100 {
			if err := s.CreateKey(ctx, Key{ID: fmt.Sprintf("k%03d", i), Name: "n", Bucket: "media", PublicKey: pem, Created: time.Unix(1, 0)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if k, err := s.Key(ctx, fmt.Sprintf("k%03d", i%100)); err != nil || k.Bucket != "media" {
				b.Fatal(k, err)
			}
		}
	})
	b.Run("access_token", func(b *testing.B) {
		s := open(b)
		for i := range 1000 {
			if err := s.AddAccessToken(ctx, token(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			want := token(i % 1000)
			if got, err := s.AccessToken(ctx, want.Hash); err != nil || got.APIKeyHash != want.APIKeyHash {
				b.Fatal(got, err)
			}
		}
	})
	b.Run("add_access_token", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := s.AddAccessToken(ctx, token(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("create_key", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := s.CreateKey(ctx, Key{ID: fmt.Sprintf("k%d", i), Name: "n", Bucket: "media", PublicKey: pem, Created: time.Unix(1, 0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
