package main

import (
	"context"
	"encoding/json"
	"fmt"

	"istio.io/istio/pkg/config"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
)

// newObject is an empty typed object of each kind pilotapi carries.
var newObject = map[string]func() runtime.Object{
	"Namespace":      func() runtime.Object { return &corev1.Namespace{} },
	"ServiceAccount": func() runtime.Object { return &corev1.ServiceAccount{} },
	"Service":        func() runtime.Object { return &corev1.Service{} },
	"Pod":            func() runtime.Object { return &corev1.Pod{} },
	"EndpointSlice":  func() runtime.Object { return &discoveryv1.EndpointSlice{} },
	"Deployment":     func() runtime.Object { return &appsv1.Deployment{} },
	"Gateway":        func() runtime.Object { return &gatewayv1.Gateway{} },
	"HTTPRoute":      func() runtime.Object { return &gatewayv1.HTTPRoute{} },
}

func decode(objs []pilotapi.Object) ([]runtime.Object, error) {
	out := make([]runtime.Object, 0, len(objs))
	for i, o := range objs {
		mk, ok := newObject[o.Kind]
		if !ok {
			return nil, fmt.Errorf("object %d: kind %q: not one of %v", i, o.Kind, pilotapi.Kinds)
		}
		obj := mk()
		if err := json.Unmarshal(o.Object, obj); err != nil {
			return nil, fmt.Errorf("object %d (%s): %w", i, o.Kind, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

func apply(ctx context.Context, cp *ControlPlane, a pilotapi.Apply) error {
	objs, err := decode(a.Kube)
	if err != nil {
		return err
	}
	if err := cp.ApplyKube(ctx, objs...); err != nil {
		return err
	}
	if a.Istio == "" {
		return nil
	}
	cfgs, err := ParseIstioConfigs(a.Istio, a.Domain)
	if err != nil {
		return err
	}
	return cp.ApplyConfigs(cfgs...)
}

func remove(ctx context.Context, cp *ControlPlane, d pilotapi.Delete) error {
	objs, err := decode(d.Kube)
	if err != nil {
		return err
	}
	if err := cp.DeleteKube(ctx, objs...); err != nil {
		return err
	}
	for _, k := range d.Istio {
		g := config.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
		if err := cp.DeleteConfig(g, k.Name, k.Namespace); err != nil {
			return err
		}
	}
	return nil
}
