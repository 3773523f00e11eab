package bookinfo

import "html/template"

// pageData is what the product page shows.
type pageData struct {
	User         string
	Product      Product
	Description  template.HTML
	DetailsOK    bool
	Details      map[string]any
	DetailsError string
	ReviewsOK    bool
	Reviews      pageReviews
	ReviewsError string
	ShowCluster  bool
}

// pageReviews is the reviews document as the page reads it.
type pageReviews struct {
	Podname     string `json:"podname"`
	Clustername string `json:"clustername"`
	Reviews     []struct {
		Reviewer string `json:"reviewer"`
		Text     string `json:"text"`
		Rating   *struct {
			Stars int    `json:"stars"`
			Color string `json:"color"`
			Error string `json:"error"`
		} `json:"rating"`
	} `json:"reviews"`
}

// starRange returns n elements (none for n <= 0, at most 5) for ranging.
func starRange(n int) []struct{} {
	n = min(max(n, 0), 5)
	return make([]struct{}, n)
}

// newPageTemplate parses the product page. It keeps the markers meshcheck's classifiers and Istio's own docs
// rely on: the title, "Book Details" and "Book Reviews", "Error fetching
// product details|reviews", stars as svg elements inside
// <div class="... text-<color>-500"> (the 1.20.x images' Tailwind markup)
// and "Reviews served by: <pod>".
func newPageTemplate() *template.Template {
	return template.Must(template.New("productpage").Funcs(template.FuncMap{
		"filled": starRange,
		"empty":  func(n int) []struct{} { return starRange(5 - min(max(n, 0), 5)) },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<link rel="stylesheet" href="static/tailwind/tailwind.css">
</head>
<body>
<nav class="bg-gray-800">
  <a href="#" class="text-white px-3 py-2 text-lg font-medium">BookInfo Sample</a>
{{- if .User}}
  <span class="text-base font-medium text-gray-50">{{.User}}</span>
  <a href="logout" class="text-xs font-medium text-gray-400">Sign out</a>
{{- else}}
  <form method="post" action="login" name="login_form" class="inline">
    <input name="username" placeholder="Username" required>
    <input name="passwd" type="password" placeholder="Password">
    <button type="submit" class="rounded-md bg-blue-600 text-white">Sign in</button>
  </form>
{{- end}}
</nav>

<div class="container mt-8 mx-auto px-4">
  <h1 class="text-5xl font-bold tracking-tight text-blue-900">{{.Product.Title}}</h1>
  <p class="mt-6 text-xl leading-8 text-gray-600">{{.Description}}</p>
</div>

<div class="container mt-8 mx-auto px-4">
{{- if .DetailsOK}}
  <h4 class="text-3xl font-semibold">Book Details</h4>
  <table class="min-w-full divide-y divide-gray-300">
    <thead><tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr></thead>
    <tbody><tr>
      <td>{{index .Details "ISBN-10"}}</td>
      <td>{{index .Details "publisher"}}</td>
      <td>{{index .Details "pages"}}</td>
      <td>{{index .Details "type"}}</td>
      <td>{{index .Details "language"}}</td>
    </tr></tbody>
  </table>
{{- else}}
  <p class="text-2xl text-red-500">Error fetching product details</p>
  <p class="text-lg text-gray-600">{{.DetailsError}}</p>
{{- end}}
</div>

<div class="bg-blue-600/5 py-12 mx-auto">
<div class="container mx-auto px-4">
{{- if .ReviewsOK}}
  <h4 class="text-3xl font-semibold">Book Reviews</h4>
  <div class="flex flex-col md:flex-row">
  {{- range .Reviews.Reviews}}
  <section class="px-6 py-12">
    {{- with .Rating}}
    {{- if gt .Stars 0}}
    <div class="flex gap-x-1 text-{{.Color}}-500">
      {{- range filled .Stars}}
      <svg class="h-5 w-5 star-filled" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M10 1.5l2.6 5.6 6.1.6-4.6 4.1 1.3 6-5.4-3.1-5.4 3.1 1.3-6L1.3 7.7l6.1-.6z"/></svg>
      {{- end}}
      {{- range empty .Stars}}
      <svg class="h-5 w-5 star-empty" viewBox="0 0 20 20" fill="none" stroke="currentColor" aria-hidden="true"><path d="M10 1.5l2.6 5.6 6.1.6-4.6 4.1 1.3 6-5.4-3.1-5.4 3.1 1.3-6L1.3 7.7l6.1-.6z"/></svg>
      {{- end}}
    </div>
    {{- else if .Error}}
    <p class="text-red-500">{{.Error}}</p>
    {{- end}}
    {{- end}}
    <blockquote class="mt-10 text-xl font-semibold"><p>"{{.Text}}"</p></blockquote>
    <div class="mt-4 text-sm leading-6">
      <div class="font-semibold text-gray-900">{{.Reviewer}}</div>
      <div class="mt-0.5 text-gray-600 font-mono">Reviews served by:
        {{$.Reviews.Podname}}
        {{- if $.ShowCluster}}
        on cluster <div>{{$.Reviews.Clustername}}</div>
        {{- end}}
      </div>
    </div>
  </section>
  {{- end}}
  </div>
{{- else}}
  <p class="text-2xl text-red-500">Error fetching product reviews</p>
  <p class="text-lg text-gray-600">{{.ReviewsError}}</p>
{{- end}}
</div>
</div>
</body>
</html>
`))
}

// newIndexTemplate is the page at /: the services productpage calls and
// links to the product page.
func newIndexTemplate() *template.Template {
	return template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<link rel="stylesheet" href="static/tailwind/tailwind.css">
</head>
<body>
<h3 class="text-2xl">Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table>
  <thead><tr><th>service</th><th>calls</th></tr></thead>
  <tbody>
    <tr><td>productpage</td><td>{{.Details}}/details, {{.Reviews}}/reviews</td></tr>
    <tr><td>reviews</td><td>{{.Ratings}}/ratings</td></tr>
  </tbody>
</table>
<p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
<ul>
  <li><a href="/productpage?u=normal">Normal user</a></li>
  <li><a href="/productpage?u=test">Test user</a></li>
</ul>
</body>
</html>
`))
}
