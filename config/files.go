package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxSecretSize bounds a *_file secret.
const maxSecretSize = 64 << 10

// readSecrets replaces every *_file secret by the file's contents.
func (p *parser) readSecrets(c *Config) {
	for i := range c.Broker.Users {
		u, path := &c.Broker.Users[i], fmt.Sprintf("broker.users[%d].", i)
		p.secret(path+"password_hash", path+"password_hash_file", u.PasswordHashFile, &u.PasswordHash)
	}
	if b := c.Bridge; b != nil {
		p.secret("bridge.password", "bridge.password_file", b.PasswordFile, &b.Password)
	}
}

// secret reads file (the value of key filePath) into *value (key
// valuePath); setting both keys is an error.
func (p *parser) secret(valuePath, filePath, file string, value *string) {
	if !p.has(filePath) {
		return
	}
	if p.has(valuePath) {
		p.failAt(filePath, "set %s or %s, not both", base(valuePath), base(filePath))
		return
	}
	s, err := readSecret(file)
	if err != nil {
		p.failCause(filePath, err, "%s", fileProblem(file, err))
		return
	}
	*value = s
}

// checkFile records an error unless the file named by key path exists and
// is not a directory. An empty name is not checked.
func (p *parser) checkFile(path, name string) {
	if name == "" {
		return
	}
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		p.failCause(path, err, "%s", fileProblem(name, err))
	case fi.IsDir():
		p.failAt(path, "is a directory, want a file: %s", name)
	}
}

//

// readSecret returns the contents of the file without trailing newlines.
func readSecret(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	switch {
	case err != nil:
		return "", err
	case len(b) > maxSecretSize:
		return "", fmt.Errorf("over %d bytes", maxSecretSize)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", errors.New("file is empty")
	}
	return s, nil
}

// fileProblem describes err, about file name, for a config error.
func fileProblem(name string, err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "file not found: " + name
	case errors.As(err, &pe):
		return pe.Err.Error() + ": " + name
	}
	return err.Error() + ": " + name
}

// base is the last key of a key path.
func base(path string) string {
	return path[len(parent(path))+1:]
}
