package bookinfo

import (
	"net/http"
	"strconv"
	"strings"
)

// NewDetails returns the details app: /details/<id> answers the book's
// details for any integer id (written as Ruby's Integer() reads it:
// decimal, 0x, 0o, 0b, a leading 0 for octal) and 400 with
// {"error": "please provide numeric product id"} otherwise; /health answers
// {"status": "Details is healthy"}. Both answer any method, as upstream.
func NewDetails() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "Details is healthy"})
	})
	serve := func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimRight(r.URL.Path, "/"), "/")
		id, err := strconv.ParseInt(strings.TrimSpace(parts[len(parts)-1]), 0, 0)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorDoc{"please provide numeric product id"})
			return
		}
		writeJSON(w, http.StatusOK, bookDetails(int(id)))
	}
	mux.HandleFunc("/details", serve)
	mux.HandleFunc("/details/", serve)
	return mux
}
