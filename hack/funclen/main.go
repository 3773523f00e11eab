// Command funclen fails when a Go function in the tree is longer than the
// project allows (100 lines, from func to the closing brace), outside
// generated files (*.gen.go) and the test tables named by -allow. make lint
// runs it.
//
//	go run ./hack/funclen [-max 100] [-allow TestA,TestB] [DIR]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	maxLines := flag.Int("max", 100, "the most lines a function may have")
	allow := flag.String("allow", "", "comma-separated function names allowed to be longer (test tables)")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	long, err := find(root, *maxLines, strings.Split(*allow, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(2)
	}
	for _, l := range long {
		fmt.Println(l)
	}
	if len(long) > 0 {
		fmt.Fprintf(os.Stderr, "funclen: %d functions over %d lines: split them (a table of small handlers reads better than a long switch)\n", len(long), *maxLines)
		os.Exit(1)
	}
}

// find lists "file:line: name is N lines" for every function over maxLines.
func find(root string, maxLines int, allowed []string) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "vendor" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root:
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".gen.go"):
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil || slices.Contains(allowed, fd.Name.Name) {
				continue
			}
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			if n := end.Line - start.Line + 1; n > maxLines {
				out = append(out, fmt.Sprintf("%s:%d: %s is %d lines", p, start.Line, fd.Name.Name, n))
			}
		}
		return nil
	})
	return out, err
}
