package main

import (
	"context"

	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/test/xds"
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
func applyGatewayAPI(ctx context.Context, gc gatewayclient.Interface, o runtime.Object) (handled bool, err error) {
	switch t := o.(type) {
	case *gatewayv1.Gateway:
		c := gc.GatewayV1().Gateways(t.Namespace)
		return true, upsert(ctx, t, c.Create, c.Update)
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
