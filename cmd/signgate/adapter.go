package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy"
	"github.com/signgate/signgate/proxy/auth"
)

// The adapter: the one place outside config that turns SIGNGATE_*
// settings (config.Gateway) into what proxy.New takes, and proxy's
// *SettingError back into a config.VarError naming the variable.

// jwksTimeout bounds one fetch of SIGNGATE_JWT_JWKS_URL.
const jwksTimeout = 10 * time.Second

// newGateway builds the gateway cfg describes. close closes the gateway,
// then the authenticators the adapter built for it.
func newGateway(ctx context.Context, cfg config.Gateway, opts proxy.Options) (g *proxy.Gateway, close func() error, err error) {
	links, closers, err := authLinks(ctx, cfg, opts)
	if err != nil {
		return nil, nil, err
	}
	closeAuth := func() error {
		var err error
		for _, c := range closers {
			err = errors.Join(err, c.Close())
		}
		return err
	}
	opts.Auth, opts.Names = links, varName
	g, err = proxy.New(ctx, proxyConfig(cfg), opts)
	if err != nil {
		closeAuth()
		return nil, nil, varErrors(err)
	}
	return g, func() error { return errors.Join(g.Close(), closeAuth()) }, nil
}

// checkKeys is proxy.CheckKeys on cfg's routes, naming the variables.
func checkKeys(ctx context.Context, cfg config.Gateway) error {
	return varErrors(proxy.CheckKeys(ctx, proxyConfig(cfg), varName))
}

// proxyConfig is cfg's gateway settings as proxy takes them.
func proxyConfig(cfg config.Gateway) proxy.Config {
	pc := proxy.Config{
		Upstream:            cfg.Upstream,
		UpstreamIdentity:    cfg.UpstreamIdentity,
		UpstreamTimeout:     cfg.UpstreamTimeout,
		SubjectHeader:       cfg.SubjectHeader,
		AuthHeader:          cfg.AuthHeader,
		TrustedProxies:      cfg.TrustedPrefixes(),
		LoginURL:            cfg.LoginURL,
		LoginReturnParam:    cfg.LoginReturnParam,
		CacheSize:           cfg.CacheSize,
		CORSOrigins:         cfg.CORSOrigins,
		CORSHeaders:         cfg.CORSHeaders,
		CORSMaxAge:          cfg.CORSMaxAge,
		AccessLog:           cfg.AccessLog,
		WatchKeys:           cfg.WatchKeys,
		ManifestConcurrency: cfg.ManifestConcurrency,
		BodyTimeout:         cfg.BodyTimeout,
		BodyIdleTimeout:     cfg.BodyIdleTimeout,
		BodyMinRate:         cfg.BodyMinRate,
		BodyRateWindow:      cfg.BodyRateWindow,
	}
	for _, rc := range cfg.Routes {
		pc.Routes = append(pc.Routes, proxy.Route{Route: rc})
	}
	return pc
}

// authLinks builds SIGNGATE_AUTH's chain, and what to close after the
// gateway. A JWKS is fetched once now, through opts.Transport when set.
func authLinks(ctx context.Context, cfg config.Gateway, opts proxy.Options) ([]auth.Link, []io.Closer, error) {
	var links []auth.Link
	var closers []io.Closer
	fail := func(err error) ([]auth.Link, []io.Closer, error) {
		for _, c := range closers {
			c.Close()
		}
		return nil, nil, err
	}
	for _, name := range cfg.Auth {
		switch name {
		case config.AuthHeader:
			links = append(links, auth.Link{Name: name, Authenticator: &auth.Header{Header: cfg.AuthHeader, Trusted: cfg.TrustedPrefixes()}})
		case config.AuthJWT:
			j, cs, err := newJWT(ctx, cfg, opts)
			closers = append(closers, cs...)
			if err != nil {
				return fail(err)
			}
			links = append(links, auth.Link{Name: name, Authenticator: j})
		case config.AuthForward:
			links = append(links, proxy.Forward(name, auth.ForwardOptions{
				URL:           cfg.ForwardURL,
				SubjectHeader: cfg.ForwardSubjectHeader,
				TTL:           cfg.ForwardTTL,
				Timeout:       cfg.ForwardTimeout,
				CacheSize:     cfg.ForwardCacheSize,
			}))
		default:
			return fail(&config.VarError{Name: config.GatewayVar("AUTH"), Err: fmt.Errorf("unknown authenticator %q", name)})
		}
	}
	return links, closers, nil
}

// newJWT builds the jwt authenticator from its SIGNGATE_JWT_* settings.
func newJWT(ctx context.Context, cfg config.Gateway, opts proxy.Options) (*auth.JWT, []io.Closer, error) {
	o := auth.JWTOptions{
		Algorithms:   cfg.JWTAlgorithms,
		Issuer:       cfg.JWTIssuer,
		Audience:     cfg.JWTAudience,
		SubjectClaim: cfg.JWTSubjectClaim,
		Leeway:       cfg.JWTLeeway,
		Cookie:       cfg.JWTCookie,
		Now:          opts.Now,
	}
	var key any
	keyVar := config.GatewayVar("JWT_SECRET")
	switch {
	case cfg.JWTSecret.Reveal() != "":
		key = []byte(cfg.JWTSecret.Reveal())
	case cfg.JWTPublicKeyFile != "":
		keyVar = config.GatewayVar("JWT_PUBLIC_KEY_FILE")
		pemBytes, err := os.ReadFile(cfg.JWTPublicKeyFile)
		if err != nil {
			return nil, nil, &config.VarError{Name: keyVar, Err: err}
		}
		pub, err := auth.ParsePublicKey(pemBytes)
		if err != nil {
			return nil, nil, &config.VarError{Name: keyVar, Err: fmt.Errorf("%s: %w", cfg.JWTPublicKeyFile, err)}
		}
		key = pub
	case cfg.JWTJWKSURL != "":
		keyVar = config.GatewayVar("JWT_JWKS_URL")
		ks, err := auth.NewJWKS(ctx, cfg.JWTJWKSURL, &http.Client{Timeout: jwksTimeout, Transport: opts.Transport},
			auth.JWKSRefresh(cfg.JWKSRefresh), auth.JWKSUnknownKIDRate(cfg.JWKSUnknownKIDRate), auth.JWKSLog(opts.Log))
		if err != nil {
			return nil, nil, &config.VarError{Name: keyVar, Err: err}
		}
		j, err := auth.NewJWT(ks, o)
		if err != nil {
			ks.Close()
			return nil, nil, &config.VarError{Name: config.GatewayVar("JWT_ALGORITHMS"), Err: err}
		}
		return j, []io.Closer{j, ks}, nil
	default:
		return nil, nil, &config.VarError{Name: keyVar, Err: errors.New("the jwt authenticator has no key")}
	}
	j, err := auth.NewJWT(key, o)
	if err != nil {
		name := config.GatewayVar("JWT_ALGORITHMS")
		if len(cfg.JWTAlgorithms) == 0 {
			name = keyVar
		}
		return nil, nil, &config.VarError{Name: name, Err: err}
	}
	return j, []io.Closer{j}, nil
}

// varName names a proxy setting by its environment variable.
func varName(route int, setting string) string {
	if route < 0 {
		return config.GatewayVar(setting)
	}
	return config.RouteVar(route, setting)
}

// varErrors turns every *proxy.SettingError in err (joined or not) into
// a *config.VarError naming its variable.
func varErrors(err error) error {
	var out []error
	for _, e := range config.Leaves(err) {
		if se, ok := e.(*proxy.SettingError); ok {
			e = &config.VarError{Name: varName(se.Route, se.Setting), Err: se.Err}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}
