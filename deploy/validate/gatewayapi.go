package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// extAuth checks how Envoy Gateway reaches signgate's ext_authz check,
// through a SecurityPolicy's extAuth or an HTTPRoute's ExternalAuth
// filter: over gRPC (Envoy's HTTP check drops the Location of a denial,
// so the 302 to the CDN needs gRPC), failing closed, to a Service of the
// bundle whose port leads to the container port extauthz, with a
// ReferenceGrant for a reference across namespaces, and attached to a
// route of the bundle.
func (c *checker) extAuth() {
	routes := map[string]bool{}
	for _, r := range c.b.httpRoutes {
		routes[r.Namespace+"/"+r.Name] = true
	}
	for _, sp := range c.b.securityPolicys {
		where := "SecurityPolicy " + sp.Namespace + "/" + sp.Name
		ea := sp.Spec.ExtAuth
		if ea == nil {
			continue
		}
		if ea.FailOpen != nil && *ea.FailOpen {
			c.addf(where, "extAuth.failOpen is true: a signgate that cannot be reached would let every request through")
		}
		if ea.GRPC == nil {
			c.addf(where, "extAuth is not grpc: Envoy's HTTP check drops a denial's Location, so the 302 to the CDN needs grpc")
			continue
		}
		if len(ea.GRPC.BackendRefs) == 0 {
			c.addf(where, "extAuth.grpc has no backendRefs")
		}
		for _, br := range ea.GRPC.BackendRefs {
			c.extAuthBackend(where, "gateway.envoyproxy.io", "SecurityPolicy", sp.Namespace, br.BackendObjectReference)
		}
		if len(sp.Spec.TargetRefs) == 0 {
			c.addf(where, "no targetRefs: the policy is attached to nothing")
		}
		for _, tr := range sp.Spec.TargetRefs {
			if tr.Kind == "HTTPRoute" && !routes[sp.Namespace+"/"+string(tr.Name)] {
				c.addf(where, "targetRefs: HTTPRoute %s/%s is not in the overlay", sp.Namespace, tr.Name)
			}
		}
	}
	for _, r := range c.b.httpRoutes {
		for i, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if f.Type != gwapiv1.HTTPRouteFilterExternalAuth {
					continue
				}
				where := fmt.Sprintf("HTTPRoute %s/%s rule %d", r.Namespace, r.Name, i)
				if f.ExternalAuth == nil {
					c.addf(where, "an ExternalAuth filter without externalAuth")
					continue
				}
				if f.ExternalAuth.ExternalAuthProtocol != gwapiv1.HTTPRouteExternalAuthGRPCProtocol {
					c.addf(where, "externalAuth.protocol is %q: the 302 to the CDN needs GRPC", f.ExternalAuth.ExternalAuthProtocol)
				}
				c.extAuthBackend(where, gwapiv1.GroupName, "HTTPRoute", r.Namespace, f.ExternalAuth.BackendRef)
			}
		}
	}
}

// extAuthBackend checks ref, made by a fromKind object in namespace from:
// a Service of the bundle, a port of it whose target is the container
// port extauthz, and a ReferenceGrant when it is in another namespace.
func (c *checker) extAuthBackend(where, fromGroup, fromKind, from string, ref gwapiv1.BackendObjectReference) {
	if ref.Kind != nil && *ref.Kind != "Service" || ref.Group != nil && *ref.Group != "" {
		c.addf(where, "backend %s is not a Service", ref.Name)
		return
	}
	ns := from
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	var svc *corev1.Service
	for _, s := range c.b.services {
		if s.Name == string(ref.Name) && s.Namespace == ns {
			svc = s
		}
	}
	if svc == nil {
		c.addf(where, "backend Service %s/%s is not in the overlay", ns, ref.Name)
		return
	}
	if ref.Port == nil {
		c.addf(where, "backend Service %s/%s: no port", ns, ref.Name)
		return
	}
	found := false
	for _, p := range svc.Spec.Ports {
		if p.Port == int32(*ref.Port) {
			found = true
			if p.TargetPort.StrVal != "extauthz" {
				c.addf(where, "backend Service %s/%s port %d leads to %q, not the container port extauthz", ns, ref.Name, p.Port, p.TargetPort.String())
			}
		}
	}
	if !found {
		c.addf(where, "backend Service %s/%s has no port %d", ns, ref.Name, *ref.Port)
	}
	if ns != from && !c.granted(fromGroup, fromKind, from, ns, string(ref.Name)) {
		c.addf(where, "backend Service %s/%s is in another namespace, and no ReferenceGrant there lets a %s of %s refer to it", ns, ref.Name, fromKind, from)
	}
}

// granted reports whether a ReferenceGrant in namespace ns lets a kind of
// group in namespace from refer to Service name.
func (c *checker) granted(group, kind, from, ns, name string) bool {
	for _, g := range c.b.referenceGrants {
		if g.Namespace != ns {
			continue
		}
		fromOK, toOK := false, false
		for _, f := range g.Spec.From {
			fromOK = fromOK || string(f.Group) == group && string(f.Kind) == kind && string(f.Namespace) == from
		}
		for _, t := range g.Spec.To {
			toOK = toOK || t.Group == "" && t.Kind == "Service" && (t.Name == nil || string(*t.Name) == name)
		}
		if fromOK && toOK {
			return true
		}
	}
	return false
}
