// Package kernel runs probes through the Linux kernel's netfilter so the
// simulator can be compared with it: a Lab is a pair of throwaway network
// namespaces (a pod and a peer) joined by a veth pair, with listeners on
// every port that record where each connection or datagram landed and its
// original destination, and probes sent by a child process that drops to
// the probe's UID and GID.
//
// TCP listeners read the original destination with SO_ORIGINAL_DST. For UDP
// the kernel offers no such option after REDIRECT (IP_RECVORIGDSTADDR reports
// the rewritten address), so the listener echoes the datagram and the client
// reads the echo's source address: conntrack's reverse translation restores
// the original destination there.
//
// Everything needs root; callers skip otherwise.
package kernel
