package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy/auth"
)

// newFromEnv builds a gateway from the environment's configuration, as
// cmd/signgate's adapter does (adapter.go there; a main package cannot be
// imported, so the tests keep this copy): proxy's Config, the chain of
// SIGNGATE_AUTH, and errors naming SIGNGATE_* variables. The gateway's
// Close closes the authenticators built here.
func newFromEnv(cfg config.Gateway, opts Options) (*Gateway, error) {
	ctx := context.Background()
	links, closers, err := envLinks(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	opts.Auth, opts.Names = links, envName
	g, err := New(ctx, envConfig(cfg), opts)
	if err != nil {
		for _, c := range closers {
			c.Close()
		}
		return nil, envErrors(err)
	}
	g.closers = append(g.closers, closers...)
	return g, nil
}

// checkKeysEnv is CheckKeys on cfg, naming the variables.
func checkKeysEnv(cfg config.Gateway) error {
	return envErrors(CheckKeys(context.Background(), envConfig(cfg), envName))
}

func envConfig(cfg config.Gateway) Config {
	pc := Config{
		Upstream: cfg.Upstream, UpstreamIdentity: cfg.UpstreamIdentity, UpstreamTimeout: cfg.UpstreamTimeout,
		SubjectHeader: cfg.SubjectHeader, AuthHeader: cfg.AuthHeader, TrustedProxies: cfg.TrustedPrefixes(),
		LoginURL: cfg.LoginURL, LoginReturnParam: cfg.LoginReturnParam, CacheSize: cfg.CacheSize,
		CORSOrigins: cfg.CORSOrigins, CORSHeaders: cfg.CORSHeaders, CORSMaxAge: cfg.CORSMaxAge,
		AccessLog: cfg.AccessLog, WatchKeys: cfg.WatchKeys, ManifestConcurrency: cfg.ManifestConcurrency,
		BodyTimeout: cfg.BodyTimeout, BodyIdleTimeout: cfg.BodyIdleTimeout, BodyMinRate: cfg.BodyMinRate, BodyRateWindow: cfg.BodyRateWindow,
	}
	for _, rc := range cfg.Routes {
		pc.Routes = append(pc.Routes, Route{Route: rc})
	}
	return pc
}

func envLinks(ctx context.Context, cfg config.Gateway, opts Options) ([]auth.Link, []io.Closer, error) {
	var links []auth.Link
	var closers []io.Closer
	for _, name := range cfg.Auth {
		switch name {
		case config.AuthHeader:
			links = append(links, auth.Link{Name: name, Authenticator: &auth.Header{Header: cfg.AuthHeader, Trusted: cfg.TrustedPrefixes()}})
		case config.AuthJWT:
			o := auth.JWTOptions{Algorithms: cfg.JWTAlgorithms, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
				SubjectClaim: cfg.JWTSubjectClaim, Leeway: cfg.JWTLeeway, Cookie: cfg.JWTCookie, Now: opts.Now}
			var key any
			keyVar := config.GatewayVar("JWT_SECRET")
			switch {
			case cfg.JWTSecret.Reveal() != "":
				key = []byte(cfg.JWTSecret.Reveal())
			case cfg.JWTPublicKeyFile != "":
				keyVar = config.GatewayVar("JWT_PUBLIC_KEY_FILE")
				b, err := os.ReadFile(cfg.JWTPublicKeyFile)
				if err == nil {
					key, err = auth.ParsePublicKey(b)
				}
				if err != nil {
					return nil, closers, &config.VarError{Name: keyVar, Err: err}
				}
			case cfg.JWTJWKSURL != "":
				ks, err := auth.NewJWKS(ctx, cfg.JWTJWKSURL, &http.Client{Timeout: 10 * time.Second, Transport: opts.Transport},
					auth.JWKSRefresh(cfg.JWKSRefresh), auth.JWKSUnknownKIDRate(cfg.JWKSUnknownKIDRate), auth.JWKSLog(opts.Log))
				if err != nil {
					return nil, closers, &config.VarError{Name: config.GatewayVar("JWT_JWKS_URL"), Err: err}
				}
				closers, key = append(closers, ks), ks
			}
			j, err := auth.NewJWT(key, o)
			if err != nil {
				if len(cfg.JWTAlgorithms) > 0 {
					keyVar = config.GatewayVar("JWT_ALGORITHMS")
				}
				return nil, closers, &config.VarError{Name: keyVar, Err: err}
			}
			closers = append(closers, j)
			links = append(links, auth.Link{Name: name, Authenticator: j})
		case config.AuthForward:
			links = append(links, Forward(name, auth.ForwardOptions{URL: cfg.ForwardURL, SubjectHeader: cfg.ForwardSubjectHeader,
				TTL: cfg.ForwardTTL, Timeout: cfg.ForwardTimeout, CacheSize: cfg.ForwardCacheSize}))
		default:
			return nil, closers, &config.VarError{Name: config.GatewayVar("AUTH"), Err: fmt.Errorf("unknown authenticator %q", name)}
		}
	}
	return links, closers, nil
}

func envName(route int, setting string) string {
	if route < 0 {
		return config.GatewayVar(setting)
	}
	return config.RouteVar(route, setting)
}

func envErrors(err error) error {
	var out []error
	for _, e := range config.Leaves(err) {
		if se, ok := e.(*SettingError); ok {
			e = &config.VarError{Name: envName(se.Route, se.Setting), Err: se.Err}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}
