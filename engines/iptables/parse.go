package iptables

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
)

// ErrUnknownFormat is returned by Parse when the input looks like none of
// the supported formats.
var ErrUnknownFormat = errors.New("unknown rules format: want iptables-save, an iptables -vnL listing, nft list ruleset or nft -j JSON")

// Detect guesses the format of data from its first meaningful line.
func Detect(data []byte) (Format, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return FormatNftJSON, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		switch {
		case strings.HasPrefix(l, "*") || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, "-N ") || strings.HasPrefix(l, "["):
			return FormatSave, nil
		case strings.HasPrefix(l, "Chain "):
			return FormatListing, nil
		case strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "add ") || strings.HasPrefix(l, "flush ") || strings.HasPrefix(l, "insert ") || strings.HasPrefix(l, "create "):
			return FormatNft, nil
		}
		return "", ErrUnknownFormat
	}
	return "", ErrUnknownFormat
}

// Parse detects the format of data and parses it. Listings are read as
// described at ParseListing.
func Parse(data []byte) (*Ruleset, error) {
	f, err := Detect(data)
	if err != nil {
		return nil, err
	}
	switch f {
	case FormatSave:
		return ParseSave(data)
	case FormatListing:
		return ParseListing(data)
	case FormatNftJSON:
		return ParseNftJSON(data)
	}
	return ParseNft(data)
}
