package gate

import (
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/backend"
)

func TestParseImagesOutput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     KindSide
		err      string
	}{
		{"istio.sh's last lines", "[images] built\nISTIO_HUB=meshcheck.local/istio\nISTIO_TAG=gate-baseline\nISTIOCTL=/c/istioctl\n",
			KindSide{Hub: "meshcheck.local/istio", Tag: "gate-baseline", Istioctl: "/c/istioctl"}, ""},
		{"no istioctl line", "ISTIO_HUB=h\nISTIO_TAG=t\n", KindSide{}, "printed no ISTIO_HUB, ISTIO_TAG and ISTIOCTL lines; it printed:\nISTIO_HUB=h"},
		{"nothing", "", KindSide{}, "printed no ISTIO_HUB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseImagesOutput(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v; want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestProxyKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proxy backend.Proxy
		want  string
	}{
		{"a Deployment's pod", proxy("default", "reviews-v1-5d8f7c9b4-x7k2p", map[string]string{"pod-template-hash": "5d8f7c9b4"}), "default/reviews-v1"},
		{"a gateway whose hash follows its image tag", proxy("istio-system", "istio-ingressgateway-6b7c9d8f5-abcde", map[string]string{"pod-template-hash": "6b7c9d8f5"}), "istio-system/istio-ingressgateway"},
		{"no pod-template-hash", proxy("vm", "sleep", nil), "vm/sleep"},
		{"a hash the name does not carry", proxy("default", "details-v1-abc-def", map[string]string{"pod-template-hash": "zzz"}), "default/details-v1-abc-def"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := proxyKey(tc.proxy); got != tc.want {
				t.Fatalf("proxyKey(%s) = %q; want %q", tc.proxy, got, tc.want)
			}
		})
	}
}

func proxy(ns, name string, labels map[string]string) backend.Proxy {
	return backend.Proxy{Workload: backend.Workload{Namespace: ns, Name: name, Labels: labels}}
}
