package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/suite"
)

// productpage is the request for Bookinfo's page through the ingress.
func productpage(s *suite.Suite) traffic.Request {
	return traffic.Request{Host: s.Host("bookinfo.example.com"), Path: "/productpage"}
}

func bookinfoProductpage() suite.Test {
	return suite.Test{
		ShortName:   "bookinfo-productpage",
		Description: "serves /productpage through the ingress with reviews",
		Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			ingress, err := s.Backend.Ingress(ctx)
			Expect(err).NotTo(HaveOccurred())
			res, err := traffic.Converge(ctx, ingress, traffic.ConvergeOptions{Request: productpage(s), Classifier: traffic.BookinfoPage{}, Timeouts: s.Timeouts})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Version).To(BeElementOf("v1", "v2", "v3"), "reviews version on the page: %s", res)
		},
	}
}
