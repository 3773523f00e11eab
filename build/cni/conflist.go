package cni

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
)

// CNIVersion is the spec version of the configuration: 0.4.0 is understood
// by the containernetworking plugins of Debian 12 (1.1.1) and by
// containerd 1.6's libcni.
const CNIVersion = "0.4.0"

// ConfOptions shape the CNI configuration of one node.
type ConfOptions struct {
	Name     string         // network name; "meshcheck" when empty
	PodCIDRs []netip.Prefix // the node's pod CIDRs, at most one per family
	MTU      int            // veth MTU; 0 leaves the plugin's default
}

type conflist struct {
	CNIVersion string   `json:"cniVersion"`
	Name       string   `json:"name"`
	Plugins    []plugin `json:"plugins"`
}

type plugin struct {
	Type         string          `json:"type"`
	IPMasq       *bool           `json:"ipMasq,omitempty"`
	MTU          int             `json:"mtu,omitempty"`
	IPAM         *ipam           `json:"ipam,omitempty"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
}

type ipam struct {
	Type   string         `json:"type"`
	Ranges [][]rangeEntry `json:"ranges"`
	Routes []route        `json:"routes"`
}

type rangeEntry struct {
	Subnet string `json:"subnet"`
}

type route struct {
	Dst string `json:"dst"`
}

// Conflist renders the node's CNI configuration list: ptp (one veth pair
// per pod, host routes, no masquerade: the daemon's iptables chain does
// that) with host-local IPAM over the pod CIDRs and a default route per
// family, then portmap for hostPort.
func Conflist(o ConfOptions) ([]byte, error) {
	if len(o.PodCIDRs) == 0 {
		return nil, errors.New("no pod CIDR")
	}
	if o.MTU < 0 || (o.MTU > 0 && o.MTU < 576) {
		return nil, fmt.Errorf("MTU %d out of range", o.MTU)
	}
	name := o.Name
	if name == "" {
		name = "meshcheck"
	}
	im := &ipam{Type: "host-local"}
	fams := map[bool]bool{}
	for _, p := range o.PodCIDRs {
		if !p.IsValid() || p.Masked() != p {
			return nil, fmt.Errorf("pod CIDR %q is not a network address", p)
		}
		v4 := p.Addr().Is4()
		if fams[v4] {
			return nil, fmt.Errorf("pod CIDR %s: a second CIDR of the same family", p)
		}
		fams[v4] = true
		im.Ranges = append(im.Ranges, []rangeEntry{{Subnet: p.String()}})
		def := "::/0"
		if v4 {
			def = "0.0.0.0/0"
		}
		im.Routes = append(im.Routes, route{Dst: def})
	}
	no := false
	c := conflist{CNIVersion: CNIVersion, Name: name, Plugins: []plugin{
		{Type: "ptp", IPMasq: &no, MTU: o.MTU, IPAM: im},
		{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}},
	}}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
