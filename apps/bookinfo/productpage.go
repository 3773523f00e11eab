package bookinfo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// ProductpageOptions configures one productpage app.
type ProductpageOptions struct {
	// DetailsURL, ReviewsURL and RatingsURL are the services productpage
	// calls (defaults http://details:9080, http://reviews:9080,
	// http://ratings:9080).
	DetailsURL, ReviewsURL, RatingsURL string
	// Timeouts bounds each call with AppCall (zero fields take the
	// defaults).
	Timeouts timeouts.Timeouts
	// Log receives one line per failed call; nil discards.
	Log *log.Logger
}

// reviewsAttempts is how often productpage asks reviews before it gives up:
// upstream asks twice, on purpose (Istio's fault-injection task relies on
// the total wait of two attempts).
const reviewsAttempts = 2

// sessionCookie holds the signed-in user.
const sessionCookie = "session"

// NewProductpage returns the productpage app:
//
//   - GET /productpage: the HTML page for product 0 with its details and
//     reviews; 200 even when details or reviews fail, with "Error fetching
//     product details" or "Error fetching product reviews" in their place.
//   - GET /api/v1/products: the product list.
//   - GET /api/v1/products/<id>, /api/v1/products/<id>/reviews,
//     /api/v1/products/<id>/ratings: the document of details, reviews or
//     ratings as it came, or their status (500 when none came) with
//     {"error": "Sorry, product ... are currently unavailable for this
//     book."}.
//   - GET /health: "Product page is healthy".
//   - GET / and /index.html: a page linking to /productpage.
//   - POST /login (form field username) and GET /logout: the signed-in user
//     is sent to details and reviews as the end-user header.
//   - GET /static/tailwind/tailwind.css and /static/img/izzy.png.
//
// Calls carry the request's PropagatedHeaders; reviews is asked twice
// before productpage gives up, as upstream does.
func NewProductpage(o ProductpageOptions) (http.Handler, error) {
	a := &productpageApp{call: newCaller(o.Log), page: newPageTemplate(), index: newIndexTemplate()}
	var err error
	if a.details, err = serviceURL("details", o.DetailsURL, "http://details:9080"); err != nil {
		return nil, err
	}
	if a.reviews, err = serviceURL("reviews", o.ReviewsURL, "http://reviews:9080"); err != nil {
		return nil, err
	}
	if a.ratings, err = serviceURL("ratings", o.RatingsURL, "http://ratings:9080"); err != nil {
		return nil, err
	}
	t := o.Timeouts.WithDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	a.timeout = t.AppCall

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.serveIndex)
	mux.HandleFunc("GET /index.html", a.serveIndex)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("Product page is healthy"))
	})
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /logout", a.logout)
	mux.HandleFunc("GET /productpage", a.servePage)
	mux.HandleFunc("GET /api/v1/products", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, products())
	})
	mux.HandleFunc("GET /api/v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		api(w, a.getDetails(r, r.PathValue("id")), msgDetailsUnavailable)
	})
	mux.HandleFunc("GET /api/v1/products/{id}/reviews", func(w http.ResponseWriter, r *http.Request) {
		api(w, a.getReviews(r, r.PathValue("id")), msgReviewsUnavailable)
	})
	mux.HandleFunc("GET /api/v1/products/{id}/ratings", func(w http.ResponseWriter, r *http.Request) {
		api(w, a.get(r, a.ratings+"/ratings/"+url.PathEscape(r.PathValue("id"))), msgRatingsUnavailable)
	})
	addStatic(mux)
	return mux, nil
}

type productpageApp struct {
	details, reviews, ratings string
	timeout                   time.Duration
	call                      caller
	page, index               *template.Template
}

// headers are the headers productpage sends to its dependencies: the
// propagated ones of r, with end-user taken from the session.
func (a *productpageApp) headers(r *http.Request) http.Header {
	h := forwardHeaders(r.Header, false)
	if u := sessionUser(r); u != "" && validHeaderValue(u) {
		h.Set(endUserHeader, u)
	}
	return h
}

func (a *productpageApp) get(r *http.Request, u string) answer {
	return a.call.get(r.Context(), u, a.headers(r), a.timeout)
}

func (a *productpageApp) getDetails(r *http.Request, id string) answer {
	return a.get(r, a.details+"/details/"+url.PathEscape(id))
}

// getReviews asks reviews up to reviewsAttempts times and returns the
// first success or the last failure.
func (a *productpageApp) getReviews(r *http.Request, id string) answer {
	var ans answer
	for i := 0; i < reviewsAttempts; i++ {
		if ans = a.get(r, a.reviews+"/reviews/"+url.PathEscape(id)); ans.Err == nil {
			break
		}
		if r.Context().Err() != nil {
			break
		}
	}
	return ans
}

// api answers a dependency's document as it came, or its failure status
// (500 when no status came) with msg.
func api(w http.ResponseWriter, ans answer, msg string) {
	if ans.Err == nil {
		writeRawJSON(w, http.StatusOK, ans.Body)
		return
	}
	status := ans.Status
	if status == 0 || status == http.StatusOK {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, errorDoc{msg})
}

func (a *productpageApp) servePage(w http.ResponseWriter, r *http.Request) {
	const productID = "0"
	p := products()[0]
	d := pageData{User: sessionUser(r), Product: p, Description: template.HTML(p.DescriptionHTML)}

	if ans := a.getDetails(r, productID); ans.Err == nil && decodeInto(a.call, ans, &d.Details) {
		d.DetailsOK = true
	} else {
		d.DetailsError = msgDetailsUnavailable
	}
	if ans := a.getReviews(r, productID); ans.Err == nil && decodeInto(a.call, ans, &d.Reviews) {
		d.ReviewsOK = true
		d.ShowCluster = d.Reviews.Clustername != "" && d.Reviews.Clustername != "null"
	} else {
		d.ReviewsError = msgReviewsUnavailable
	}

	var b bytes.Buffer
	if err := a.page.Execute(&b, d); err != nil {
		a.call.log.Printf("error: rendering the product page: %v", err)
		http.Error(w, "rendering the product page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// decodeInto reads a dependency's JSON into v, logging a document of the
// wrong shape.
func decodeInto(c caller, ans answer, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(ans.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		c.log.Printf("error: unexpected document %q: %v", excerpt(ans.Body), err)
		return false
	}
	return true
}

func (a *productpageApp) serveIndex(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	if err := a.index.Execute(&b, map[string]string{"Details": a.details, "Reviews": a.reviews, "Ratings": a.ratings}); err != nil {
		http.Error(w, "rendering the index: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// login signs the form's username in and returns to the page the form was
// on (the product page when the request names none).
func (a *productpageApp) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "reading the login form: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    base64.RawURLEncoding.EncodeToString([]byte(r.PostFormValue("username"))),
		Path:     "/",
		HttpOnly: true,
	})
	http.Redirect(w, r, back(r), http.StatusFound)
}

func (a *productpageApp) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, back(r), http.StatusFound)
}

func back(r *http.Request) string {
	if ref := r.Referer(); ref != "" {
		return ref
	}
	return "/productpage"
}

// sessionUser is the signed-in user, "" for none or a cookie that is not
// productpage's.
func sessionUser(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	u, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(u)
}

// validHeaderValue reports whether v can be sent as a header value (no
// control characters but tab).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
