// vmapp is the VM container test's image: "serve PORT NAME" answers every
// request with "hello from NAME"; "get URL" prints the body of one GET and
// exits 0 on status 200.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "serve" {
		name := os.Args[3]
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from %s (you are %s)\n", name, r.RemoteAddr)
		})
		fmt.Fprintln(os.Stderr, http.ListenAndServe(":"+os.Args[2], nil))
		os.Exit(1)
	}
	if len(os.Args) == 3 && os.Args[1] == "get" {
		resp, err := http.Get(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, _ := io.ReadAll(resp.Body)
		fmt.Print(string(b))
		if resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, "usage: vmapp serve PORT NAME | vmapp get URL")
	os.Exit(64)
}
