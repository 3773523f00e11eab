package tests

import (
	"context"

	"github.com/meshcheck/meshcheck/suite"
)

func whoami9010Split() suite.Test {
	return suite.Test{
		ShortName:   "whoami-90-10-split",
		Description: "splits traffic through the ingress 90/10 (sequential test, false-fail 1e-6, power 0.999)",
		Fixtures:    []suite.Fixture{{Name: "whoami", Step: "90-10"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			sampleWhoami(ctx, s, "v1=90,v2=10")
		},
	}
}
