//lint:file-ignore SA1019 configs from older Envoy and Istio versions still set max_grpc_timeout, grpc_timeout_offset and a header option's append, so they are read

package trace

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// defaultRouteTimeout is Envoy's upstream timeout for a route that sets none.
const defaultRouteTimeout = "15s"

func duration(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	return d.AsDuration().String()
}

// percent is a FractionalPercent as a percentage.
func percent(f *typev3.FractionalPercent) float64 {
	if f == nil {
		return 0
	}
	den := map[typev3.FractionalPercent_DenominatorType]float64{
		typev3.FractionalPercent_HUNDRED: 100, typev3.FractionalPercent_TEN_THOUSAND: 10000,
		typev3.FractionalPercent_MILLION: 1000000,
	}[f.GetDenominator()]
	return float64(f.GetNumerator()) * 100 / den
}

// policy builds the route's policy. wcs are the weighted clusters (nil for
// other actions).
func (t *tracer) policy(r *routev3.Route, wcs []*routev3.WeightedCluster_ClusterWeight) *RoutePolicy {
	ra := r.GetRoute()
	p := &RoutePolicy{Name: r.GetName(), VirtualCluster: t.virtualCluster()}
	if md := r.GetMetadata(); md != nil {
		p.Metadata = map[string]any{}
		for k, v := range md.GetFilterMetadata() {
			p.Metadata[k] = v.AsMap()
		}
		for k, v := range md.GetTypedFilterMetadata() {
			p.Metadata[k] = v.GetTypeUrl()
		}
	}
	if ra != nil {
		p.Timeout = defaultRouteTimeout
		if ra.GetTimeout() != nil {
			p.Timeout = duration(ra.GetTimeout())
		}
		p.IdleTimeout = duration(ra.GetIdleTimeout())
		p.MaxStreamDuration = duration(ra.GetMaxStreamDuration().GetMaxStreamDuration())
		p.MaxGrpcTimeout = duration(ra.GetMaxStreamDuration().GetGrpcTimeoutHeaderMax())
		if p.MaxGrpcTimeout == "" {
			p.MaxGrpcTimeout = duration(ra.GetMaxGrpcTimeout())
		}
		p.GrpcTimeoutOffset = duration(ra.GetMaxStreamDuration().GetGrpcTimeoutHeaderOffset())
		if p.GrpcTimeoutOffset == "" {
			p.GrpcTimeoutOffset = duration(ra.GetGrpcTimeoutOffset())
		}
		p.Retry = t.retryPolicy(ra)
		p.Mirrors = t.mirrors(ra)
		p.HashPolicies = hashPolicies(ra.GetHashPolicy())
	}
	t.headerChanges(p, r, wcs)
	return p
}

// retryPolicy is the route's retry policy, else the virtual host's: Envoy
// does not merge them.
func (t *tracer) retryPolicy(ra *routev3.RouteAction) *RetryPolicy {
	rp, from := ra.GetRetryPolicy(), "route"
	if rp == nil {
		rp, from = t.vh.GetRetryPolicy(), "virtualHost"
	}
	if rp == nil {
		if tc := ra.GetRetryPolicyTypedConfig(); tc != nil {
			return &RetryPolicy{From: "route", RetryOn: "typed config " + tc.GetTypeUrl()}
		}
		if tc := t.vh.GetRetryPolicyTypedConfig(); tc != nil {
			return &RetryPolicy{From: "virtualHost", RetryOn: "typed config " + tc.GetTypeUrl()}
		}
		return nil
	}
	out := &RetryPolicy{
		From: from, RetryOn: rp.GetRetryOn(), NumRetries: 1,
		PerTryTimeout: duration(rp.GetPerTryTimeout()), PerTryIdleTimeout: duration(rp.GetPerTryIdleTimeout()),
		RetriableStatusCodes:          rp.GetRetriableStatusCodes(),
		HostSelectionRetryMaxAttempts: rp.GetHostSelectionRetryMaxAttempts(),
		RetryPriority:                 rp.GetRetryPriority().GetName(),
		BackOffBase:                   duration(rp.GetRetryBackOff().GetBaseInterval()),
		BackOffMax:                    duration(rp.GetRetryBackOff().GetMaxInterval()),
	}
	if rp.GetNumRetries() != nil {
		out.NumRetries = rp.GetNumRetries().GetValue()
	}
	for _, h := range rp.GetRetryHostPredicate() {
		out.RetryHostPredicates = append(out.RetryHostPredicates, h.GetName())
	}
	return out
}

// mirrors are the most specific request mirror policies: the route's, else
// the virtual host's, else the route configuration's.
func (t *tracer) mirrors(ra *routev3.RouteAction) []Mirror {
	mps := ra.GetRequestMirrorPolicies()
	if len(mps) == 0 {
		mps = t.vh.GetRequestMirrorPolicies()
	}
	if len(mps) == 0 {
		mps = t.rc.GetRequestMirrorPolicies()
	}
	var out []Mirror
	for _, mp := range mps {
		m := Mirror{Cluster: mp.GetCluster(), ClusterHeader: mp.GetClusterHeader(), Percent: 100}
		if rf := mp.GetRuntimeFraction(); rf != nil {
			m.Percent = percent(rf.GetDefaultValue())
			m.RuntimeKey = rf.GetRuntimeKey()
		}
		out = append(out, m)
	}
	return out
}

func hashPolicies(hps []*routev3.RouteAction_HashPolicy) []HashPolicy {
	var out []HashPolicy
	for _, h := range hps {
		hp := HashPolicy{Terminal: h.GetTerminal()}
		switch {
		case h.GetHeader() != nil:
			hp.Kind, hp.Name = "header", h.GetHeader().GetHeaderName()
		case h.GetCookie() != nil:
			hp.Kind, hp.Name = "cookie", h.GetCookie().GetName()
		case h.GetConnectionProperties() != nil:
			hp.Kind, hp.Name = "connection_properties", "source_ip"
		case h.GetQueryParameter() != nil:
			hp.Kind, hp.Name = "query_parameter", h.GetQueryParameter().GetName()
		case h.GetFilterState() != nil:
			hp.Kind, hp.Name = "filter_state", h.GetFilterState().GetKey()
		default:
			hp.Kind = fmt.Sprintf("%T", h.GetPolicySpecifier())
		}
		out = append(out, hp)
	}
	return out
}

// headerLevel is one level of header changes.
type headerLevel struct {
	name                 string
	reqAdd, rspAdd       []*corev3.HeaderValueOption
	reqRemove, rspRemove []string
}

// headerChanges lists the header changes in Envoy's order: the weighted
// cluster's first, then route, virtual host and route configuration (or the
// reverse of those three with most_specific_header_mutations_wins); a later
// overwrite wins.
func (t *tracer) headerChanges(p *RoutePolicy, r *routev3.Route, wcs []*routev3.WeightedCluster_ClusterWeight) {
	var levels []headerLevel
	for _, c := range wcs {
		levels = append(levels, headerLevel{"weightedCluster:" + c.GetName(), c.GetRequestHeadersToAdd(), c.GetResponseHeadersToAdd(), c.GetRequestHeadersToRemove(), c.GetResponseHeadersToRemove()})
	}
	three := []headerLevel{
		{"route", r.GetRequestHeadersToAdd(), r.GetResponseHeadersToAdd(), r.GetRequestHeadersToRemove(), r.GetResponseHeadersToRemove()},
		{"virtualHost", t.vh.GetRequestHeadersToAdd(), t.vh.GetResponseHeadersToAdd(), t.vh.GetRequestHeadersToRemove(), t.vh.GetResponseHeadersToRemove()},
		{"routeConfig", t.rc.GetRequestHeadersToAdd(), t.rc.GetResponseHeadersToAdd(), t.rc.GetRequestHeadersToRemove(), t.rc.GetResponseHeadersToRemove()},
	}
	if t.rc.GetMostSpecificHeaderMutationsWins() {
		three[0], three[2] = three[2], three[0]
	}
	for _, l := range append(levels, three...) {
		p.RequestHeadersToAdd = append(p.RequestHeadersToAdd, headerOptions(l.reqAdd, l.name)...)
		p.ResponseHeadersToAdd = append(p.ResponseHeadersToAdd, headerOptions(l.rspAdd, l.name)...)
		p.RequestHeadersToRemove = append(p.RequestHeadersToRemove, l.reqRemove...)
		p.ResponseHeadersToRemove = append(p.ResponseHeadersToRemove, l.rspRemove...)
	}
}

func headerOptions(opts []*corev3.HeaderValueOption, level string) []HeaderChange {
	var out []HeaderChange
	for _, o := range opts {
		action := o.GetAppendAction().String()
		if o.GetAppend() != nil && !o.GetAppend().GetValue() {
			action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD.String()
		}
		v := o.GetHeader().GetValue()
		if v == "" && len(o.GetHeader().GetRawValue()) > 0 {
			v = string(o.GetHeader().GetRawValue())
		}
		out = append(out, HeaderChange{Name: strings.ToLower(o.GetHeader().GetKey()), Value: v, Action: action, Level: level})
	}
	return out
}

// virtualCluster is the name of the first virtual cluster of the virtual
// host whose header matchers all hold; "other" (Envoy's catch-all) when the
// virtual host has virtual clusters and none holds.
func (t *tracer) virtualCluster() string {
	for _, vc := range t.vh.GetVirtualClusters() {
		ok := true
		for _, h := range vc.GetHeaders() {
			if m, u := t.headerMatches(h); !m || u != "" {
				ok = false
				break
			}
		}
		if ok {
			return vc.GetName()
		}
	}
	if len(t.vh.GetVirtualClusters()) > 0 {
		return "other"
	}
	return ""
}
