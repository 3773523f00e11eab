package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/schema/gvk"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// The Kubernetes Gateway API reaches pilot as it reaches istiod: the
// objects live in the Kubernetes client's Gateway API clientset, where
// istiod's gateway controller (FakeDiscoveryServer runs the real one,
// pilot/pkg/config/kube/gateway) watches them and turns them into Istio
// Gateways and VirtualServices; the GatewayClass istio is created by
// Istio's own class controller, as istiod creates it.

// startClassController runs Istio's GatewayClass controller
// (gatewaycommon.ClassController), which creates the built-in classes
// (istio) in the fake clientset, and starts the informer it added.
func startClassController(fake *xds.FakeDiscoveryServer, f *failer) {
	stop := make(chan struct{})
	f.Cleanup(func() { close(stop) })
	kc := fake.KubeClient()
	cc := gatewaycommon.NewClassController(kc)
	kc.RunAndWait(stop)
	go cc.Run(stop)
}

// isEvent says whether applying o always reaches pilot as a config event;
// a Pod alone does not (its endpoints do).
func isEvent(o runtime.Object) bool {
	switch o.(type) {
	case *corev1.Service, *discoveryv1.EndpointSlice, *gatewayv1.Gateway, *gatewayv1.HTTPRoute:
		return true
	}
	return false
}

// applyGatewayAPI creates or updates a Gateway API object; handled is
// false for any other object.
func applyGatewayAPI(ctx context.Context, gc gatewayclient.Interface, gwc model.GatewayController, o runtime.Object) (handled bool, err error) {
	switch t := o.(type) {
	case *gatewayv1.Gateway:
		c := gc.GatewayV1().Gateways(t.Namespace)
		if err := upsert(ctx, t, c.Create, c.Update); err != nil {
			return true, err
		}
		return true, waitConverted(ctx, gwc, t)
	case *gatewayv1.HTTPRoute:
		c := gc.GatewayV1().HTTPRoutes(t.Namespace)
		return true, upsert(ctx, t, c.Create, c.Update)
	}
	return false, nil
}

// deleteGatewayAPI deletes a Gateway API object; handled is false for any
// other object.
func deleteGatewayAPI(ctx context.Context, gc gatewayclient.Interface, o runtime.Object) (handled bool, err error) {
	opts := metav1.DeleteOptions{}
	switch t := o.(type) {
	case *gatewayv1.Gateway:
		return true, gc.GatewayV1().Gateways(t.Namespace).Delete(ctx, t.Name, opts)
	case *gatewayv1.HTTPRoute:
		return true, gc.GatewayV1().HTTPRoutes(t.Namespace).Delete(ctx, t.Name, opts)
	}
	return false, nil
}

// targetsOf are the hostnames of a proxy's service targets and, for a
// gateway, the names of the gateway configs pilot merged for it, sorted.
func targetsOf(p *model.Proxy) (services, gateways []string) {
	p.RLock()
	defer p.RUnlock()
	for _, t := range p.ServiceTargets {
		if t.Service != nil && !slices.Contains(services, string(t.Service.Hostname)) {
			services = append(services, string(t.Service.Hostname))
		}
	}
	if p.MergedGateway != nil {
		for _, name := range p.MergedGateway.GatewayNameForServer {
			if !slices.Contains(gateways, name) {
				gateways = append(gateways, name)
			}
		}
	}
	slices.Sort(services)
	slices.Sort(gateways)
	return services, gateways
}

// convertTimeout bounds how long a Gateway of class istio takes to become
// Istio Gateways in pilot.
const convertTimeout = 10 * time.Second

// waitConverted waits until pilot's gateway controller has turned a
// Gateway of class istio into Istio Gateway configs. Istiod deploys a
// Gateway's pods from the same informer, so they start after it has seen
// the Gateway; the embedded mesh starts them after this returns.
func waitConverted(ctx context.Context, gwc model.GatewayController, gw *gatewayv1.Gateway) error {
	if gw.Spec.GatewayClassName != "istio" || gwc == nil {
		return nil
	}
	prefix := gvk.KubernetesGateway.Kind + "/" + gw.Name + "/"
	deadline := time.Now().Add(convertTimeout)
	for {
		for _, c := range gwc.List(gvk.Gateway, gw.Namespace) {
			if strings.HasPrefix(c.Annotations[constants.InternalParentNames], prefix) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pilot's gateway controller did not turn Gateway %s/%s into Istio Gateways within %s", gw.Namespace, gw.Name, convertTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitGatewayPushed waits, after a Gateway of class istio is converted,
// until pilot has counted a config event since before (the converted
// Gateway's) and its push context holds every event so far. A gateway proxy merges the Gateways that
// select it from the push context it connects with, and a later push
// merges them again only for a Gateway change: on a cluster its pod starts
// seconds after, here it must not connect before that push.
func (c *ControlPlane) waitGatewayPushed(ctx context.Context, o runtime.Object, before int64) error {
	if gw, ok := o.(*gatewayv1.Gateway); !ok || gw.Spec.GatewayClassName != "istio" {
		return nil
	}
	d := c.fake.Discovery
	start := time.Now()
	deadline := start.Add(convertTimeout)
	// The converted Gateway is in pilot's config already (waitConverted):
	// a push context built from now on holds it.
	seen := d.Env.PushContext().PushVersion
	for {
		// An update that converts to the same Istio Gateways is no event:
		// after the grace, a push context holding every event will do.
		in := d.InboundUpdates.Load()
		fresh := in > before && d.Env.PushContext().PushVersion != seen
		if (fresh || time.Since(start) > c.grace) && d.CommittedUpdates.Load() >= in {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pilot did not push the converted Gateway within %s", convertTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
