package suite

import "github.com/meshcheck/meshcheck/fixtures"

// Catalog is where the suite reads fixtures from (Options.Catalog).
func (s *Suite) Catalog() *fixtures.Catalog { return s.catalog }

// BaseFixtures are the fixtures Up applied, at the steps it applied.
func (s *Suite) BaseFixtures() []Fixture { return append([]Fixture(nil), s.base...) }
