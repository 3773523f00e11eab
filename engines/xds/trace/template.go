package trace

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tmatchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	trewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
)

// Envoy's URI template operators as RE2: "*" one path segment, "**" any
// number of segments (only last).
const (
	templateSegment  = `[a-zA-Z0-9-._~%!$&'()+,;:@=]+`
	templateSegments = `[a-zA-Z0-9-._~%!$&'()+,;:@=/]*`
)

// templateRegexp turns a URI template ("/{lang}/videos/{file=**}") into an
// anchored regexp whose named groups are its variables.
func templateRegexp(tpl string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for rest := tpl; rest != ""; {
		switch {
		case rest[0] == '{':
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("URI template %q: unclosed {", tpl)
			}
			name, pat, ok := strings.Cut(rest[1:end], "=")
			if !ok {
				pat = "*"
			}
			fmt.Fprintf(&b, "(?P<%s>%s)", name, templateGlob(pat))
			rest = rest[end+1:]
		case strings.HasPrefix(rest, "**"):
			b.WriteString(templateSegments)
			rest = rest[2:]
		case rest[0] == '*':
			b.WriteString(templateSegment)
			rest = rest[1:]
		default:
			n := strings.IndexAny(rest, "{*")
			if n < 0 {
				n = len(rest)
			}
			b.WriteString(regexp.QuoteMeta(rest[:n]))
			rest = rest[n:]
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// templateGlob is a variable's pattern ("*", "**", "videos/*") as RE2.
func templateGlob(pat string) string {
	parts := strings.Split(pat, "/")
	for i, p := range parts {
		switch p {
		case "**":
			parts[i] = templateSegments
		case "*":
			parts[i] = templateSegment
		default:
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return strings.Join(parts, "/")
}

// templateMatch evaluates a path_match_policy: only Envoy's URI template
// matcher is known.
func templateMatch(p *routev3.RouteMatch_PathMatchPolicy, path string) (ok bool, tpl, unsup string) {
	cfg := &tmatchv3.UriTemplateMatchConfig{}
	if err := p.PathMatchPolicy.GetTypedConfig().UnmarshalTo(cfg); err != nil {
		return false, "", "path_match_policy " + p.PathMatchPolicy.GetName() + " (not a URI template matcher)"
	}
	re, err := templateRegexp(cfg.GetPathTemplate())
	if err != nil {
		return false, "", err.Error()
	}
	return re.MatchString(path), cfg.GetPathTemplate(), ""
}

// templateRewrite applies a path_rewrite_policy's URI template rewrite to
// the path (its query kept), with the variables the match template
// captured.
func templateRewrite(ra *routev3.RouteAction, matchTemplate, path string) (string, string) {
	cfg := &trewritev3.UriTemplateRewriteConfig{}
	if err := ra.GetPathRewritePolicy().GetTypedConfig().UnmarshalTo(cfg); err != nil {
		return "", "path_rewrite_policy " + ra.GetPathRewritePolicy().GetName() + " (not a URI template rewriter)"
	}
	if matchTemplate == "" {
		return "", "path_rewrite_policy without a URI template match"
	}
	re, err := templateRegexp(matchTemplate)
	if err != nil {
		return "", err.Error()
	}
	p, q := splitQuery(path)
	m := re.FindStringSubmatch(p)
	if m == nil {
		return "", fmt.Sprintf("path %q does not match URI template %q", p, matchTemplate)
	}
	var b strings.Builder
	for rest := cfg.GetPathTemplateRewrite(); rest != ""; {
		if rest[0] != '{' {
			n := strings.IndexByte(rest, '{')
			if n < 0 {
				n = len(rest)
			}
			b.WriteString(rest[:n])
			rest = rest[n:]
			continue
		}
		end := strings.IndexByte(rest, '}')
		i := re.SubexpIndex(rest[1:max(end, 1)])
		if end < 0 || i < 0 {
			return "", fmt.Sprintf("URI template rewrite %q names a variable the match %q lacks", cfg.GetPathTemplateRewrite(), matchTemplate)
		}
		b.WriteString(m[i])
		rest = rest[end+1:]
	}
	return b.String() + q, ""
}
