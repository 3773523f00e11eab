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
		whoami9010XDS(),
		whoami9010Split(),
		whoami5050(),
		whoamiHeaderCanary(),
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
