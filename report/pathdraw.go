package report

import (
	"fmt"
	"strings"
)

// drawing is one path drawn: a box per hop, indented under the hop that
// caused it, with the logged cluster, status and latency in the box and
// the xDS trace's answer beside it.
type drawing struct {
	ID     string
	Path   Path
	Height int
	Boxes  []box
}

// box is one hop in SVG coordinates.
type box struct {
	N                 int
	Hop               Hop
	X, Y, W           float64
	Line1Y, Line2Y    float64
	Right             float64
	Link              string // the connector from the parent's box, an SVG path; empty for none
	Title, Label, XDS string
	// Class is hop-disagree where logs and xDS disagree, hop-error for a
	// status of 400 and above or response flags, else hop.
	Class string
}

// Path drawing geometry.
const (
	hopRow     = 56.0
	hopHeight  = 44.0
	hopIndent  = 28.0
	hopLeft    = 10.0
	hopRight   = 640.0
	xdsColumnX = 656.0
)

func newDrawing(id string, p Path) drawing {
	d := drawing{ID: id, Path: p, Height: int(float64(len(p.Hops))*hopRow) + 8}
	depth := make([]int, len(p.Hops))
	for i, h := range p.Hops {
		if h.Parent > 0 && h.Parent <= i {
			depth[i] = depth[h.Parent-1] + 1
		}
		y := 4 + float64(i)*hopRow
		x := hopLeft + float64(depth[i])*hopIndent
		b := box{N: i + 1, Hop: h, X: x, Y: y, W: hopRight - x, Line1Y: y + 18, Line2Y: y + 36, Right: xdsColumnX,
			Title: fmt.Sprintf("%d. %s · %s", i+1, h.Proxy, h.Direction), Label: hopLabel(h), XDS: xdsWords(h), Class: hopClass(h)}
		if h.Parent > 0 && h.Parent <= i {
			px := d.Boxes[h.Parent-1].X + 12
			py := d.Boxes[h.Parent-1].Y + hopHeight
			b.Link = fmt.Sprintf("M%.0f %.0f V%.0f H%.0f", px, py, y+hopHeight/2, x)
		}
		d.Boxes = append(d.Boxes, b)
	}
	return d
}

// hopLabel is the box's second line: cluster, status and latency.
func hopLabel(h Hop) string {
	parts := []string{orDash(h.Cluster), "status " + orDash(statusText(h.Status)), fmt.Sprintf("%.0f ms", h.LatencyMS)}
	if h.Flags != "" {
		parts = append(parts, "flags "+h.Flags)
	}
	return strings.Join(parts, " · ")
}

// xdsWords is the xDS trace's answer for a hop in words, the clusters'
// hosts without the cluster domain (the table beside the drawing gives
// them whole).
func xdsWords(h Hop) string {
	if h.XDS == nil {
		return "xDS: not traced"
	}
	short := make([]string, len(h.XDS.Clusters))
	for i, c := range h.XDS.Clusters {
		short[i] = strings.TrimSuffix(c, ".svc.cluster.local")
	}
	if h.XDS.Agrees {
		return "xDS agrees: " + strings.Join(short, ", ")
	}
	return "DISAGREES: xDS chose " + orDash(strings.Join(short, ", "))
}

// XDSText is the xDS trace's answer for the table: the clusters whole.
func (b box) XDSText() string {
	h := b.Hop
	switch {
	case h.XDS == nil:
		return "not traced"
	case h.XDS.Agrees:
		return "agrees: " + strings.Join(h.XDS.Clusters, ", ")
	}
	return "DISAGREES: chose " + orDash(strings.Join(h.XDS.Clusters, ", "))
}

func hopClass(h Hop) string {
	switch {
	case h.XDS != nil && !h.XDS.Agrees:
		return "hop hop-disagree"
	case h.Status >= 400 || h.Flags != "":
		return "hop hop-error"
	}
	return "hop"
}

func statusText(s int) string {
	if s == 0 {
		return ""
	}
	return fmt.Sprint(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
