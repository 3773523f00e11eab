// Package iptables reads a pod's interception rules and predicts what the
// Linux kernel does with the first packet of a connection.
//
// Four inputs are understood and converted to one model (Ruleset):
//
//   - iptables-save and ip6tables-save output, from the legacy and the nft
//     backends, and the iptables-restore input Istio writes (-N, -A, -I);
//   - `iptables [-t TABLE] -nL` and `-vnL` listings;
//   - `nft list ruleset` text;
//   - `nft -j list ruleset` JSON.
//
// Matches and targets the package does not model are kept verbatim
// (Ruleset.Unsupported lists them with their line); they are never dropped.
// Simulate walks the hook's base chains in priority order (raw, mangle, nat,
// filter for iptables; the chains' own priorities for nftables) and returns a
// Result: the verdict, the port or address the packet is sent to, and the
// trail of rules that matched. A locally sent packet routed over lo is
// followed back in through prerouting, and one without a source gets the
// source the kernel would choose; both are noted in the trail. A rule whose
// known matches all match but that
// also carries an unknown match makes the result Unsupported, naming the
// match: the simulator never guesses. Checked is an expectation about a
// probe with its simulated fate and trail, as a report shows it.
package iptables
