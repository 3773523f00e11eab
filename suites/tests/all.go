package tests

import "github.com/meshcheck/meshcheck/suite"

// All is every test, in the order they run. A new test is one file
// declaring a function that returns its suite.Test, added here.
func All() []suite.Test {
	var all []suite.Test
	all = append(all,
		bookinfoProductpage(),
		bookinfoCrossNode(),
		bookinfoPathThreeWays(),
		bookinfoXDSRoutes(),
		interceptionRules(),
		whoamiStep("90-10", "holds fixtures/whoami/expect.yaml at step 90-10: the gateway routes 90/10, and traffic through the ingress splits so (sequential test)", "xds"),
		whoamiStep("50-50", "follows a VirtualService step to 50/50 and holds fixtures/whoami/expect.yaml there, in config and in traffic"),
		whoamiHeaderCanary(),
		fixtureStep("bookinfo", "reviews-90-10", "holds fixtures/bookinfo/expect.yaml at step reviews-90-10: productpage's sidecar routes reviews 90/10 "+
			"(a VirtualService, or through the Gateway API a GAMMA HTTPRoute whose parent is the reviews Service), the pages split so, the ingress routes /productpage"),
	)
	all = append(all, vmMigrationSteps()...)
	all = append(all,
		vmShortHost(),
		xdsSynced(),
	)
	all = append(all, xdsExpect()...)
	all = append(all, xdsGolden()...)
	return all
}
