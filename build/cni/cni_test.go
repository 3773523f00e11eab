package cni

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func node(name string, cidrs []string, ips ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR = cidrs[0]
		n.Spec.PodCIDRs = cidrs
	}
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	return n
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func TestFromNode(t *testing.T) {
	legacy := node("legacy", nil, "172.18.0.2")
	legacy.Spec.PodCIDR = "10.244.3.0/24"
	for _, tc := range []struct {
		name  string
		node  *corev1.Node
		want  Node
		err   string
		noPod bool
	}{
		{name: "one family", node: node("cp", []string{"10.244.0.0/24"}, "172.18.0.2"),
			want: Node{Name: "cp", PodCIDRs: []netip.Prefix{pfx("10.244.0.0/24")}, InternalIPs: []netip.Addr{addr("172.18.0.2")}}},
		{name: "dual stack", node: node("w", []string{"10.244.1.0/24", "fd00:10:244:1::/64"}, "172.18.0.3", "fc00:f853:ccd:e793::3", "172.18.0.9"),
			want: Node{Name: "w", PodCIDRs: []netip.Prefix{pfx("10.244.1.0/24"), pfx("fd00:10:244:1::/64")}, InternalIPs: []netip.Addr{addr("172.18.0.3"), addr("fc00:f853:ccd:e793::3")}}},
		{name: "only spec.podCIDR", node: legacy,
			want: Node{Name: "legacy", PodCIDRs: []netip.Prefix{pfx("10.244.3.0/24")}, InternalIPs: []netip.Addr{addr("172.18.0.2")}}},
		{name: "no pod CIDR", node: node("new", nil, "172.18.0.4"), err: `node "new": spec.podCIDR is empty: no pod CIDR allocated yet`, noPod: true},
		{name: "malformed CIDR", node: node("bad", []string{"10.244.0.0/33"}), err: `node "bad": spec.podCIDRs[0] "10.244.0.0/33" is not a CIDR`},
		{name: "not a CIDR at all", node: node("bad", []string{"10.244.0.0/24", "pods"}), err: `node "bad": spec.podCIDRs[1] "pods" is not a CIDR`},
		{name: "host bits", node: node("bad", []string{"10.244.0.1/24"}), err: `node "bad": spec.podCIDRs[0] "10.244.0.1/24" has host bits set (want 10.244.0.0/24)`},
		{name: "two of a family", node: node("bad", []string{"10.244.0.0/24", "10.245.0.0/24"}), err: `node "bad": spec.podCIDRs[1] "10.245.0.0/24": a second pod CIDR of the same family`},
		{name: "bad InternalIP", node: node("bad", []string{"10.244.0.0/24"}, "172.18.0.300"), err: `node "bad": status.addresses[0] (InternalIP) "172.18.0.300" is not an IP address`},
		{name: "nil", node: nil, err: "nil node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromNode(tc.node)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if errors.Is(err, ErrNoPodCIDR) != tc.noPod {
					t.Errorf("errors.Is(ErrNoPodCIDR) = %v", !tc.noPod)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewPlan(t *testing.T) {
	cp := node("cp", []string{"10.244.0.0/24"}, "172.18.0.2")
	w1 := node("w1", []string{"10.244.1.0/24"}, "172.18.0.3")
	w2 := node("w2", []string{"10.244.2.0/24", "fd00:10:244:2::/64"}, "172.18.0.4", "fc00::4")
	for _, tc := range []struct {
		name     string
		self     string
		nodes    []*corev1.Node
		routes   []string
		pods     []string
		problems []string
		err      string
	}{
		{name: "single node", self: "cp", nodes: []*corev1.Node{cp}, pods: []string{"10.244.0.0/24"}},
		{name: "three nodes from the control plane", self: "cp", nodes: []*corev1.Node{w2, cp, w1},
			routes: []string{"10.244.1.0/24 via 172.18.0.3 (w1)", "10.244.2.0/24 via 172.18.0.4 (w2)", "fd00:10:244:2::/64 via fc00::4 (w2)"},
			pods:   []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "fd00:10:244:2::/64"}},
		{name: "from a worker", self: "w1", nodes: []*corev1.Node{cp, w1},
			routes: []string{"10.244.0.0/24 via 172.18.0.2 (cp)"}, pods: []string{"10.244.0.0/24", "10.244.1.0/24"}},
		{name: "a worker not allocated yet is skipped", self: "cp", nodes: []*corev1.Node{cp, node("w9", nil, "172.18.0.9")},
			pods: []string{"10.244.0.0/24"}, problems: []string{`node "w9": spec.podCIDR is empty`}},
		{name: "a malformed worker is skipped", self: "cp", nodes: []*corev1.Node{cp, node("w9", []string{"10.244.9.0/99"}, "172.18.0.9"), w1},
			routes: []string{"10.244.1.0/24 via 172.18.0.3 (w1)"}, pods: []string{"10.244.0.0/24", "10.244.1.0/24"},
			problems: []string{`node "w9": spec.podCIDRs[0] "10.244.9.0/99" is not a CIDR`}},
		{name: "no InternalIP of the family", self: "cp", nodes: []*corev1.Node{cp, node("w9", []string{"10.244.9.0/24"})},
			pods: []string{"10.244.0.0/24"}, problems: []string{`node "w9": status.addresses has no InternalIP of the family of pod CIDR 10.244.9.0/24`}},
		{name: "overlapping CIDR", self: "cp", nodes: []*corev1.Node{cp, node("w9", []string{"10.244.0.0/16"}, "172.18.0.9")},
			pods: []string{"10.244.0.0/24"}, problems: []string{`node "w9": pod CIDR #0 10.244.0.0/16 overlaps 10.244.0.0/24`}},
		{name: "self without pod CIDR", self: "w9", nodes: []*corev1.Node{cp, node("w9", nil)}, err: `node "w9": spec.podCIDR is empty`},
		{name: "self malformed", self: "w9", nodes: []*corev1.Node{node("w9", []string{"x"})}, err: `node "w9": spec.podCIDRs[0] "x" is not a CIDR`},
		{name: "self missing", self: "nope", nodes: []*corev1.Node{cp, nil}, err: `node "nope" not found among 2 nodes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.self, tc.nodes)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var routes, pods, problems []string
			for _, r := range p.Routes {
				routes = append(routes, r.String())
			}
			for _, c := range p.PodCIDRs {
				pods = append(pods, c.String())
			}
			for _, e := range p.Problems {
				problems = append(problems, e.Error())
			}
			if !reflect.DeepEqual(routes, tc.routes) {
				t.Errorf("routes %q, want %q", routes, tc.routes)
			}
			if !reflect.DeepEqual(pods, tc.pods) {
				t.Errorf("pod CIDRs %q, want %q", pods, tc.pods)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %q", problems, tc.problems)
			}
			for i := range problems {
				if !strings.Contains(problems[i], tc.problems[i]) {
					t.Errorf("problem %q, want %q", problems[i], tc.problems[i])
				}
			}
		})
	}
}

func TestDiff(t *testing.T) {
	r := func(dst, via string) Route { return Route{Dst: pfx(dst), Via: addr(via)} }
	a, b, c := r("10.244.1.0/24", "172.18.0.3"), r("10.244.2.0/24", "172.18.0.4"), r("10.244.3.0/24", "172.18.0.5")
	moved := r("10.244.2.0/24", "172.18.0.9")
	for _, tc := range []struct {
		name             string
		want, have       []Route
		wantAdd, wantDel []Route
	}{
		{name: "nothing", wantAdd: nil, wantDel: nil},
		{name: "first sync", want: []Route{b, a}, wantAdd: []Route{a, b}},
		{name: "in sync", want: []Route{a, b}, have: []Route{b, a}},
		{name: "node added", want: []Route{a, b, c}, have: []Route{a, b}, wantAdd: []Route{c}},
		{name: "node deleted", want: []Route{a}, have: []Route{a, b}, wantDel: []Route{b}},
		{name: "node moved to a new IP", want: []Route{a, moved}, have: []Route{a, b}, wantAdd: []Route{moved}, wantDel: []Route{b}},
		{name: "duplicate installed", want: []Route{a}, have: []Route{a, a}, wantDel: []Route{a}},
		{name: "all nodes gone", have: []Route{c, a}, wantDel: []Route{a, c}},
		{name: "Node field is not identity", want: []Route{{Dst: a.Dst, Via: a.Via, Node: "w1"}}, have: []Route{a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add, del := Diff(tc.want, tc.have)
			strip := func(rs []Route) []Route {
				var out []Route
				for _, r := range rs {
					out = append(out, Route{Dst: r.Dst, Via: r.Via})
				}
				return out
			}
			if !reflect.DeepEqual(strip(add), tc.wantAdd) || !reflect.DeepEqual(strip(del), tc.wantDel) {
				t.Errorf("add %v del %v; want add %v del %v", add, del, tc.wantAdd, tc.wantDel)
			}
		})
	}
}

func TestConflist(t *testing.T) {
	got, err := Conflist(ConfOptions{PodCIDRs: []netip.Prefix{pfx("10.244.0.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "cniVersion": "0.4.0",
  "name": "meshcheck",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [
          [
            {
              "subnet": "10.244.0.0/24"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ]
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	for _, tc := range []struct {
		name string
		o    ConfOptions
		has  []string
		err  string
	}{
		{name: "dual stack and MTU", o: ConfOptions{Name: "n", MTU: 1450, PodCIDRs: []netip.Prefix{pfx("10.244.1.0/24"), pfx("fd00::/64")}},
			has: []string{`"name": "n"`, `"mtu": 1450`, `"subnet": "fd00::/64"`, `"dst": "::/0"`, `"dst": "0.0.0.0/0"`}},
		{name: "no CIDR", o: ConfOptions{}, err: "no pod CIDR"},
		{name: "host bits", o: ConfOptions{PodCIDRs: []netip.Prefix{netip.PrefixFrom(addr("10.244.0.1"), 24)}}, err: `pod CIDR "10.244.0.1/24" is not a network address`},
		{name: "zero prefix", o: ConfOptions{PodCIDRs: []netip.Prefix{{}}}, err: "is not a network address"},
		{name: "two of a family", o: ConfOptions{PodCIDRs: []netip.Prefix{pfx("10.244.0.0/24"), pfx("10.245.0.0/24")}}, err: "a second CIDR of the same family"},
		{name: "bad MTU", o: ConfOptions{MTU: 100, PodCIDRs: []netip.Prefix{pfx("10.244.0.0/24")}}, err: "MTU 100 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Conflist(tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var v map[string]any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.has {
				if !strings.Contains(string(got), h) {
					t.Errorf("missing %s in\n%s", h, got)
				}
			}
		})
	}
}

func TestMasqRules(t *testing.T) {
	own := []netip.Prefix{pfx("10.244.0.0/24")}
	got := MasqRules(false, own, []netip.Prefix{pfx("10.244.0.0/16"), pfx("10.244.1.0/24"), pfx("fd00::/56"), pfx("10.244.1.0/24")})
	want := `*nat
:MESHCHECK-CNI-MASQ - [0:0]
-A MESHCHECK-CNI-MASQ ! -s 10.244.0.0/24 -j RETURN
-A MESHCHECK-CNI-MASQ -d 10.244.0.0/16 -j RETURN
-A MESHCHECK-CNI-MASQ -d 10.244.1.0/24 -j RETURN
-A MESHCHECK-CNI-MASQ -d 224.0.0.0/4 -j RETURN
-A MESHCHECK-CNI-MASQ -j MASQUERADE
COMMIT
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := MasqRules(true, own, nil); got != "" {
		t.Errorf("IPv6 rules without an IPv6 pod CIDR:\n%s", got)
	}
	if got := MasqRules(true, []netip.Prefix{pfx("10.244.0.0/24"), pfx("fd00:1::/64")}, nil); !strings.Contains(got, "! -s fd00:1::/64 -j RETURN") || !strings.Contains(got, "-d ff00::/8 -j RETURN") {
		t.Errorf("IPv6 rules:\n%s", got)
	}
}

func TestParseCIDRList(t *testing.T) {
	got, err := ParseCIDRList("POD_SUBNET", " 10.244.0.0/16, fd00:10:244::/56 ,")
	if err != nil || !reflect.DeepEqual(got, []netip.Prefix{pfx("10.244.0.0/16"), pfx("fd00:10:244::/56")}) {
		t.Errorf("got %v %v", got, err)
	}
	if _, err := ParseCIDRList("POD_SUBNET", "{{ .PodSubnet }}"); err == nil || !strings.Contains(err.Error(), `POD_SUBNET: item 0 "{{ .PodSubnet }}" is not a CIDR`) {
		t.Errorf("error %v", err)
	}
}

func FuzzParseCIDRList(f *testing.F) {
	f.Add("10.244.0.0/16,fd00::/56")
	f.Add(",,")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseCIDRList("f", s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p.Masked() != p {
				t.Fatalf("%q gave %v", s, p)
			}
		}
	})
}

// The manifest, templated as kind does, decodes into the API types with
// every field the node image relies on.
func TestManifest(t *testing.T) {
	raw, err := Manifest(ManifestOptions{Image: "meshcheck.local/meshcheck-cni:abc123"})
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"would you kindly template this file", "would you kindly patch this file"} {
		if !bytes.Contains(raw, []byte(marker)) {
			t.Errorf("marker %q missing: kind would not template or patch the manifest", marker)
		}
	}
	var out bytes.Buffer
	if err := template.Must(template.New("m").Parse(string(raw))).Execute(&out, struct{ PodSubnet string }{"10.244.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var ds appsv1.DaemonSet
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue
		}
		kinds[meta.Kind]++
		var obj any
		switch meta.Kind {
		case "DaemonSet":
			obj = &ds
		case "ClusterRole":
			obj = &rbacv1.ClusterRole{}
		case "ClusterRoleBinding":
			obj = &rbacv1.ClusterRoleBinding{}
		case "ServiceAccount":
			obj = &corev1.ServiceAccount{}
		default:
			t.Fatalf("unexpected kind %s", meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s: %v", meta.Kind, err)
		}
	}
	if !reflect.DeepEqual(kinds, map[string]int{"DaemonSet": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "ServiceAccount": 1}) {
		t.Errorf("kinds %v", kinds)
	}
	spec := ds.Spec.Template.Spec
	c := spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	switch {
	case !spec.HostNetwork:
		t.Error("not hostNetwork")
	case c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged:
		t.Error("not privileged")
	case len(spec.Tolerations) != 1 || spec.Tolerations[0].Operator != corev1.TolerationOpExists || spec.Tolerations[0].Key != "":
		t.Errorf("tolerations %v do not tolerate every taint", spec.Tolerations)
	case c.Image != "meshcheck.local/meshcheck-cni:abc123" || c.ImagePullPolicy != corev1.PullIfNotPresent:
		t.Errorf("image %s %s", c.Image, c.ImagePullPolicy)
	case env["POD_SUBNET"].Value != "10.244.0.0/16":
		t.Errorf("POD_SUBNET %q", env["POD_SUBNET"].Value)
	case env["NODE_NAME"].ValueFrom == nil || env["NODE_NAME"].ValueFrom.FieldRef.FieldPath != "spec.nodeName":
		t.Error("NODE_NAME is not the downward API's spec.nodeName")
	case ds.Spec.Selector.MatchLabels["app"] != ds.Spec.Template.Labels["app"]:
		t.Error("selector does not match the template")
	}

	for _, bad := range []ManifestOptions{{Image: ""}, {Image: "x y"}, {Image: "{{x}}"}, {Image: "ok", PullPolicy: "Sometimes"}} {
		if _, err := Manifest(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if b, _ := Manifest(ManifestOptions{Image: "i", PullPolicy: "Never"}); !bytes.Contains(b, []byte("imagePullPolicy: Never")) {
		t.Error("pull policy Never not rendered")
	}
}
