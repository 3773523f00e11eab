package report

import (
	"encoding/json"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/meshcheck/meshcheck/internal/textgolden"
)

// schema is report.schema.json generated from the Go types and their doc
// comments.
func schema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		// Go's omitempty/omitzero say which fields are optional.
		RequiredFromJSONSchemaTags: false,
		// An unknown field is an error for Parse; the schema says so too.
		AllowAdditionalProperties: false,
	}
	if err := r.AddGoComments("github.com/meshcheck/meshcheck/report", "./"); err != nil {
		t.Fatalf("reading the doc comments: %v", err)
	}
	s := r.Reflect(&Report{})
	s.ID = "https://meshcheck.dev/schemas/report-v1alpha1.json"
	s.Title = "meshcheck Report " + APIVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return append(b, '\n')
}

// TestSchemaGolden fails when report.schema.json is not what the types
// generate (MESHCHECK_UPDATE_GOLDEN=1 or make golden regenerates it).
func TestSchemaGolden(t *testing.T) {
	textgolden.Assert(t, "report.schema.json", schema(t))
}
