package bookinfo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// stylesheet is a small stand-in for the Tailwind build the upstream page
// loads: only the classes the page uses, written for this app.
const stylesheet = `body { font-family: sans-serif; margin: 0; }
nav.bg-gray-800 { background: #1f2937; padding: 1rem; }
.text-white, .text-gray-50 { color: #fff; }
.text-gray-400 { color: #9ca3af; }
.text-gray-600 { color: #4b5563; }
.text-gray-900 { color: #111827; }
.text-blue-900 { color: #1e3a8a; }
.text-red-500 { color: #ef4444; }
.text-black-500 { color: #000; }
.bg-blue-600 { background: #2563eb; }
.container { max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
.flex { display: flex; }
.gap-x-1 { column-gap: 0.25rem; }
.h-5 { height: 1.25rem; }
.w-5 { width: 1.25rem; }
.text-5xl { font-size: 3rem; }
.text-3xl { font-size: 1.875rem; }
.text-2xl { font-size: 1.5rem; }
.font-mono { font-family: monospace; }
table { border-collapse: collapse; }
th, td { padding: 0.5rem; border: 1px solid #d1d5db; text-align: left; }
`

// addStatic serves the page's stylesheet and the reviewers' avatar.
func addStatic(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/tailwind/tailwind.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(stylesheet))
	})
	avatar := avatarPNG()
	mux.HandleFunc("GET /static/img/izzy.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(avatar)
	})
}

// avatarPNG draws a 32x32 blue disc.
func avatarPNG() []byte {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := x-n/2, y-n/2
			if dx*dx+dy*dy < (n/2)*(n/2) {
				img.Set(x, y, color.NRGBA{R: 0x46, G: 0x6b, B: 0xb0, A: 0xff})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding an in-memory image cannot fail
	return b.Bytes()
}
