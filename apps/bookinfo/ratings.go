package bookinfo

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// NewRatings returns the ratings app (upstream's in-memory version):
// GET /ratings/<id> answers {"id": <id>, "ratings": {"Reviewer1": 5,
// "Reviewer2": 4}}, or what was last posted for that id; POST /ratings/<id>
// with a JSON body stores it as that id's ratings and answers the new
// document. The id is read like JavaScript's parseInt (leading digits); no
// digits gives 400 {"error": "please provide numeric product ID"}. /health
// answers {"status": "Ratings is healthy"}.
func NewRatings() http.Handler {
	rt := &ratingsApp{posted: map[int]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "Ratings is healthy"})
	})
	mux.HandleFunc("GET /ratings/{rest...}", rt.get)
	mux.HandleFunc("POST /ratings/{rest...}", rt.post)
	mux.HandleFunc("/ratings", http.NotFound) // not a redirect to /ratings/
	return mux
}

// ratingsApp holds the ratings posted to one ratings app.
type ratingsApp struct {
	mu     sync.Mutex
	posted map[int]json.RawMessage
}

func (rt *ratingsApp) get(w http.ResponseWriter, r *http.Request) {
	id, ok := parseLeadingInt(lastSegment(r.URL.Path))
	if !ok {
		writeJSON(w, http.StatusBadRequest, errorDoc{"please provide numeric product ID"})
		return
	}
	writeJSON(w, http.StatusOK, rt.doc(id))
}

func (rt *ratingsApp) post(w http.ResponseWriter, r *http.Request) {
	id, ok := parseLeadingInt(lastSegment(r.URL.Path))
	if !ok {
		writeJSON(w, http.StatusBadRequest, errorDoc{"please provide numeric product ID"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var compact bytes.Buffer
	if err != nil || json.Compact(&compact, body) != nil {
		writeJSON(w, http.StatusBadRequest, errorDoc{"please provide valid ratings JSON"})
		return
	}
	rt.mu.Lock()
	rt.posted[id] = compact.Bytes()
	rt.mu.Unlock()
	writeJSON(w, http.StatusOK, rt.doc(id))
}

// doc is the ratings document of id.
func (rt *ratingsApp) doc(id int) any {
	rt.mu.Lock()
	p, ok := rt.posted[id]
	rt.mu.Unlock()
	if ok {
		return struct {
			ID      int             `json:"id"`
			Ratings json.RawMessage `json:"ratings"`
		}{id, p}
	}
	return Ratings{ID: id, Ratings: defaultRatings()}
}

// lastSegment is the part of a path after its last slash.
func lastSegment(p string) string {
	return p[strings.LastIndex(p, "/")+1:]
}

// parseLeadingInt reads an optional sign and the leading digits of s, after
// leading spaces, as JavaScript's parseInt does; ok is false without
// digits or when the number does not fit an int.
func parseLeadingInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0, false
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0, false
	}
	return n, true
}
