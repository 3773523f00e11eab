package apiserver_test

import (
	"testing"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/apiserver"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Every fixture and step, expanded, gives each Service ready endpoints on
// every port and each Deployment its pods; only pods that opt out lack a
// sidecar.
func TestFixturesExpand(t *testing.T) {
	list, err := fixtures.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		for _, step := range append([]string{""}, f.StepNames()...) {
			t.Run(f.Name+"/"+step, func(t *testing.T) {
				set, err := fixtures.Load(f.Name, fixtures.Options{Step: step, Vars: vars(f.Name)})
				if err != nil {
					t.Fatal(err)
				}
				c, err := apiserver.New(apiserver.Options{})
				if err != nil {
					t.Fatal(err)
				}
				st, err := c.Apply(set.Objects)
				if err != nil {
					t.Fatal(err)
				}
				for _, svc := range set.Services {
					slices := st.EndpointSlicesOf(set.Namespace, svc.Name)
					ready := 0
					for _, s := range slices {
						if len(s.Ports) != len(svc.Spec.Ports) {
							t.Errorf("service %s: slice %s has %d ports, the service %d", svc.Name, s.Name, len(s.Ports), len(svc.Spec.Ports))
						}
						for _, e := range s.Endpoints {
							if *e.Conditions.Ready {
								ready++
							}
						}
					}
					if ready == 0 {
						t.Errorf("service %s has no ready endpoint", svc.Name)
					}
					if st.Service(set.Namespace, svc.Name).Spec.ClusterIP == "" {
						t.Errorf("service %s has no ClusterIP", svc.Name)
					}
				}
				for _, d := range set.Deployments {
					pods := st.PodsOf(set.Namespace, d.Name)
					if len(pods) != 1 {
						t.Errorf("deployment %s: %d pods, want 1", d.Name, len(pods))
					}
					for _, p := range pods {
						wantMeshed := d.Spec.Template.Labels[apiserver.InjectLabel] != "false"
						if apiserver.IsMeshed(p) != wantMeshed {
							t.Errorf("pod %s: meshed %v, want %v", p.Name, apiserver.IsMeshed(p), wantMeshed)
						}
					}
				}
			})
		}
	}
}

func vars(fixture string) map[string]string {
	if fixture == "vm" {
		return map[string]string{"vmAddress": "10.10.0.2"}
	}
	return nil
}
