package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"shoplist/crdt"
	"shoplist/internal/atomicfile"
)

// nameFile keeps the display name this device signs its edits with, beside
// the remembered proxies: collaborators see it next to what it changed
// ("bought by Alice") and on a list it deleted.
const nameFile = "name"

// rememberName writes name to DATA/name after checking it.
func rememberName(data, name string) (string, error) {
	name, err := crdt.CheckAuthor(name)
	if err != nil {
		return "", fmt.Errorf("%w: invalid name: %s (at most %d bytes, no control characters)", errUsage, detail(err, crdt.ErrInvalidName), crdt.MaxAuthorBytes)
	}
	if err := atomicfile.WriteFile(filepath.Join(data, nameFile), []byte(name+"\n")); err != nil {
		return "", fmt.Errorf("remembering the name: %w", err)
	}
	return name, nil
}

// rememberedName returns the name DATA/name holds: "" if the file does not
// exist, an error if it holds no valid name.
func rememberedName(data string) (string, error) {
	path, raw, err := remembered(data, nameFile)
	if err != nil || raw == "" {
		return "", err
	}
	name, err := crdt.CheckAuthor(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%s: %s (client config set name NAME replaces it)", path, detail(err, crdt.ErrInvalidName))
	}
	return name, nil
}
