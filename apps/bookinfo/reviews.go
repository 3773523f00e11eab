package bookinfo

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// ReviewsOptions configures one reviews app.
type ReviewsOptions struct {
	// PodName is printed as "podname" (upstream prints $HOSTNAME, the pod's
	// name); required.
	PodName string
	// ClusterName is printed as "clustername"; empty prints "null", as
	// upstream does without $CLUSTER_NAME.
	ClusterName string
	// Version is v1 (no ratings), v2 (black stars) or v3 (red stars).
	Version string
	// RatingsURL is the ratings service (default http://ratings:9080); v2
	// and v3 call RatingsURL/ratings/<id>.
	RatingsURL string
	// Timeouts bounds the call to ratings: AppRatingsBlack for v2,
	// AppRatingsRed for v3 (zero fields take the defaults).
	Timeouts timeouts.Timeouts
	// Log receives one line per failed call to ratings; nil discards.
	Log *log.Logger
}

// NewReviews returns the reviews app: GET /reviews/<id> for an integer id
// (404 otherwise) answers the Reviews document; v2 and v3 first ask ratings
// and show its stars in their color, or "Ratings service is currently
// unavailable" for a reviewer ratings did not rate (every reviewer when
// ratings fails). GET /health answers {"status": "Reviews is healthy"}.
func NewReviews(o ReviewsOptions) (http.Handler, error) {
	if o.PodName == "" {
		return nil, errors.New("reviews: PodName is required (it is printed as podname)")
	}
	color, err := versionColor(o.Version)
	if err != nil {
		return nil, err
	}
	ratings, err := serviceURL("ratings", o.RatingsURL, "http://ratings:9080")
	if err != nil {
		return nil, err
	}
	t := o.Timeouts.WithDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	timeout := t.AppRatingsBlack
	if color == "red" {
		timeout = t.AppRatingsRed
	}
	cluster := o.ClusterName
	if cluster == "" {
		cluster = "null"
	}
	app := &reviewsApp{pod: o.PodName, cluster: cluster, color: color, ratings: ratings, timeout: timeout, call: newCaller(o.Log)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "Reviews is healthy"})
	})
	mux.HandleFunc("GET /reviews/{id}", app.serve)
	return mux, nil
}

type reviewsApp struct {
	pod, cluster string
	color        string // "" for v1: ratings disabled
	ratings      string
	timeout      time.Duration
	call         caller
}

func (a *reviewsApp) serve(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	doc := Reviews{ID: strconv.FormatInt(id, 10), Podname: a.pod, Clustername: a.cluster, Reviews: reviewTexts()}
	if a.color != "" {
		stars := a.stars(r, doc.ID)
		for i := range doc.Reviews {
			if n, ok := stars[doc.Reviews[i].Reviewer]; ok {
				doc.Reviews[i].Rating = &Rating{Stars: n, Color: a.color}
			} else {
				doc.Reviews[i].Rating = &Rating{Error: msgRatingsDown}
			}
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

// stars asks ratings for the stars per reviewer; nil when ratings fails.
// A reviewer whose rating is not an integer counts as unrated.
func (a *reviewsApp) stars(r *http.Request, id string) map[string]int {
	ans := a.call.get(r.Context(), a.ratings+"/ratings/"+id, forwardHeaders(r.Header, true), a.timeout)
	if ans.Err != nil {
		return nil
	}
	var doc struct {
		Ratings map[string]json.RawMessage `json:"ratings"`
	}
	if err := json.Unmarshal(ans.Body, &doc); err != nil {
		a.call.log.Printf("error: ratings answered %q: %v", excerpt(ans.Body), err)
		return nil
	}
	out := map[string]int{}
	for k, v := range doc.Ratings {
		var n int
		if json.Unmarshal(v, &n) == nil {
			out[k] = n
		}
	}
	return out
}
