// Package strictyaml decodes a YAML node tree into Go structs strictly: a
// key the struct does not have is an error naming its line, the field path
// and the fields allowed; a value of the wrong shape names its line and
// path. Structs are found by their yaml tags (",inline" flattens); a struct
// with a SetLine(int) error method learns the line it starts on and may
// refuse its own values there. Spec formats (engines/xds/expect,
// fixtures/expect) share it so their messages read alike.
package strictyaml
