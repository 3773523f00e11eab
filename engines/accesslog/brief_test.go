package accesslog

import (
	"os"
	"reflect"
	"testing"
)

// TestBrief: the seed flow as a report shows it: hops in path order, the
// inbound hop's parent the outbound one, durations in milliseconds.
func TestBrief(t *testing.T) {
	f, err := os.Open("testdata/seed001_istio.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read(f, ReadOptions{Source: "seed001"})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := FindFlow(Flows(res.Records), "6d293d32-af96-9f87-a8e4-6665632f7236")
	if err != nil {
		t.Fatal(err)
	}
	want := Brief{RequestID: "6d293d32-af96-9f87-a8e4-6665632f7236", Hops: []BriefHop{
		{Proxy: "10.101.204.13:50051", Direction: "outbound", Cluster: "outbound|50051||k8s-combat-service.default.svc.cluster.local", Status: 200, LatencyMS: 58},
		{Proxy: "172.17.0.9:50051", Direction: "inbound", Cluster: "inbound|50051||", Status: 200, LatencyMS: 14, Parent: 1},
	}}
	if got := fl.Brief(); !reflect.DeepEqual(got, want) {
		t.Errorf("Brief() =\n%+v\nwant\n%+v", got, want)
	}
}
