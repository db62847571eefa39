package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestRepository is what CI runs: every deployment file of the
// repository passes.
func TestRepository(t *testing.T) {
	for _, p := range validate("../..", io.Discard) {
		t.Error(p)
	}
}

// selfHosted builds the self-hosted overlay (gateway and edge) afresh.
func selfHosted(t *testing.T) *bundle {
	t.Helper()
	docs, err := build("../kubernetes/overlays/self-hosted")
	if err != nil {
		t.Fatal(err)
	}
	b, problems := decodeAll("self-hosted", docs)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return b
}

func deployment(b *bundle, name string) *appsv1.Deployment {
	for _, d := range b.deployments {
		if d.Name == name {
			return d
		}
	}
	panic("no deployment " + name)
}

func gateway(b *bundle) *corev1.Container {
	return &deployment(b, "signgate-gateway").Spec.Template.Spec.Containers[0]
}

func edgeContainer(b *bundle) *corev1.Container {
	return &deployment(b, "signgate-edge").Spec.Template.Spec.Containers[0]
}

// configMap returns the generated ConfigMap whose name starts with prefix.
func configMap(b *bundle, prefix string) *corev1.ConfigMap {
	for name, cm := range b.configMaps {
		if strings.HasPrefix(name, prefix+"-") {
			return cm
		}
	}
	panic("no configmap " + prefix)
}

func setEnv(ct *corev1.Container, name, value string) {
	for i := range ct.Env {
		if ct.Env[i].Name == name {
			ct.Env[i] = corev1.EnvVar{Name: name, Value: value}
			return
		}
	}
	ct.Env = append(ct.Env, corev1.EnvVar{Name: name, Value: value})
}

func ptr[T any](v T) *T { return &v }

// TestChecksCatchMistakes breaks the good overlay one way at a time; each
// break must be reported, with words that tell what is wrong.
func TestChecksCatchMistakes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *bundle)
		want   string
	}{
		{"writable root", func(b *bundle) { gateway(b).SecurityContext.ReadOnlyRootFilesystem = ptr(false) }, "readOnlyRootFilesystem is not true"},
		{"capabilities kept", func(b *bundle) { gateway(b).SecurityContext.Capabilities.Drop = nil }, "do not drop ALL"},
		{"capability added", func(b *bundle) {
			gateway(b).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}, "capabilities added"},
		{"privilege escalation", func(b *bundle) { gateway(b).SecurityContext.AllowPrivilegeEscalation = nil }, "allowPrivilegeEscalation"},
		{"root user", func(b *bundle) {
			deployment(b, "signgate-gateway").Spec.Template.Spec.SecurityContext.RunAsUser = ptr(int64(0))
		}, "runAsUser"},
		{"no seccomp", func(b *bundle) {
			deployment(b, "signgate-edge").Spec.Template.Spec.SecurityContext.SeccompProfile = nil
		}, "seccompProfile"},
		{"service account token", func(b *bundle) {
			deployment(b, "signgate-gateway").Spec.Template.Spec.AutomountServiceAccountToken = nil
		}, "automountServiceAccountToken"},
		{"hostPath", func(b *bundle) {
			d := deployment(b, "signgate-gateway")
			d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "restricted profile"},
		{"no memory limit", func(b *bundle) { delete(gateway(b).Resources.Limits, corev1.ResourceMemory) }, "no memory limit"},
		{"no CPU request", func(b *bundle) { delete(gateway(b).Resources.Requests, corev1.ResourceCPU) }, "no CPU request"},
		{"GOMEMLIMIT above the limit", func(b *bundle) { setEnv(gateway(b), "GOMEMLIMIT", "1GiB") }, "above the memory limit"},
		{"GOMEMLIMIT unparsable", func(b *bundle) { setEnv(gateway(b), "GOMEMLIMIT", "460M") }, "not a byte count"},
		{"liveness on readyz", func(b *bundle) { gateway(b).LivenessProbe.HTTPGet.Path = "/readyz" }, "liveness probe on /readyz"},
		{"no readiness probe", func(b *bundle) { edgeContainer(b).ReadinessProbe = nil }, "no HTTP readiness probe"},
		{"probe on the media port", func(b *bundle) { edgeContainer(b).ReadinessProbe.HTTPGet.Port = intstr.FromString("media") }, "want the api port"},
		{"key mounted by subPath", func(b *bundle) { gateway(b).VolumeMounts[0].SubPath = "media.pem" }, "subPath"},
		{"key volume writable", func(b *bundle) { gateway(b).VolumeMounts[0].ReadOnly = false }, "not mounted read-only"},
		{"key off the volume", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_ROUTES_0_KEY_FILE"] = "/keys/media.pem"
		}, "is on no volume"},
		{"watch off", func(b *bundle) { configMap(b, "signgate-gateway").Data["SIGNGATE_WATCH_KEYS"] = "false" }, "SIGNGATE_WATCH_KEYS is false"},
		{"metrics on loopback", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_METRICS_LISTEN"] = "127.0.0.1:9090"
		}, "loopback"},
		{"edge metrics on loopback", func(b *bundle) {
			configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_METRICS_LISTEN"] = "127.0.0.1:9091"
		}, "SIGNGATE_EDGE_METRICS_LISTEN \"127.0.0.1:9091\" listens on loopback only"},
		{"edge metrics off", func(b *bundle) {
			configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_METRICS_LISTEN"] = "off"
		}, "SIGNGATE_EDGE_METRICS_LISTEN is \"off\": no metrics to scrape"},
		{"edge prometheus port", func(b *bundle) {
			deployment(b, "signgate-edge").Spec.Template.Annotations["prometheus.io/port"] = "9090"
		}, "prometheus.io/port \"9090\" is not the metrics port 9091"},
		{"listen port off the container port", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_LISTEN"] = ":8000"
		}, "container port http is 8080"},
		{"prometheus port", func(b *bundle) {
			deployment(b, "signgate-gateway").Spec.Template.Annotations["prometheus.io/port"] = "9091"
		}, "prometheus.io/port"},
		{"misspelt route variable", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_ROUTES_0_KEYFILE"] = "/etc/signgate/keys/media.pem"
		}, "unknown route setting KEYFILE"},
		{"misspelt variable", func(b *bundle) { configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_LEWAY"] = "1m" }, "SIGNGATE_EDGE_LEWAY is not a signgate variable"},
		{"invalid configuration", func(b *bundle) { delete(configMap(b, "signgate-gateway").Data, "SIGNGATE_ROUTES_0_KEY_ID_FILE") }, "SIGNGATE_ROUTES_0_KEY_ID: required"},
		{"kid file off the volume", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_ROUTES_0_KEY_ID_FILE"] = "/keys/media.kid"
		}, "key file /keys/media.kid is on no volume"},
		{"secret in plain text", func(b *bundle) { setEnv(gateway(b), "SIGNGATE_JWT_SECRET", strings.Repeat("s", 40)) }, "plain text"},
		{"envFrom a Secret", func(b *bundle) {
			gateway(b).EnvFrom = append(gateway(b).EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}})
		}, "cannot be checked"},
		{"command replaces the entrypoint", func(b *bundle) { gateway(b).Command = []string{"/bin/sh"} }, "entrypoint"},
		{"unknown subcommand", func(b *bundle) { gateway(b).Args = []string{"proxy"} }, `want gateway or edge`},
		{"image not set", func(b *bundle) { gateway(b).Image = "signgate" }, "registry and tag"},
		{"latest", func(b *bundle) { gateway(b).Image = "ghcr.io/signgate/signgate:latest" }, "not latest"},
		{"replicas beside the HPA", func(b *bundle) { deployment(b, "signgate-gateway").Spec.Replicas = ptr(int32(3)) }, "owns the count"},
		{"no topology spread", func(b *bundle) {
			deployment(b, "signgate-gateway").Spec.Template.Spec.TopologySpreadConstraints = nil
		}, "topologySpreadConstraints"},
		{"grace under the drain", func(b *bundle) {
			deployment(b, "signgate-gateway").Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(20))
		}, "terminationGracePeriodSeconds 20"},
		{"service target port", func(b *bundle) { b.services[0].Spec.Ports[0].TargetPort = intstr.FromString("htp") }, "target port htp"},
		{"service selects nothing", func(b *bundle) { b.services[0].Spec.Selector = map[string]string{"app": "nope"} }, "selects no pods"},
		{"HPA of one", func(b *bundle) { b.hpas[0].Spec.MinReplicas = ptr(int32(1)) }, "minReplicas under 2"},
		{"HPA target", func(b *bundle) { b.hpas[0].Spec.ScaleTargetRef.Name = "gateway" }, "not a Deployment of the overlay"},
		{"PDB blocks drains", func(b *bundle) {
			b.pdbs[0].Spec.MaxUnavailable = nil
			b.pdbs[0].Spec.MinAvailable = ptr(intstr.FromInt32(2))
		}, "blocks every node drain"},
		{"ingress to a missing Service", func(b *bundle) {
			b.ingresses[0].Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "web"
		}, "Service web is not in the overlay"},
		{"namespace not restricted", func(b *bundle) { b.namespaces[0].Labels = nil }, `not "restricted"`},
		{"edge DB off the volume", func(b *bundle) {
			d := deployment(b, "signgate-edge")
			for i, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == "data" {
					d.Spec.Template.Spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
				}
			}
		}, "not on a PersistentVolumeClaim"},
		{"edge scaled out on SQLite", func(b *bundle) { deployment(b, "signgate-edge").Spec.Replicas = ptr(int32(2)) }, "one writer"},
		{"edge rolling on SQLite", func(b *bundle) {
			deployment(b, "signgate-edge").Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
		}, "strategy Recreate"},
		{"edge without /tmp", func(b *bundle) {
			ct := edgeContainer(b)
			ct.VolumeMounts = ct.VolumeMounts[:1]
		}, "writable /tmp"},
		{"edge API off", func(b *bundle) { configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_API_LISTEN"] = "off" }, "probes"},
		{"edge relative DB", func(b *bundle) { configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_DB"] = "edge.db" }, "relative"},
		{"edge directory origin without a volume", func(b *bundle) {
			configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_BUCKETS_0_ORIGIN"] = "/srv/media"
		}, "origin directory /srv/media is on no volume"},
		{"database password in plain text", func(b *bundle) {
			configMap(b, "signgate-edge").Data["SIGNGATE_EDGE_DB"] = "postgres://edge:hunter2@db/signgate"
		}, "password in plain text"},
		{"memory limit under the request", func(b *bundle) {
			edgeContainer(b).Resources.Limits[corev1.ResourceMemory] = resource.MustParse("64Mi")
		}, "below the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, selfHosted(t), tt.mutate, tt.want) })
	}
}

// wantProblem checks that the good bundle b has no problem, and that after
// mutate one of its problems says want.
func wantProblem(t *testing.T, b *bundle, mutate func(*bundle), want string) {
	t.Helper()
	if ps := check(b); len(ps) > 0 {
		t.Fatalf("the good overlay has problems: %v", ps)
	}
	mutate(b)
	ps := check(b)
	for _, p := range ps {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem says %q; got %q", want, ps)
}

func TestStrictDecoding(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec:\n  selector: {a: b}\n  prots: []\n", `unknown field "spec.prots"`},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  replicas: two\n", "replicas"},
		{"duplicate field", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ns}\nmetadata: {name: b}\n", "already set"},
		{"unknown kind", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ns}\n", "CronJob"},
		{"no namespace", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n", "no namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := decodeAll("test", [][]byte{[]byte(tt.yaml)})
			if len(ps) == 0 || !strings.Contains(strings.Join(ps, "\n"), tt.want) {
				t.Errorf("problems %q, want one with %q", ps, tt.want)
			}
		})
	}
}

func TestCompose(t *testing.T) {
	good, err := os.ReadFile("../compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ps := checkCompose("../compose/compose.yaml"); len(ps) > 0 {
		t.Fatalf("the compose file has problems: %v", ps)
	}
	tests := []struct{ name, old, new, want string }{
		{"typo", "read_only: true", "read_olny: true", "read_olny"},
		{"writable", "read_only: true", "read_only: false", "read_only is not true"},
		{"root", `user: "65532:65532"`, `user: "0:0"`, "user"},
		{"capabilities", "cap_drop: [ALL]", "cap_drop: [NET_RAW]", "cap_drop lacks ALL"},
		{"privileges", "- no-new-privileges:true", "- label=disable", "no-new-privileges"},
		{"public port", `"127.0.0.1:${PORT:-8080}:8080"`, `"8080:8080"`, "every interface"},
		{"no tmpfs", "- /tmp:size=64m,mode=1777", "- /run", "add a tmpfs"},
		{"variable without default", "${IMAGE:-localhost/signgate:dev}", "${IMAGE}", "no default"},
		{"unknown variable", "SIGNGATE_LOG_LEVEL: info", "SIGNGATE_LOGLEVEL: info", "SIGNGATE_LOGLEVEL is not a signgate variable"},
		{"bad command", "- demo\n", "- serve\n", `"serve"`},
		{"no build context", "context: ../..", "context: /nowhere", "build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(good), tt.old) {
				t.Fatalf("compose.yaml no longer holds %q", tt.old)
			}
			text := strings.Replace(string(good), tt.old, tt.new, 1)
			// The build context, relative to the compose file, must
			// still resolve from the temporary directory.
			root, err := filepath.Abs("../..")
			if err != nil {
				t.Fatal(err)
			}
			text = strings.Replace(text, "context: ../..", "context: "+root, 1)
			f := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			ps := checkCompose(f)
			if !strings.Contains(strings.Join(ps, "\n"), tt.want) {
				t.Errorf("problems %q, want one with %q", ps, tt.want)
			}
		})
	}
}

func TestEnvFiles(t *testing.T) {
	dir := t.TempDir()
	unit := "[Service]\nEnvironment=SIGNGATE_EDGE_DB=%S/signgate-edge/edge.db\n"
	if err := os.WriteFile(filepath.Join(dir, "signgate-edge.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	good := "SIGNGATE_EDGE_SINGLE_BUCKET=true\nSIGNGATE_EDGE_BUCKETS_0_NAME=media\nSIGNGATE_EDGE_BUCKETS_0_ORIGIN=/srv/media\n" +
		"SIGNGATE_EDGE_API_KEYS=\"0123456789abcdef\"\n; a comment\n"
	tests := []struct{ name, file, text, want string }{
		{"good", "edge.env", good, ""},
		{"misspelt", "edge.env", good + "SIGNGATE_EDGE_BUCKET_0_NAME=x\n", "SIGNGATE_EDGE_BUCKET_0_NAME is not a signgate variable"},
		{"invalid", "edge.env", good + "SIGNGATE_EDGE_BUCKETS_0_POLICY=private\n", "SIGNGATE_EDGE_BUCKETS_0_POLICY"},
		{"short API key", "edge.env", strings.Replace(good, "0123456789abcdef", "short", 1), "shorter than 16"},
		{"not an assignment", "edge.env", good + "oops\n", "not KEY=VALUE"},
		{"gateway without routes", "gateway.env", "SIGNGATE_LISTEN=:8080\n", "would not start"},
		{"unknown command", "proxy.env", "", "gateway.env or edge.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, tt.file)
			if err := os.WriteFile(f, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			ps := strings.Join(checkEnvFile(f), "\n")
			if tt.want == "" && ps != "" || !strings.Contains(ps, tt.want) {
				t.Errorf("problems %q, want %q", ps, tt.want)
			}
		})
	}
}

func TestParseGoBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"460MiB", 460 << 20, true}, {"1GiB", 1 << 30, true}, {"1024", 1024, true}, {"8KiB", 8 << 10, true},
		{"2TiB", 2 << 40, true}, {"512B", 512, true}, {"460M", 0, false}, {"-1", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseGoBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseGoBytes(%q) = %d, %v", tt.in, got, err)
		}
	}
}
