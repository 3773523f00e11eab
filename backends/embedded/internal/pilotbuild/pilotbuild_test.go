package pilotbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	abs, _ := filepath.Abs("../istio")
	for _, tc := range []struct {
		in   string
		want Source
		err  string
	}{
		{in: "", want: Source{Kind: Pinned}},
		{in: "pinned", want: Source{Kind: Pinned}},
		{in: "v0.0.0-20260423205519-b01690e6db7d", want: Source{Kind: Module, Version: "v0.0.0-20260423205519-b01690e6db7d"}},
		{in: "istio.io/istio@v1.31.1", want: Source{Kind: Module, Version: "v1.31.1"}},
		{in: "istio.io/istio@latest", err: "not a module version"},
		{in: "../istio", want: Source{Kind: Checkout, Path: abs}},
		{in: "/src/istio@release-1.31", want: Source{Kind: Checkout, Path: "/src/istio", Ref: "release-1.31"}},
		{in: "/src/istio@", err: "empty git ref"},
		{in: "istio", err: "want pinned, a module version"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSource) {
				t.Errorf("Parse(%q) = %+v, %v; want an ErrSource with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

func TestCheckRefusesBadSources(t *testing.T) {
	notIstio := t.TempDir()
	if err := os.WriteFile(filepath.Join(notIstio, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{Kind: Checkout, Path: t.TempDir()}, "go.mod: no such file"},
		{Source{Kind: Checkout, Path: notIstio}, `declares module "example.com/other", not istio.io/istio`},
		{Source{Kind: Module, Version: "v0.0.0-20990101000000-000000000000"}, "the module proxy does not serve it"},
	} {
		err := Check(ctx, tc.src)
		if err == nil || !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s) = %v; want an ErrSource with %q", tc.src, err, tc.want)
		}
	}
}

// TestCheckoutIdentity: a checkout is named by its commit, its working
// tree's changes change the name, and a ref is checked to exist.
func TestCheckoutIdentity(t *testing.T) {
	repo, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@t", "-c", "user.name=t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module istio.io/istio\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "one")
	ctx := context.Background()
	src := Source{Kind: Checkout, Path: dir}
	if err := Check(ctx, Source{Kind: Checkout, Path: dir, Ref: "no-such-branch"}); err == nil || !strings.Contains(err.Error(), `no git ref "no-such-branch"`) {
		t.Errorf("Check of a missing ref: %v", err)
	}
	clean, err := identity(ctx, src, repo)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := identity(ctx, src, repo); again != clean {
		t.Errorf("identity is not stable: %s then %s", clean, again)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if dirty, _ := identity(ctx, src, repo); dirty == clean {
		t.Errorf("an untracked file left the identity %s", clean)
	}
	head, _ := identity(ctx, Source{Kind: Checkout, Path: dir, Ref: "HEAD"}, repo)
	if head == clean {
		t.Errorf("path@HEAD and the working tree share identity %s", head)
	}
}

// TestTreeIdentity: a checkout that is not a git repository (a copy of a
// module) is named by its sources' content.
func TestTreeIdentity(t *testing.T) {
	repo, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module istio.io/istio\n")
	write("pilot/a.go", "package pilot\n\nconst weight = 90\n")
	ctx := context.Background()
	src := Source{Kind: Checkout, Path: dir}
	one, err := identity(ctx, src, repo)
	if err != nil {
		t.Fatal(err)
	}
	write("README.md", "not a source")
	if same, _ := identity(ctx, src, repo); same != one {
		t.Error("a file that is not a source changed the identity")
	}
	write("pilot/a.go", "package pilot\n\nconst weight = 10\n")
	if other, _ := identity(ctx, src, repo); other == one {
		t.Error("a changed source kept the identity")
	}
}
