package main

func xdsGroup() group {
	return group{name: "xds", summary: "read Envoy config dumps: trace a request, lint, check expectations, diff"}
}
