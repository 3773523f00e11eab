package xds

import (
	"sort"
	"strings"
)

// Closest returns up to n candidates nearest to name, best first: those that
// contain it or that it contains, then by edit distance. It serves the
// "not found; have ..." part of every miss.
func Closest(name string, candidates []string, n int) []string {
	if n <= 0 || len(candidates) == 0 {
		return nil
	}
	type scored struct {
		s    string
		cost int
	}
	lname := strings.ToLower(name)
	out := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		if c == name {
			continue
		}
		lc := strings.ToLower(c)
		cost := levenshtein(lname, lc)
		if lname != "" && (strings.Contains(lc, lname) || strings.Contains(lname, lc)) {
			cost = cost / 4
		}
		out = append(out, scored{c, cost})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].cost != out[j].cost {
			return out[i].cost < out[j].cost
		}
		return out[i].s < out[j].s
	})
	if len(out) > n {
		out = out[:n]
	}
	res := make([]string, len(out))
	for i, s := range out {
		res[i] = s.s
	}
	return res
}

func levenshtein(a, b string) int {
	if a == b {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// HaveList formats candidates for a message: "have a, b, c" or "have none".
func HaveList(candidates []string) string {
	if len(candidates) == 0 {
		return "have none"
	}
	return "have " + strings.Join(candidates, ", ")
}
