// Package alert posts operator alerts to a webhook with a JSON body
// compatible with Slack incoming webhooks ({"text": ...}); Mattermost,
// Rocket.Chat, Discord's /slack endpoint and most chat tools accept it.
// The engine sends each alert from a River job (one per event), which gives
// retries with backoff and one delivery per event across a fleet.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/wharf-data/wharf/internal/secret"
)

// ErrRejected is wrapped by Post errors that retrying will not mend (the
// webhook answered 4xx other than 408 and 429).
var ErrRejected = errors.New("the webhook rejected the alert")

// Post sends text to webhook. Errors never contain the webhook's URL (it
// usually embeds a token).
func Post(ctx context.Context, client *http.Client, webhook secret.Secret, text string) error {
	u, err := url.Parse(webhook.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("alert webhook: not an http(s) URL: %w", ErrRejected)
	}
	body, err := json.Marshal(map[string]string{"text": secret.RedactString(text)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert webhook: %w", ErrRejected)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return fmt.Errorf("alert webhook %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return fmt.Errorf("alert webhook %s answered %s: %w", u.Host, resp.Status, ErrRejected)
	}
	return fmt.Errorf("alert webhook %s answered %s", u.Host, resp.Status)
}
