package main

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// bundle is what one overlay builds to, by kind.
type bundle struct {
	name            string
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	ingresses       []*networkingv1.Ingress
	namespaces      []*corev1.Namespace
	configMaps      map[string]*corev1.ConfigMap
	pvcs            map[string]*corev1.PersistentVolumeClaim
	serviceAccounts map[string]*corev1.ServiceAccount
	httpRoutes      []*gwapiv1.HTTPRoute
	securityPolicys []*egv1a1.SecurityPolicy
	referenceGrants []*gwapiv1b1.ReferenceGrant
	count           int
}

// build runs kustomize on dir, as "kubectl kustomize dir" does, and
// returns each object as YAML.
func build(dir string) ([][]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	var out [][]byte
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		out = append(out, y)
	}
	return out, nil
}

// decoder decodes YAML strictly into the official types of the kinds
// signgate's manifests may hold: an unknown field, a duplicate field, a
// wrong type or an unknown kind is an error.
func decoder() (runtime.Decoder, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme,
		// Gateway API (v1 with its experimental fields, and v1beta1 for
		// ReferenceGrant) and Envoy Gateway's own API, from their Go types.
		gwapiv1.Install, gwapiv1b1.Install, egv1a1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true}), nil
}

// decodeAll decodes docs into a bundle; every error is reported.
func decodeAll(name string, docs [][]byte) (*bundle, []string) {
	dec, err := decoder()
	if err != nil {
		return nil, []string{err.Error()}
	}
	b := &bundle{
		name:            name,
		configMaps:      map[string]*corev1.ConfigMap{},
		pvcs:            map[string]*corev1.PersistentVolumeClaim{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
	}
	var problems []string
	for i, doc := range docs {
		obj, gvk, err := dec.Decode(doc, nil, nil)
		if err != nil {
			what := fmt.Sprintf("object %d", i)
			if gvk != nil {
				what = gvk.Kind
			}
			problems = append(problems, fmt.Sprintf("%s: %s: strict decoding: %v", name, what, err))
			continue
		}
		b.count++
		if m, err := meta.Accessor(obj); err == nil && gvk.Kind != "Namespace" && m.GetNamespace() == "" {
			problems = append(problems, fmt.Sprintf("%s: %s %s has no namespace: set namespace: in the overlay", name, gvk.Kind, m.GetName()))
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			b.deployments = append(b.deployments, o)
		case *corev1.Service:
			b.services = append(b.services, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			b.hpas = append(b.hpas, o)
		case *policyv1.PodDisruptionBudget:
			b.pdbs = append(b.pdbs, o)
		case *networkingv1.Ingress:
			b.ingresses = append(b.ingresses, o)
		case *corev1.Namespace:
			b.namespaces = append(b.namespaces, o)
		case *corev1.ConfigMap:
			b.configMaps[o.Name] = o
		case *corev1.PersistentVolumeClaim:
			b.pvcs[o.Name] = o
		case *corev1.ServiceAccount:
			b.serviceAccounts[o.Name] = o
		case *gwapiv1.HTTPRoute:
			b.httpRoutes = append(b.httpRoutes, o)
		case *egv1a1.SecurityPolicy:
			b.securityPolicys = append(b.securityPolicys, o)
		case *gwapiv1b1.ReferenceGrant:
			b.referenceGrants = append(b.referenceGrants, o)
		default:
			problems = append(problems, fmt.Sprintf("%s: %s: a kind this validator has no checks for", name, gvk.Kind))
		}
	}
	return b, problems
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
