package config

import "strconv"

// VarError is an error about one environment variable: Name is its full
// name (SIGNGATE_ROUTES_0_KEY_FILE). The command's adapter wraps the
// errors of proxy.New in it, so that they name the variable to fix; match
// it with errors.As.
type VarError struct {
	Name string
	Err  error
}

func (e *VarError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *VarError) Unwrap() error { return e.Err }

// RouteVar is the full name of route i's setting: RouteVar(0, "KEY_FILE")
// is SIGNGATE_ROUTES_0_KEY_FILE.
func RouteVar(i int, setting string) string {
	return RoutesPrefix + strconv.Itoa(i) + "_" + setting
}

// GatewayVar is the full name of a gateway setting: GatewayVar("CACHE_SIZE")
// is SIGNGATE_CACHE_SIZE.
func GatewayVar(setting string) string { return Prefix + setting }
