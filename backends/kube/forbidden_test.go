package kube

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNeeds(t *testing.T) {
	typed := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "whoami-v1",
		errors.New(`User "system:serviceaccount:meshcheck-system:meshcheck" cannot patch resource "deployments" in API group "apps" in the namespace "whoami-4f2a9c1e"`))
	tests := []struct {
		name string
		err  error
		want string // ForbiddenError.Needs; "" for none
	}{
		{"a typed Forbidden", typed, "patch deployments.apps in namespace whoami-4f2a9c1e"},
		{"wrapped", fmt.Errorf("applying: %w", typed), "patch deployments.apps in namespace whoami-4f2a9c1e"},
		{"an exec upgrade", errors.New(`unable to upgrade connection: pods "productpage-v1-x" is forbidden: User "u" cannot create resource "pods/exec" in API group "" in the namespace "default-4f2a9c1e"`),
			"create pods/exec in namespace default-4f2a9c1e"},
		{"cluster-scoped", errors.New(`namespaces is forbidden: User "u" cannot list resource "namespaces" in API group "" at the cluster scope`), "list namespaces"},
		{"not a permission", errors.New("connection refused"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe *ForbiddenError
			got := needs(tt.err)
			if !errors.As(got, &fe) {
				if tt.want != "" {
					t.Fatalf("%v: not a ForbiddenError", got)
				}
				return
			}
			if fe.Needs != tt.want {
				t.Errorf("needs %q, want %q", fe.Needs, tt.want)
			}
			if want := "forbidden: needs " + tt.want + " (deploy/rbac/meshcheck.yaml grants what a run needs): "; !strings.HasPrefix(got.Error(), want) {
				t.Errorf("message %q, want it to start %q", got, want)
			}
			if needs(got) != got {
				t.Error("needs of a ForbiddenError must be itself")
			}
		})
	}
}
