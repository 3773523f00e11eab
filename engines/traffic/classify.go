package traffic

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Classifier names the version that served a response.
type Classifier interface {
	Classify(Response) (string, error)
	String() string
}

// versionPart returns the first dash-separated part of a pod name that is
// a version (v1, v2, ...): "whoami-v2-5d4956f4c7-cnb9j" gives "v2".
func versionPart(pod string) string {
	for _, p := range strings.Split(pod, "-") {
		if len(p) > 1 && p[0] == 'v' && strings.Trim(p[1:], "0123456789") == "" {
			return p
		}
	}
	return ""
}

// Whoami reads traefik/whoami's text body: the version is the vN part of
// the "Hostname: whoami-v2-..." line.
type Whoami struct{}

func (Whoami) String() string { return "whoami Hostname line" }

var whoamiHost = regexp.MustCompile(`(?m)^Hostname: (\S+)`)

// Classify implements Classifier.
func (Whoami) Classify(r Response) (string, error) {
	m := whoamiHost.FindSubmatch(r.Body)
	if m == nil {
		return "", fmt.Errorf("no \"Hostname:\" line in the body %q", excerpt(r.Body))
	}
	v := versionPart(string(m[1]))
	if v == "" {
		return "", fmt.Errorf("hostname %q has no version part (like whoami-v2-...)", m[1])
	}
	return v, nil
}

// VMOrDocker reads traefik/whoami's Hostname line on the vm fixture: "vm"
// for the VM (hostname vm...), "docker" for a hello-docker pod.
type VMOrDocker struct{}

func (VMOrDocker) String() string { return "whoami Hostname line: vm or hello-docker" }

// Classify implements Classifier.
func (VMOrDocker) Classify(r Response) (string, error) {
	m := whoamiHost.FindSubmatch(r.Body)
	if m == nil {
		return "", fmt.Errorf("no \"Hostname:\" line in the body %q", excerpt(r.Body))
	}
	switch h := string(m[1]); {
	case strings.HasPrefix(h, "vm"):
		return "vm", nil
	case strings.HasPrefix(h, "hello-docker"):
		return "docker", nil
	default:
		return "", fmt.Errorf("hostname %q is neither the VM (vm...) nor a hello-docker pod", h)
	}
}

// BookinfoPage reads the reviews version from productpage's HTML: no stars
// is v1, black stars v2, red stars v3, in the Tailwind markup of the 1.20.x
// images (a div with class text-black-500 or text-red-500 around svg stars)
// and in the older glyphicon markup (<font color="black|red"> around
// glyphicon-star spans). "Reviews served by: <pod>" must agree when the
// pod name carries a version; without stars (ratings unavailable) the pod
// name decides.
type BookinfoPage struct{}

func (BookinfoPage) String() string { return "Bookinfo productpage reviews stars" }

var (
	tailwindStars  = regexp.MustCompile(`text-(black|red)-500"\s*>\s*<svg`)
	glyphiconStars = regexp.MustCompile(`<font color="(black|red)">\s*<span class="glyphicon glyphicon-star`)
	servedBy       = regexp.MustCompile(`Reviews served by:\s*(?:<[^>]*>\s*)*([A-Za-z0-9.-]+)`)
)

var colorVersion = map[string]string{"black": "v2", "red": "v3"}

// Classify implements Classifier.
func (BookinfoPage) Classify(r Response) (string, error) {
	body := string(r.Body)
	if strings.Contains(body, "Error fetching product reviews") {
		return "", fmt.Errorf("productpage could not fetch reviews (status %d)", r.Status)
	}
	colors := map[string]bool{}
	for _, re := range []*regexp.Regexp{tailwindStars, glyphiconStars} {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			colors[m[1]] = true
		}
	}
	pod := ""
	if m := servedBy.FindStringSubmatch(body); m != nil {
		pod = m[1]
	}
	if len(colors) > 1 {
		return "", fmt.Errorf("stars of both colors on one page (pod %q)", pod)
	}
	v := ""
	for c := range colors {
		v = colorVersion[c]
	}
	return reconcile(v, pod, pod != "")
}

// reconcile combines the version from the stars (v, "" for none) with the
// pod name; hasReviews says the reviews section is there at all.
func reconcile(v, pod string, hasReviews bool) (string, error) {
	pv := versionPart(pod)
	switch {
	case v != "" && pv != "" && v != pv:
		return "", fmt.Errorf("stars say %s but reviews were served by %s", v, pod)
	case v != "":
		return v, nil
	case pv != "":
		return pv, nil
	case hasReviews:
		return "v1", nil
	}
	return "", fmt.Errorf("no reviews section (no \"Reviews served by:\" and no stars)")
}

// BookinfoReviewsJSON reads /api/v1/products/<id>/reviews: reviews without
// a rating are v1, black ratings v2, red v3; podname must agree.
type BookinfoReviewsJSON struct{}

func (BookinfoReviewsJSON) String() string { return "Bookinfo reviews JSON ratings" }

// Classify implements Classifier.
func (BookinfoReviewsJSON) Classify(r Response) (string, error) {
	var doc struct {
		Podname string `json:"podname"`
		Error   string `json:"error"`
		Reviews []struct {
			Rating *struct {
				Stars int    `json:"stars"`
				Color string `json:"color"`
				Error string `json:"error"`
			} `json:"rating"`
		} `json:"reviews"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		return "", fmt.Errorf("reviews JSON: %w (body %q)", err, excerpt(r.Body))
	}
	if doc.Error != "" {
		return "", fmt.Errorf("reviews error: %s", doc.Error)
	}
	if len(doc.Reviews) == 0 {
		return "", fmt.Errorf("no reviews in %q", excerpt(r.Body))
	}
	v := ""
	for _, rv := range doc.Reviews {
		if rv.Rating == nil || rv.Rating.Color == "" {
			continue
		}
		cv, ok := colorVersion[rv.Rating.Color]
		if !ok {
			return "", fmt.Errorf("unknown rating color %q", rv.Rating.Color)
		}
		if v != "" && v != cv {
			return "", fmt.Errorf("ratings of both colors (pod %q)", doc.Podname)
		}
		v = cv
	}
	return reconcile(v, doc.Podname, true)
}

// ClassifierFunc adapts a function; Name is its String.
type ClassifierFunc struct {
	Name string
	Func func(Response) (string, error)
}

func (c ClassifierFunc) String() string { return c.Name }

// Classify implements Classifier.
func (c ClassifierFunc) Classify(r Response) (string, error) { return c.Func(r) }
