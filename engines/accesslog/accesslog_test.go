package accesslog

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		format  string
		ops     []string // Operator.String() of each
		mapped  []bool
		wantErr string
	}{
		{format: FormatIstio, ops: nil},
		{format: `%START_TIME(%Y-%m-%dT%H:%M:%S%z)% %REQ(X-B3-TRACEID):16% 100%% %RESPONSE_CODE%`,
			ops:    []string{"%START_TIME(%Y-%m-%dT%H:%M:%S%z)%", "%REQ(X-B3-TRACEID):16%", "%RESPONSE_CODE%"},
			mapped: []bool{true, false, true}},
		{format: `%UPSTREAM_CLUSTER_RAW%%RESPONSE_CODE%`, ops: []string{"%UPSTREAM_CLUSTER_RAW%", "%RESPONSE_CODE%"}, mapped: []bool{true, true}},
		{format: `%REQ(:PATH`, wantErr: "column 1: %REQ( has no closing parenthesis"},
		{format: `x %REQ(A):zz%`, wantErr: "column 3: %REQ(...): wants a length"},
		{format: `just text`, wantErr: "no command operator"},
		{format: "", wantErr: "empty format"},
	}
	for _, tt := range tests {
		f, err := Compile(tt.format)
		if tt.wantErr != "" {
			var fe *FormatError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
				t.Errorf("Compile(%q) = %v, want a FormatError with %q", tt.format, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.format, err)
		}
		if tt.ops == nil {
			continue
		}
		ops := f.Operators()
		if len(ops) != len(tt.ops) {
			t.Fatalf("Compile(%q): %d operators %v, want %v", tt.format, len(ops), ops, tt.ops)
		}
		for i, op := range ops {
			if op.String() != tt.ops[i] || op.Mapped != tt.mapped[i] {
				t.Errorf("operator %d = %s mapped=%v, want %s mapped=%v", i, op, op.Mapped, tt.ops[i], tt.mapped[i])
			}
		}
	}
	// Every field of the Istio profile maps to a canonical field.
	f, _ := Compile(FormatIstio)
	seen := map[Field]bool{}
	for _, op := range f.Operators() {
		if !op.Mapped {
			t.Errorf("%s is not mapped", op)
		}
		seen[op.Field] = true
	}
	if len(seen) != int(numFields) {
		t.Errorf("the Istio format fills %d canonical fields, want all %d", len(seen), numFields)
	}
}

// A line of the 1.8 shape (no response code details, no termination
// details), constructed from the 1.8 format with values of the seed.
const line18 = `[2020-11-02T10:00:01.123Z] "GET /reviews/0 HTTP/1.1" 200 - "-" 0 295 24 23 "-" "curl/7.68.0 (x86_64) libcurl" "a1b2c3" "reviews:9080" "10.1.0.7:9080" outbound|9080|v1|reviews.default.svc.cluster.local 10.1.0.5:43210 10.96.0.20:9080 10.1.0.5:51234 - default`

func TestParseLine(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed001_istio.log")
	if err != nil {
		t.Fatal(err)
	}
	seedLine := strings.Split(string(seed), "\n")[0]
	tests := []struct {
		name, format, line string
		ok                 bool
		wantErr            string
		check              func(*testing.T, Record)
	}{
		{name: "seed 001 auto", line: seedLine, ok: true, check: func(t *testing.T, r Record) {
			if r.ResponseCode != 200 || r.UpstreamCluster != "inbound|50051||" || r.Duration != 14*time.Millisecond ||
				r.UpstreamServiceTime != 9*time.Millisecond || r.Has(ResponseFlags) || r.Has(XForwardedFor) ||
				r.RequestedServerName != "outbound_.50051_._.k8s-combat-service.default.svc.cluster.local" ||
				!r.StartTime.Equal(time.Date(2023, 10, 31, 14, 52, 14, 279e6, time.UTC)) {
				t.Errorf("record %+v", r)
			}
		}},
		{name: "seed 001 is not the 1.8 shape", format: "istio-1.8", line: seedLine, wantErr: `column 75: %RESPONSE_FLAGS%: "- via_upstream -" holds a space`},
		{name: "1.8 line auto", line: line18, ok: true, check: func(t *testing.T, r Record) {
			if r.UserAgent != "curl/7.68.0 (x86_64) libcurl" || r.Has(ResponseCodeDetails) || r.BytesSent != 295 || r.UpstreamCluster != "outbound|9080|v1|reviews.default.svc.cluster.local" {
				t.Errorf("record %+v", r)
			}
		}},
		{name: "1.8 line under 1.23+ format", format: "istio", line: line18, wantErr: "%RESPONSE_CODE_DETAILS%"},
		{name: "user agent holding the separator", line: strings.Replace(seedLine, `"grpc-go/1.58.3"`, `"evil" "agent"`, 1), ok: true, check: func(t *testing.T, r Record) {
			if r.UserAgent != `evil" "agent` || r.RequestID != "6d293d32-af96-9f87-a8e4-6665632f7236" {
				t.Errorf("user_agent %q request_id %q", r.UserAgent, r.RequestID)
			}
		}},
		{name: "bad status", line: strings.Replace(seedLine, `" 200 -`, `" 2x0 -`, 1), wantErr: `%RESPONSE_CODE%: "2x0" is not a number`},
		{name: "envoy's own log", line: `[2026-11-21 06:26:24.985][22564][info][main] [source/server/server.cc:463] initializing epoch 0`},
		{name: "agent log", line: "2023-10-31T14:52:14.279054Z\tinfo\txdsproxy\tconnected to upstream XDS server"},
		{name: "agent JSON log", line: `{"level":"info","time":"2023-10-31T14:52:14Z","msg":"ready"}`},
		{name: "json", line: `{"start_time":"2023-10-31T14:52:14.279Z","response_code":503,"response_flags":"UF,URX","duration":"7","upstream_cluster":"outbound|80|v2|whoami.default.svc.cluster.local","x_forwarded_for":null,"custom":{"a":[1,2]},"user_agent":"a \"quoted\" agent"}`, ok: true, check: func(t *testing.T, r Record) {
			if r.ResponseCode != 503 || r.ResponseFlags != "UF,URX" || r.Duration != 7*time.Millisecond || r.Has(XForwardedFor) || r.Extra["custom"] != `{"a":[1,2]}` || r.UserAgent != `a "quoted" agent` {
				t.Errorf("record %+v", r)
			}
		}},
		{name: "json bad type", line: `{"start_time":"2023-10-31T14:52:14.279Z","response_code":"abc"}`, wantErr: `key "response_code": response_code: "abc" is not a number`},
		{name: "json broken", line: `{"start_time":"2023-10-31T14:52:14.279Z","response_code":`, wantErr: "JSON: offset"},
		{name: "custom format", format: `%START_TIME(%s.%3f)%|%REQ(X-B3-TRACEID)%|%RESPONSE_CODE%|%UPSTREAM_CLUSTER%`, line: `1698763934.279|80f198ee56343ba8|200|outbound|80||whoami.default.svc.cluster.local`, ok: true, check: func(t *testing.T, r Record) {
			if r.Has(StartTime) || r.Extra["START_TIME(%s.%3f)"] != "1698763934.279" || r.Extra["REQ(X-B3-TRACEID)"] != "80f198ee56343ba8" || r.ResponseCode != 200 || r.UpstreamCluster != "outbound|80||whoami.default.svc.cluster.local" {
				t.Errorf("record %+v extra %v", r, r.Extra)
			}
		}},
		{name: "custom start time layout", format: `%START_TIME(%Y-%m-%dT%H:%M:%S%z)% %RESPONSE_CODE%`, line: `2023-10-31T14:52:14+0800 200`, ok: true, check: func(t *testing.T, r Record) {
			if !r.StartTime.Equal(time.Date(2023, 10, 31, 6, 52, 14, 0, time.UTC)) {
				t.Errorf("start_time %v", r.StartTime)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewParser(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			r, ok, err := p.ParseLine(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("ok=%v err=%v, want ok=%v", ok, err, tt.ok)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestReadNamesFileAndLine(t *testing.T) {
	in := "2023-10-31T14:52:14.279054Z\tinfo\tready\n" + line18 + "\n" + strings.Replace(line18, " 295 ", " 29five ", 1) + "\n"
	res, err := Read(strings.NewReader(in), ReadOptions{Source: "proxy.log"})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 || !strings.HasPrefix(err.Error(), "proxy.log:3: ") || !strings.Contains(err.Error(), "29five") {
		t.Fatalf("err = %v, want a LineError at proxy.log:3 quoting the value", err)
	}
	if res.Skipped != 1 || len(res.Records) != 1 {
		t.Errorf("before the error: %d records %d skipped, want 1 and 1", len(res.Records), res.Skipped)
	}
	if _, err := NewParser("istio-2.0"); err == nil || !strings.Contains(err.Error(), "want auto, istio, istio-1.22, istio-1.8, json") {
		t.Errorf("NewParser(unknown) = %v", err)
	}
}

func TestRecordJSON(t *testing.T) {
	p, _ := NewParser("")
	r, _, err := p.ParseLine(line18)
	if err != nil {
		t.Fatal(err)
	}
	r.Source = "x.log:1"
	b, _ := r.MarshalJSON()
	want := `{"start_time":"2020-11-02T10:00:01.123Z","method":"GET","path":"/reviews/0","protocol":"HTTP/1.1","response_code":200,"bytes_received":0,"bytes_sent":295,"duration":24,"upstream_service_time":23,"user_agent":"curl/7.68.0 (x86_64) libcurl","request_id":"a1b2c3","authority":"reviews:9080","upstream_host":"10.1.0.7:9080","upstream_cluster":"outbound|9080|v1|reviews.default.svc.cluster.local","upstream_local_address":"10.1.0.5:43210","downstream_local_address":"10.96.0.20:9080","downstream_remote_address":"10.1.0.5:51234","route_name":"default","source":"x.log:1"}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	// The JSON reads back as the same record.
	back, ok, err := p.ParseLine(string(b))
	if err != nil || !ok {
		t.Fatalf("reading the JSON back: ok=%v err=%v", ok, err)
	}
	back.Source = r.Source
	if b2, _ := back.MarshalJSON(); string(b2) != want {
		t.Errorf("round trip:\n got %s\nwant %s", b2, want)
	}
}

func TestSeedFlow(t *testing.T) {
	f, err := os.Open("testdata/seed001_istio.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read(f, ReadOptions{Source: "seed001"})
	if err != nil {
		t.Fatal(err)
	}
	flows := Flows(res.Records)
	if len(flows) != 4 {
		t.Fatalf("%d flows, want 4 (one request id appears twice)", len(flows))
	}
	fl, err := FindFlow(flows, "6d293d32-af96-9f87-a8e4-6665632f7236")
	if err != nil {
		t.Fatal(err)
	}
	// The outbound hop logged second but started first and its connection
	// (upstream local 172.17.0.9:40804) is the inbound hop's downstream.
	check := All(
		ExpectPath(Step{Direction: Outbound, Cluster: "outbound|50051||k8s-combat-service.*", Status: 200}, Step{Direction: Inbound, Cluster: "inbound|50051||", Status: 200}),
		NoResponseFlags())
	if err := check.Check(fl); err != nil {
		t.Fatal(err)
	}
	if fl.Hops[1].Parent != 0 || fl.Hops[0].Parent != -1 {
		t.Errorf("parents %d %d, want -1 0", fl.Hops[0].Parent, fl.Hops[1].Parent)
	}
	if _, err := FindFlow(flows, "6d293d32-af96-9f87-a8e4-000000000000"); err == nil || !strings.Contains(err.Error(), "closest: 6d293d32-af96-9f87-a8e4-6665632f7236") {
		t.Errorf("FindFlow(unknown) = %v", err)
	}
}

// Each check must fail on a flow that breaks it, with the evidence.
func TestChecksFail(t *testing.T) {
	out, err := os.ReadFile("testdata/envoy/gateway.istio.log")
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, proxy := range []string{"gateway", "productpage", "reviews"} {
		b, err := os.ReadFile("testdata/envoy/" + proxy + ".istio.log")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Read(strings.NewReader(string(b)), ReadOptions{Proxy: proxy, Source: proxy})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, res.Records...)
	}
	_ = out
	flows := Flows(recs)
	good, _ := FindFlow(flows, "meshcheck-live-0001")
	nr, _ := FindFlow(flows, "meshcheck-live-0004")
	tests := []struct {
		check Check
		flow  Flow
		want  []string
	}{
		{ExpectPath(Step{Proxy: "gateway"}, Step{Proxy: "productpage", Direction: Inbound}, Step{Proxy: "productpage", Cluster: "outbound|9080|v3|reviews.*"}, Step{Proxy: "reviews"}), good,
			[]string{"hop 3: expected productpage outbound|9080|v3|reviews.*, got productpage outbound outbound|9080|v2|reviews.default.svc.cluster.local 200", "differs in cluster", "closest candidate: hop 2 productpage inbound"}},
		{ExpectPath(Step{Proxy: "gateway"}, Step{Proxy: "reviews"}), good, []string{"hop 2: expected reviews", "closest candidate: hop 4 reviews inbound", "matches fully (out of order?)"}},
		{ExpectPath(Step{Proxy: "gateway"}, Step{Proxy: "productpage"}, Step{Proxy: "productpage"}, Step{Proxy: "reviews"}, Step{Proxy: "ratings"}), good, []string{"hop 5 missing: expected ratings, the flow ends after 4 hops"}},
		{ExpectPath(Step{Proxy: "gateway"}), good, []string{"3 unexpected extra hops after hop 1"}},
		{ExpectPathStart(Step{Proxy: "gateway"}, Step{Proxy: "reviews"}), good, []string{"path gateway -> reviews -> ...: hop 2: expected reviews"}},
		{ExpectPathStart(Step{Proxy: "gateway"}, Step{Proxy: "productpage"}, Step{Proxy: "productpage"}, Step{Proxy: "reviews"}, Step{Proxy: "ratings"}), good, []string{"hop 5 missing"}},
		{ExpectStatus(200, 200, 200, 503), good, []string{"hop 4: expected status 503, got 200 (details via_upstream, flags -)"}},
		{ExpectClusters("*", "*", "outbound|9080|v1|*", "*"), good, []string{"hop 3: expected cluster outbound|9080|v1|*, got outbound|9080|v2|reviews.default.svc.cluster.local"}},
		{NoResponseFlags(), nr, []string{"hop 1 has flags NR (details route_not_found)"}},
		{All(NoResponseFlags(), ExpectStatus(200)), nr, []string{"2 of 2 checks failed"}},
	}
	// A start passes with the hops after it unchecked.
	if err := ExpectPathStart(Step{Proxy: "gateway"}, Step{Proxy: "productpage", Direction: Inbound}).Check(good); err != nil {
		t.Errorf("the flow's start: %v", err)
	}
	for _, tt := range tests {
		err := tt.check.Check(tt.flow)
		if err == nil {
			t.Errorf("%s passed on\n%v", tt.check, tt.flow)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", tt.check, w, err)
			}
		}
		// Every failure lists the whole flow as evidence.
		if !strings.Contains(err.Error(), "request "+tt.flow.RequestID) {
			t.Errorf("%s: error lacks the flow:\n%v", tt.check, err)
		}
	}
}

func TestCheckStrings(t *testing.T) {
	c := All(ExpectPath(Step{Proxy: "gateway", Direction: Outbound, Cluster: "outbound|9080||productpage.*", Status: 200}, Step{}), NoResponseFlags())
	want := "all of (path gateway outbound outbound|9080||productpage.* 200 -> any hop; no response flags on any hop)"
	if c.String() != want {
		t.Errorf("String() = %q, want %q", c.String(), want)
	}
}

func TestParseCluster(t *testing.T) {
	tests := []struct {
		in   string
		want Cluster
	}{
		{"outbound|9080|v1|reviews.default.svc.cluster.local", Cluster{Outbound, 9080, "v1", "reviews.default.svc.cluster.local"}},
		{"inbound|9080||", Cluster{Inbound, 9080, "", ""}},
		{"inbound|9080|http|reviews.default.svc.cluster.local", Cluster{Inbound, 9080, "", "reviews.default.svc.cluster.local"}},
		{"PassthroughCluster", Cluster{Outbound, 0, "", "PassthroughCluster"}},
		{"InboundPassthroughClusterIpv4", Cluster{Inbound, 0, "", "InboundPassthroughClusterIpv4"}},
		{"my_cluster", Cluster{DirectionUnknown, 0, "", "my_cluster"}},
	}
	for _, tt := range tests {
		if got := ParseCluster(tt.in); got != tt.want {
			t.Errorf("ParseCluster(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
