package bookinfo

import (
	"encoding/json"
	"fmt"
)

// Product is one entry of productpage's /api/v1/products.
type Product struct {
	ID              int    `json:"id"`
	Title           string `json:"title"`
	DescriptionHTML string `json:"descriptionHtml"`
}

// Details is details' /details/<id> document; the keys and their order are
// upstream's.
type Details struct {
	ID        int    `json:"id"`
	Author    string `json:"author"`
	Year      int    `json:"year"`
	Type      string `json:"type"`
	Pages     int    `json:"pages"`
	Publisher string `json:"publisher"`
	Language  string `json:"language"`
	ISBN10    string `json:"ISBN-10"`
	ISBN13    string `json:"ISBN-13"`
}

// Reviews is reviews' /reviews/<id> document, also served by productpage at
// /api/v1/products/<id>/reviews. ID is a string, as upstream prints it.
type Reviews struct {
	ID          string   `json:"id"`
	Podname     string   `json:"podname"`
	Clustername string   `json:"clustername"`
	Reviews     []Review `json:"reviews"`
}

// Review is one review. Rating is absent in v1.
type Review struct {
	Reviewer string  `json:"reviewer"`
	Text     string  `json:"text"`
	Rating   *Rating `json:"rating,omitempty"`
}

// Rating is either stars with their color or, when ratings could not be
// reached, an error.
type Rating struct {
	Stars int    `json:"stars"`
	Color string `json:"color"`
	Error string `json:"error"`
}

// MarshalJSON prints {"error": ...} for an error and {"stars": n,
// "color": c} otherwise, as upstream does.
func (r Rating) MarshalJSON() ([]byte, error) {
	if r.Error != "" {
		return json.Marshal(struct {
			Error string `json:"error"`
		}{r.Error})
	}
	return json.Marshal(struct {
		Stars int    `json:"stars"`
		Color string `json:"color"`
	}{r.Stars, r.Color})
}

// Ratings is ratings' /ratings/<id> document: stars per reviewer.
type Ratings struct {
	ID      int            `json:"id"`
	Ratings map[string]int `json:"ratings"`
}

// errorDoc is the {"error": ...} document the apps answer with on failure.
type errorDoc struct {
	Error string `json:"error"`
}

// The book every app serves (upstream has exactly one product, id 0).
const (
	bookTitle       = "The Comedy of Errors"
	bookDescription = `<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.`
)

func products() []Product {
	return []Product{{ID: 0, Title: bookTitle, DescriptionHTML: bookDescription}}
}

func bookDetails(id int) Details {
	return Details{
		ID:        id,
		Author:    "William Shakespeare",
		Year:      1595,
		Type:      "paperback",
		Pages:     200,
		Publisher: "PublisherA",
		Language:  "English",
		ISBN10:    "1234567890",
		ISBN13:    "123-1234567890",
	}
}

// The two reviewers and what they wrote; ratings keys them by name.
func reviewTexts() []Review {
	return []Review{
		{Reviewer: "Reviewer1", Text: "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},
		{Reviewer: "Reviewer2", Text: "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."},
	}
}

// defaultRatings are the stars ratings gives every product nobody posted
// ratings for.
func defaultRatings() map[string]int { return map[string]int{"Reviewer1": 5, "Reviewer2": 4} }

// Messages upstream shows on failures.
const (
	msgDetailsUnavailable = "Sorry, product details are currently unavailable for this book."
	msgReviewsUnavailable = "Sorry, product reviews are currently unavailable for this book."
	msgRatingsUnavailable = "Sorry, product ratings are currently unavailable for this book."
	msgRatingsDown        = "Ratings service is currently unavailable"
)

// versionColor is the star color of each reviews version; v1 shows none.
func versionColor(version string) (color string, err error) {
	switch version {
	case "v1":
		return "", nil
	case "v2":
		return "black", nil
	case "v3":
		return "red", nil
	}
	return "", fmt.Errorf("reviews version %q: want v1, v2 or v3", version)
}
