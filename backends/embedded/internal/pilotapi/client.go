package pilotapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Client calls a control plane on its Unix socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient is a client of the control plane serving on socket.
func NewClient(socket string) *Client {
	return &Client{socket: socket, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}}
}

// Info asks the control plane what it is.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var i Info
	return i, c.call(ctx, http.MethodGet, PathInfo, nil, &i)
}

// Apply creates or updates objects.
func (c *Client) Apply(ctx context.Context, a Apply) error {
	return c.call(ctx, http.MethodPost, PathApply, a, nil)
}

// Delete removes objects.
func (c *Client) Delete(ctx context.Context, d Delete) error {
	return c.call(ctx, http.MethodPost, PathDelete, d, nil)
}

// Sync is every connected proxy's xDS state.
func (c *Client) Sync(ctx context.Context) ([]ProxySync, error) {
	var s []ProxySync
	return s, c.call(ctx, http.MethodGet, PathSync, nil, &s)
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("pilot %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://pilot"+path, body)
	if err != nil {
		return fmt.Errorf("pilot %s: %w", path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("pilot %s on %s: %w", path, c.socket, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("pilot %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("pilot %s: %s", path, e.Error)
		}
		return fmt.Errorf("pilot %s: %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("pilot %s: answer %.200q: %w", path, b, err)
	}
	return nil
}
