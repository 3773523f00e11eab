package xds

import (
	"fmt"
)

// lone is a section istioctl prints on its own, without "configs" and
// without "@type": proxy-config secret|bootstrap -o json.
type lone struct {
	shape Shape
	msg   string   // the section's message name
	keys  []string // fields only this section has (snake_case)
}

var lones = []lone{
	{ShapeIstioctlSecrets, "envoy.admin.v3.SecretsConfigDump", []string{"static_secrets", "dynamic_active_secrets", "dynamic_warming_secrets"}},
	{ShapeIstioctlBootstrap, "envoy.admin.v3.BootstrapConfigDump", []string{"bootstrap"}},
}

// loneSection reads an object that is one config dump section rather than a
// whole dump: one element of "configs" (it has an "@type"), or what istioctl
// prints for secrets and the bootstrap. It reports false, nil when the object
// is none of these.
func (p *parser) loneSection(start, end int) (bool, error) {
	f, err := p.fields(start, "")
	if err != nil {
		return false, err
	}
	if _, ok := f["@type"]; ok {
		p.dump.Shape = ShapeSection
		return true, p.section(start, end, "")
	}
	for _, l := range lones {
		for _, k := range l.keys {
			if _, ok := f[k]; !ok {
				continue
			}
			sec := sections[l.msg]
			p.dump.Shape = l.shape
			p.dump.holds(sec.typ)
			if err := sec.read(p, f, ""); err != nil {
				return true, err
			}
			return true, p.unknownKeys(f, "", "type.googleapis.com/"+l.msg)
		}
	}
	return false, nil
}

// joinPath appends a field to a document path ("" is the top).
func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return fmt.Sprintf("%s.%s", path, field)
}
