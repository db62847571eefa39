package main

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The checks of what routes traffic to the pods and keeps them available
// (Service, HPA, PodDisruptionBudget, Ingress); checks.go has the pods'.

func (c *checker) service(s *corev1.Service) {
	where := "Service " + s.Name
	if len(s.Spec.Selector) == 0 {
		c.addf(where, "no selector")
		return
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	var targets []*appsv1.Deployment
	for _, d := range c.b.deployments {
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			targets = append(targets, d)
		}
	}
	if len(targets) == 0 {
		c.addf(where, "selects no pods of the overlay")
		return
	}
	for _, sp := range s.Spec.Ports {
		if !targetsPort(targets, sp.TargetPort) {
			c.addf(where, "port %s: target port %s is not a container port of the pods it selects", sp.Name, sp.TargetPort.String())
		}
	}
}

func targetsPort(ds []*appsv1.Deployment, tp intstr.IntOrString) bool {
	for _, d := range ds {
		for _, ct := range d.Spec.Template.Spec.Containers {
			for _, p := range ct.Ports {
				if (tp.Type == intstr.String && p.Name == tp.StrVal) || (tp.Type == intstr.Int && p.ContainerPort == tp.IntVal) {
					return true
				}
			}
		}
	}
	return false
}

func (c *checker) hpa(h *autoscalingv2.HorizontalPodAutoscaler) {
	where := "HorizontalPodAutoscaler " + h.Name
	ref := h.Spec.ScaleTargetRef
	found := false
	for _, d := range c.b.deployments {
		found = found || (ref.Kind == "Deployment" && ref.APIVersion == "apps/v1" && ref.Name == d.Name)
	}
	if !found {
		c.addf(where, "scale target %s %s is not a Deployment of the overlay", ref.Kind, ref.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
		c.addf(where, "minReplicas under 2: one pod is a single point of failure")
	}
	if len(h.Spec.Metrics) == 0 {
		c.addf(where, "no metrics")
	}
}

func (c *checker) pdb(p *policyv1.PodDisruptionBudget, scaled map[string]*autoscalingv2.HorizontalPodAutoscaler) {
	where := "PodDisruptionBudget " + p.Name
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || sel.Empty() {
		c.addf(where, "no selector")
		return
	}
	matched := false
	for _, d := range c.b.deployments {
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		matched = true
		least := int32(1)
		if h := scaled[d.Name]; h != nil && h.Spec.MinReplicas != nil {
			least = *h.Spec.MinReplicas
		} else if d.Spec.Replicas != nil {
			least = *d.Spec.Replicas
		}
		if m := p.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= least {
			c.addf(where, "minAvailable %d with %d replicas blocks every node drain", m.IntVal, least)
		}
		if m := p.Spec.MaxUnavailable; m != nil && m.Type == intstr.Int && m.IntVal == 0 {
			c.addf(where, "maxUnavailable 0 blocks every node drain")
		}
	}
	if !matched {
		c.addf(where, "selects no pods of the overlay")
	}
}

func (c *checker) ingress(in *networkingv1.Ingress) {
	where := "Ingress " + in.Name
	services := map[string]*corev1.Service{}
	for _, s := range c.b.services {
		services[s.Name] = s
	}
	for _, r := range in.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			be := p.Backend.Service
			if be == nil {
				c.addf(where, "%s%s: not a Service backend", r.Host, p.Path)
				continue
			}
			s, ok := services[be.Name]
			if !ok {
				c.addf(where, "%s%s: Service %s is not in the overlay", r.Host, p.Path, be.Name)
				continue
			}
			found := false
			for _, sp := range s.Spec.Ports {
				found = found || (be.Port.Name != "" && sp.Name == be.Port.Name) || (be.Port.Number != 0 && sp.Port == be.Port.Number)
			}
			if !found {
				c.addf(where, "%s%s: Service %s has no port %s%d", r.Host, p.Path, be.Name, be.Port.Name, be.Port.Number)
			}
		}
	}
}
