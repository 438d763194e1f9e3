package secret

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// FileProvider reads the secret NAME from DIR/NAME.json. NAME may contain
// "/" as AWS names do; each part is then a subdirectory.
type FileProvider struct {
	Dir string
}

var _ Provider = (*FileProvider)(nil)

// openFileProvider opens file:DIR or file:///DIR.
func openFileProvider(_ context.Context, uri string) (Provider, error) {
	dir := strings.TrimPrefix(uri, "file:")
	if strings.HasPrefix(dir, "//") {
		u, err := url.Parse(uri)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return nil, errors.New("secrets provider file: want file:DIR or file:///ABSOLUTE/DIR")
		}
		dir = u.Path
	}
	if dir == "" {
		return nil, errors.New("secrets provider file: want file:DIR")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("secrets provider file:%s: %w", dir, unwrapPathError(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("secrets provider file:%s: not a directory", dir)
	}
	return &FileProvider{Dir: dir}, nil
}

// String implements Provider.
func (p *FileProvider) String() string { return "file provider " + p.Dir }

// Path returns the file that holds the secret name, or an error when the
// name could leave the directory.
func (p *FileProvider) Path(name string) (string, error) {
	if !secretNameRE.MatchString(name) {
		return "", errors.New("not a secret name: want letters, digits and / _ + = . @ -")
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return "", errors.New(`a secret name for the file provider must not have empty, "." or ".." parts`)
		}
	}
	return filepath.Join(p.Dir, filepath.FromSlash(name)+".json"), nil
}

// Lookup implements Provider.
func (p *FileProvider) Lookup(ctx context.Context, name string) (Secret, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	path, err := p.Path(name)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no file %s", ErrNotFound, path)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	return Secret(b), nil
}

// unwrapPathError drops the path an *fs.PathError repeats, leaving the cause.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
