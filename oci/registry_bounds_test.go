package oci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// TestServeBounds: the embedded registry drops a client that does not
// finish its headers or its request in time, and refuses a push larger
// than MaxPushSize while smaller pushes work.
func TestServeBounds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, ServerOptions{HeaderTimeout: 300 * time.Millisecond, BodyTimeout: time.Second, MaxPushSize: 1 << 20})
	}()
	t.Cleanup(func() { cancel(); <-done })
	host := ln.Addr().String()

	// dropped sends head, then body one byte every 100ms, and returns how
	// long the server took to close the connection.
	dropped := func(t *testing.T, head string, body []byte) time.Duration {
		t.Helper()
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close() //nolint:errcheck // test connection
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		go func() {
			for _, b := range body {
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.Copy(io.Discard, conn) // until the server closes
		return time.Since(start)
	}
	t.Run("headers that never end", func(t *testing.T) {
		took := dropped(t, "GET /v2/ HTTP/1.1\r\nHost: x\r\n", nil)
		if took > 5*time.Second {
			t.Fatalf("closed after %s", took)
		}
	})
	t.Run("a body that trickles", func(t *testing.T) {
		head := fmt.Sprintf("PUT /v2/r/blobs/uploads/x HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n", host)
		took := dropped(t, head, bytes.Repeat([]byte("x"), 1000))
		if took > 5*time.Second {
			t.Fatalf("closed after %s (the body takes 100s)", took)
		}
	})
	push := func(size int) int {
		blob := bytes.Repeat([]byte("b"), size)
		url := fmt.Sprintf("http://%s/v2/r/blobs/uploads/?digest=%s", host, digest.FromBytes(blob))
		resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(blob))
		if err != nil {
			if strings.Contains(err.Error(), "connection reset") {
				return http.StatusRequestEntityTooLarge // the server stopped reading
			}
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := push(512 << 10); code != http.StatusCreated {
		t.Errorf("512 KiB push: %d, want 201", code)
	}
	if code := push(2 << 20); code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB push over the 1 MiB limit: %d, want 413", code)
	}
}
