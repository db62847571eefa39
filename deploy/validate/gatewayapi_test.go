package main

import (
	"testing"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// envoyGateway builds the envoy-gateway overlay afresh.
func envoyGateway(t *testing.T) *bundle {
	t.Helper()
	docs, err := build("../kubernetes/overlays/envoy-gateway")
	if err != nil {
		t.Fatal(err)
	}
	b, problems := decodeAll("envoy-gateway", docs)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(b.securityPolicys) != 1 || len(b.httpRoutes) != 2 || len(b.referenceGrants) != 1 {
		t.Fatalf("the overlay holds %d SecurityPolicies, %d HTTPRoutes, %d ReferenceGrants", len(b.securityPolicys), len(b.httpRoutes), len(b.referenceGrants))
	}
	return b
}

func externalAuth(b *bundle) *gwapiv1.HTTPExternalAuthFilter {
	for _, r := range b.httpRoutes {
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if f.ExternalAuth != nil {
					return f.ExternalAuth
				}
			}
		}
	}
	return nil
}

func TestExtAuthChecksCatchMistakes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *bundle)
		want   string
	}{
		{"fail open", func(b *bundle) { b.securityPolicys[0].Spec.ExtAuth.FailOpen = ptr(true) }, "failOpen is true"},
		{"HTTP check", func(b *bundle) { b.securityPolicys[0].Spec.ExtAuth.GRPC = nil }, "needs grpc"},
		{"wrong port", func(b *bundle) {
			b.securityPolicys[0].Spec.ExtAuth.GRPC.BackendRefs[0].Port = ptr(gwapiv1.PortNumber(80))
		}, "has no port 80"},
		{"no grant", func(b *bundle) { b.referenceGrants = nil }, "no ReferenceGrant"},
		{"unknown route", func(b *bundle) { b.securityPolicys[0].Spec.TargetRefs[0].Name = "nope" }, "not in the overlay"},
		{"filter over HTTP", func(b *bundle) { externalAuth(b).ExternalAuthProtocol = gwapiv1.HTTPRouteExternalAuthHTTPProtocol }, "needs GRPC"},
		{"listener off the port", func(b *bundle) {
			configMap(b, "signgate-gateway").Data["SIGNGATE_EXTAUTHZ_GRPC_LISTEN"] = ":9002"
		}, "SIGNGATE_EXTAUTHZ_GRPC_LISTEN listens on port 9002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, envoyGateway(t), tt.mutate, tt.want) })
	}
}
