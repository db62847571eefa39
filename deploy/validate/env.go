package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/configref"
)

// placeholderSecret stands for a value from a Secret, which the overlay
// does not hold: long enough for every length rule (JWT secret, API key).
const placeholderSecret = "validate-placeholder-secret-0123456789abcdef"

// placeholderDB stands for SIGNGATE_EDGE_DB from a Secret: a database URL
// kept in a Secret is PostgreSQL's, as it carries a password.
const placeholderDB = "postgres://signgate:" + placeholderSecret + "@db.invalid/signgate"

// env resolves a container's environment as the kubelet would: envFrom
// ConfigMaps, then env entries (Secrets become placeholderSecret).
func (c *checker) env(where string, ct *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, ef := range ct.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok := c.b.configMaps[ef.ConfigMapRef.Name]
			if !ok {
				if ef.ConfigMapRef.Optional == nil || !*ef.ConfigMapRef.Optional {
					c.addf(where, "envFrom ConfigMap %s is not in the overlay", ef.ConfigMapRef.Name)
				}
				continue
			}
			for _, k := range sortedKeys(cm.Data) {
				env[ef.Prefix+k] = cm.Data[k]
			}
		case ef.SecretRef != nil:
			c.addf(where, "envFrom Secret %s: which variables it sets cannot be checked; name each with env[].valueFrom.secretKeyRef", ef.SecretRef.Name)
		}
	}
	for _, e := range ct.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.Name == "SIGNGATE_EDGE_DB":
			env[e.Name] = placeholderDB
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = placeholderSecret
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, ok := c.b.configMaps[ref.Name]
			if !ok {
				c.addf(where, "env %s: ConfigMap %s is not in the overlay", e.Name, ref.Name)
				continue
			}
			env[e.Name] = cm.Data[ref.Key]
		default:
			env[e.Name] = "0"
		}
	}
	for _, k := range sortedKeys(env) {
		if v := env[k]; strings.HasPrefix(k, config.Prefix) && strings.Contains(v, "PRIVATE KEY") {
			c.addf(where, "%s holds a private key: mount keys from a Secret as files", k)
		}
		if strings.HasPrefix(k, config.Prefix) && !knownVariable(k) {
			c.addf(where, "%s is not a signgate variable (see docs/config.md)", k)
		}
	}
	for _, k := range []string{"SIGNGATE_JWT_SECRET", "SIGNGATE_EDGE_API_KEYS", "SIGNGATE_API_KEY", "SIGNGATE_API_TOKEN"} {
		if v, ok := env[k]; ok && v != placeholderSecret {
			c.addf(where, "%s is set in plain text: take it from a Secret (valueFrom.secretKeyRef)", k)
		}
	}
	if db := config.Database(env["SIGNGATE_EDGE_DB"]); db.Reveal() != placeholderDB && db.Redacted() != db.Reveal() {
		c.addf(where, "SIGNGATE_EDGE_DB holds a password in plain text: take the URL from a Secret (valueFrom.secretKeyRef)")
	}
	return env
}

// knownVariable reports whether name is in the configuration reference,
// with any list index standing for <n>.
func knownVariable(name string) bool {
	sections, err := configref.Builtin()
	if err != nil {
		return false
	}
	name = regexp.MustCompile(`_[0-9]+_`).ReplaceAllString(name, "_"+configref.Index+"_")
	return slices.ContainsFunc(configref.All(sections), func(v configref.Var) bool { return v.Name == name })
}

// gateway loads the container's configuration as "signgate gateway"
// would, and checks it against the pod: ports, probes, keys.
func (c *checker) gateway(where string, d *appsv1.Deployment, ct *corev1.Container, env map[string]string, ports map[string]int32, mounts []mount) {
	cfg, err := config.LoadGateway(env)
	if err != nil {
		c.addf(where, "signgate gateway would not start: %s", oneLine(err))
		return
	}
	c.listenPort(where, "SIGNGATE_LISTEN", cfg.Listen, "http", ports)
	c.probes(where, ct, "http")
	c.metrics(where, d, "SIGNGATE_METRICS_LISTEN", cfg.MetricsListen, ports)
	if cfg.ExtAuthzGRPCEnabled() {
		c.listenPort(where, "SIGNGATE_EXTAUTHZ_GRPC_LISTEN", cfg.ExtAuthzGRPCListen, "extauthz", ports)
	}
	if !cfg.WatchKeys {
		c.addf(where, "SIGNGATE_WATCH_KEYS is false: a rotated Secret would not be picked up")
	}
	for i, r := range cfg.Routes {
		for _, f := range []string{r.KeyFile, r.KeyIDFile, r.KeyJSONFile} {
			if f == "" {
				continue
			}
			m, ok := mountFor(mounts, f)
			switch {
			case !ok:
				c.addf(where, "route %d: key file %s is on no volume", i, f)
			case m.volume.Secret == nil:
				c.addf(where, "route %d: key file %s is not on a Secret volume", i, f)
			case m.SubPath != "" || m.SubPathExpr != "":
				c.addf(where, "route %d: key file %s is mounted with subPath, which the kubelet never updates: a rotated Secret would not reach the pod", i, f)
			case !m.ReadOnly:
				c.addf(where, "route %d: the key volume is not mounted read-only", i)
			}
		}
	}
}

// metrics checks a metrics listener, addr from variable: on, off
// loopback, on the container port named metrics, and, when the pod asks to
// be scraped (prometheus.io/scrape), on the port prometheus.io/port names.
func (c *checker) metrics(where string, d *appsv1.Deployment, variable, addr string, ports map[string]int32) {
	if addr == "" || addr == config.MetricsOff {
		c.addf(where, "%s is %q: no metrics to scrape", variable, addr)
		return
	}
	c.listenPort(where, variable, addr, "metrics", ports)
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] == "true" && ann["prometheus.io/port"] != itoa(ports["metrics"]) {
		c.addf(where, "prometheus.io/port %q is not the metrics port %d", ann["prometheus.io/port"], ports["metrics"])
	}
}

// edge loads the container's configuration as "signgate edge" would, and
// checks it against the pod: ports, probes, the database volume.
func (c *checker) edge(where string, d *appsv1.Deployment, ct *corev1.Container, env map[string]string, ports map[string]int32, mounts []mount) {
	cfg, err := config.LoadEdge(env)
	if err != nil {
		c.addf(where, "signgate edge would not start: %s", oneLine(err))
		return
	}
	c.listenPort(where, "SIGNGATE_EDGE_LISTEN", cfg.Listen, "media", ports)
	c.metrics(where, d, "SIGNGATE_EDGE_METRICS_LISTEN", cfg.MetricsListen, ports)
	if !cfg.APIEnabled() {
		c.addf(where, "SIGNGATE_EDGE_API_LISTEN is off: the probes (/healthz, /readyz) are on the API listener")
		return
	}
	c.listenPort(where, "SIGNGATE_EDGE_API_LISTEN", cfg.APIListen, "api", ports)
	c.probes(where, ct, "api")
	if !cfg.DB.IsPostgres() {
		db := cfg.DB.Reveal()
		m, ok := mountFor(mounts, db)
		switch {
		case !strings.HasPrefix(db, "/"):
			c.addf(where, "SIGNGATE_EDGE_DB %q is relative; give a path on the data volume", db)
		case !ok || m.volume.PersistentVolumeClaim == nil:
			c.addf(where, "SIGNGATE_EDGE_DB %s is not on a PersistentVolumeClaim: keys and policies would die with the pod", db)
		case m.ReadOnly:
			c.addf(where, "SIGNGATE_EDGE_DB %s is on a read-only mount", db)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			c.addf(where, "SQLite takes one writer: replicas 1 and strategy Recreate (or PostgreSQL to scale out)")
		}
		if m, ok := mountFor(mounts, "/tmp/x"); !ok || m.MountPath != "/tmp" || m.ReadOnly {
			c.addf(where, "SQLite needs a writable /tmp (an emptyDir) under a read-only root filesystem")
		}
	}
	for i, b := range cfg.Buckets {
		if b.IsURL() {
			continue
		}
		if _, ok := mountFor(mounts, b.Origin); !ok {
			c.addf(where, "bucket %d: origin directory %s is on no volume", i, b.Origin)
		}
	}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
