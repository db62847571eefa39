package main

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/signgate/signgate/internal/httpx"
)

// imageUser is the uid and gid the image runs as (distroless nonroot).
const imageUser = 65532

// checker collects the problems found in one bundle.
type checker struct {
	b        *bundle
	problems []string
}

func (c *checker) addf(where, format string, args ...any) {
	c.problems = append(c.problems, c.b.name+": "+where+": "+fmt.Sprintf(format, args...))
}

// check runs every check on b.
func check(b *bundle) []string {
	c := &checker{b: b}
	scaled := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range b.hpas {
		c.hpa(h)
		scaled[h.Spec.ScaleTargetRef.Name] = h
	}
	for _, d := range b.deployments {
		c.deployment(d, scaled[d.Name])
	}
	for _, s := range b.services {
		c.service(s)
	}
	for _, p := range b.pdbs {
		c.pdb(p, scaled)
	}
	for _, in := range b.ingresses {
		c.ingress(in)
	}
	c.extAuth()
	for _, ns := range b.namespaces {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			c.addf("Namespace "+ns.Name, `label pod-security.kubernetes.io/enforce is not "restricted"; the pods are written to meet it`)
		}
	}
	if len(b.deployments) == 0 {
		c.addf("overlay", "no Deployment")
	}
	return c.problems
}

func (c *checker) deployment(d *appsv1.Deployment, hpa *autoscalingv2.HorizontalPodAutoscaler) {
	where := "Deployment " + d.Name
	podLabels := labels.Set(d.Spec.Template.Labels)
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
		c.addf(where, "the selector does not select the pod template's labels")
	}
	if hpa != nil && d.Spec.Replicas != nil {
		c.addf(where, "sets replicas while HorizontalPodAutoscaler %s owns the count: every apply would reset it", hpa.Name)
	}
	pod := d.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		c.addf(where, "automountServiceAccountToken is not false: signgate never talks to the API server")
	}
	if _, ok := c.b.serviceAccounts[pod.ServiceAccountName]; !ok {
		c.addf(where, "serviceAccountName %q is not in the overlay", pod.ServiceAccountName)
	}
	c.podSecurity(where, pod.SecurityContext)
	if hpa != nil {
		if len(pod.TopologySpreadConstraints) == 0 {
			c.addf(where, "scaled out, but without topologySpreadConstraints: replicas may share a node or zone")
		}
		for _, t := range pod.TopologySpreadConstraints {
			if sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
				c.addf(where, "topology spread on %s does not select the pods", t.TopologyKey)
			}
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		c.volume(where, v)
	}
	if len(pod.InitContainers) > 0 {
		c.addf(where, "init containers are not expected")
	}
	for i := range pod.Containers {
		c.container(where+" container "+pod.Containers[i].Name, d, &pod.Containers[i], volumes, hpa)
	}
}

// podSecurity checks the pod's security context against the restricted
// Pod Security Standard and the image's user.
func (c *checker) podSecurity(where string, sc *corev1.PodSecurityContext) {
	switch {
	case sc == nil:
		c.addf(where, "no pod securityContext")
		return
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		c.addf(where, "runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != imageUser || sc.RunAsGroup == nil || *sc.RunAsGroup != imageUser {
		c.addf(where, "runAsUser and runAsGroup are not %d, the image's nonroot user", imageUser)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.addf(where, "seccompProfile is not RuntimeDefault")
	}
}

// volume allows the volume types of the restricted profile that signgate
// needs.
func (c *checker) volume(where string, v corev1.Volume) {
	switch {
	case v.Secret != nil, v.ConfigMap != nil, v.EmptyDir != nil, v.Projected != nil, v.DownwardAPI != nil:
	case v.PersistentVolumeClaim != nil:
		if _, ok := c.b.pvcs[v.PersistentVolumeClaim.ClaimName]; !ok {
			c.addf(where, "volume %s: PersistentVolumeClaim %s is not in the overlay", v.Name, v.PersistentVolumeClaim.ClaimName)
		}
	default:
		c.addf(where, "volume %s: a type the restricted profile or this validator does not allow", v.Name)
	}
}

func (c *checker) container(where string, d *appsv1.Deployment, ct *corev1.Container, volumes map[string]corev1.Volume, hpa *autoscalingv2.HorizontalPodAutoscaler) {
	c.image(where, ct.Image)
	c.containerSecurity(where, ct.SecurityContext)
	c.resources(where, ct, hpa != nil)
	if len(ct.Command) > 0 {
		c.addf(where, "command replaces the image's entrypoint; give the subcommand in args")
	}
	mounts := c.mounts(where, ct, volumes)
	env := c.env(where, ct)
	if len(ct.Args) == 0 {
		c.addf(where, "no args: the subcommand (gateway or edge) is missing")
		return
	}
	ports := map[string]int32{}
	for _, p := range ct.Ports {
		ports[p.Name] = p.ContainerPort
	}
	switch ct.Args[0] {
	case "gateway":
		c.gateway(where, d, ct, env, ports, mounts)
	case "edge":
		c.edge(where, d, ct, env, ports, mounts)
	default:
		c.addf(where, "args[0] = %q, want gateway or edge", ct.Args[0])
	}
	c.lifecycle(where, d, ct)
}

func (c *checker) image(where, image string) {
	switch {
	case image == "" || image == "signgate":
		c.addf(where, "image %q: the overlay must name the registry and tag (images: in kustomization.yaml)", image)
	case strings.HasSuffix(image, ":latest"):
		c.addf(where, "image %q: pin a version, not latest", image)
	case !strings.Contains(path.Base(image), ":") && !strings.Contains(image, "@sha256:"):
		c.addf(where, "image %q has no tag or digest", image)
	}
}

func (c *checker) containerSecurity(where string, sc *corev1.SecurityContext) {
	if sc == nil {
		c.addf(where, "no securityContext")
		return
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.addf(where, "readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.addf(where, "allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.addf(where, "privileged")
	}
	if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
		c.addf(where, "runAsNonRoot is false")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		c.addf(where, "capabilities do not drop ALL")
	} else if len(sc.Capabilities.Add) > 0 {
		c.addf(where, "capabilities added: %v", sc.Capabilities.Add)
	}
}

func (c *checker) resources(where string, ct *corev1.Container, scaled bool) {
	req, lim := ct.Resources.Requests, ct.Resources.Limits
	cpu, hasCPU := req[corev1.ResourceCPU]
	mem, hasMem := req[corev1.ResourceMemory]
	maxMem, hasMax := lim[corev1.ResourceMemory]
	switch {
	case !hasCPU || cpu.IsZero():
		c.addf(where, "no CPU request (the scheduler and the HPA need one)")
	case !hasMem || mem.IsZero():
		c.addf(where, "no memory request")
	case !hasMax:
		c.addf(where, "no memory limit")
	case maxMem.Cmp(mem) < 0:
		c.addf(where, "memory limit %s below the request %s", maxMem.String(), mem.String())
	}
	if !scaled && !hasCPU {
		return
	}
	for _, e := range ct.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		n, err := parseGoBytes(e.Value)
		switch {
		case err != nil:
			c.addf(where, "GOMEMLIMIT %q: %v", e.Value, err)
		case hasMax && n > maxMem.Value():
			c.addf(where, "GOMEMLIMIT %s is above the memory limit %s: the kernel kills the pod before the collector tries", e.Value, maxMem.String())
		case hasMax && n < maxMem.Value()/2:
			c.addf(where, "GOMEMLIMIT %s is under half the memory limit %s", e.Value, maxMem.String())
		}
	}
}

// parseGoBytes parses a GOMEMLIMIT value: a byte count with an optional
// B, KiB, MiB, GiB or TiB suffix.
func parseGoBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a byte count such as 460MiB")
	}
	return n * mult, nil
}

// mount is a container's volume mount with its volume.
type mount struct {
	corev1.VolumeMount
	volume corev1.Volume
}

func (c *checker) mounts(where string, ct *corev1.Container, volumes map[string]corev1.Volume) []mount {
	var out []mount
	for _, m := range ct.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			c.addf(where, "mount %s: no such volume", m.Name)
			continue
		}
		out = append(out, mount{m, v})
	}
	return out
}

// mountFor returns the mount that holds file, by the longest mount path.
func mountFor(mounts []mount, file string) (mount, bool) {
	var best mount
	found := false
	for _, m := range mounts {
		p := strings.TrimSuffix(m.MountPath, "/")
		if (file == p || strings.HasPrefix(file, p+"/")) && (!found || len(p) > len(best.MountPath)) {
			best, found = m, true
		}
	}
	return best, found
}

// probes checks liveness on /healthz and readiness on /readyz, on port.
func (c *checker) probes(where string, ct *corev1.Container, port string) {
	for _, p := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"liveness", "/healthz", ct.LivenessProbe}, {"readiness", "/readyz", ct.ReadinessProbe}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			c.addf(where, "no HTTP %s probe", p.kind)
		case p.probe.HTTPGet.Path != p.path:
			c.addf(where, "%s probe on %s, want %s", p.kind, p.probe.HTTPGet.Path, p.path)
		case p.probe.HTTPGet.Port.String() != port:
			c.addf(where, "%s probe on port %s, want the %s port", p.kind, p.probe.HTTPGet.Port.String(), port)
		}
	}
}

// lifecycle checks that the grace period covers the drain.
func (c *checker) lifecycle(where string, d *appsv1.Deployment, ct *corev1.Container) {
	var pause int64
	if ls := ct.Lifecycle; ls != nil && ls.PreStop != nil {
		switch {
		case ls.PreStop.Sleep != nil:
			pause = ls.PreStop.Sleep.Seconds
		case ls.PreStop.Exec != nil:
			c.addf(where, "preStop exec: the image has no shell; use sleep")
		}
	}
	grace := int64(30)
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	delay := envDuration(ct, 0, "SIGNGATE_SHUTDOWN_DELAY", "SIGNGATE_EDGE_SHUTDOWN_DELAY")
	drain := envDuration(ct, httpx.DrainTimeout, "SIGNGATE_SHUTDOWN_TIMEOUT", "SIGNGATE_EDGE_SHUTDOWN_TIMEOUT")
	if need := pause + int64((delay+drain)/time.Second); grace < need {
		c.addf(where, "terminationGracePeriodSeconds %d is under the preStop pause plus the shutdown delay and drain (%ds): requests in flight would be cut", grace, need)
	}
}

// envDuration returns the duration the first of names set in the
// container's env holds, or def.
func envDuration(ct *corev1.Container, def time.Duration, names ...string) time.Duration {
	for _, e := range ct.Env {
		for _, n := range names {
			if e.Name == n {
				if d, err := time.ParseDuration(e.Value); err == nil {
					return d
				}
			}
		}
	}
	return def
}

// listenPort checks that addr listens on all interfaces (or exactly
// where said) on the container port named name.
func (c *checker) listenPort(where, variable, addr, name string, ports map[string]int32) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		c.addf(where, "%s %q: %v", variable, addr, err)
		return
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		c.addf(where, "%s %q listens on loopback only: nothing outside the pod (probes, Services, Prometheus) reaches it", variable, addr)
	}
	want, ok := ports[name]
	if !ok {
		c.addf(where, "no container port named %s for %s", name, variable)
	} else if p != strconv.Itoa(int(want)) {
		c.addf(where, "%s listens on port %s, but the container port %s is %d", variable, p, name, want)
	}
}
