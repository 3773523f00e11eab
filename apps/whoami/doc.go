// Package whoami implements traefik/whoami as an http.Handler that answers
// like the upstream image on the wire: any path prints, as plain text,
// "Name: <name>" (when set), "Hostname: <host>", one "IP: <addr>" line per
// interface address, "RemoteAddr: <ip:port>", then the request as it
// arrived (request line, Host, headers, body). meshcheck's classifier
// traffic.Whoami reads the version from the Hostname line
// (whoami-v2-... is v2), so the hostname is the identity: a pod's name, or
// a VM's name for a VM running whoami.
//
// /api answers the same facts as JSON, /health answers the status last
// posted to it (200 at first), /bench answers "1". See docs/apps.md for
// the differences from upstream.
package whoami
