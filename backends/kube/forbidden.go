package kube

import (
	"errors"
	"fmt"
	"regexp"
)

// forbiddenRE reads what the API server refused from its Forbidden
// message: the verb, the resource (or resource/subresource), the group
// and the namespace.
var forbiddenRE = regexp.MustCompile(`cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?`)

// RBACFile is where the permissions a run needs are shipped.
const RBACFile = "deploy/rbac/meshcheck.yaml"

// ForbiddenError is a request the cluster refused for lack of a
// permission: Needs says which ("create deployments.apps in namespace x").
type ForbiddenError struct {
	Needs string
	Err   error
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: needs %s (%s grants what a run needs): %v", e.Needs, RBACFile, e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// needs turns an API server's "forbidden" answer (a typed Forbidden
// error, or the text an exec or port-forward upgrade carries) into a
// *ForbiddenError naming the verb and resource; any other error is
// returned as it is.
func needs(err error) error {
	var fe *ForbiddenError
	if err == nil || errors.As(err, &fe) {
		return err
	}
	m := forbiddenRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	res := m[2]
	if m[3] != "" {
		res += "." + m[3]
	}
	if m[4] != "" {
		res += " in namespace " + m[4]
	}
	return &ForbiddenError{Needs: m[1] + " " + res, Err: err}
}

// isForbidden tells whether err is a refused permission: waiting will not
// mend it.
func isForbidden(err error) bool {
	var fe *ForbiddenError
	return errors.As(needs(err), &fe)
}
