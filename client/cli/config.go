package cli

import (
	"encoding/json"
	"fmt"
	"strings"
)

// jsonConfig is config --json's output.
type jsonConfig struct {
	Proxies []string `json:"proxies"` // remembered endpoints, each ENDPOINT#KEY; [] if none
	Data    string   `json:"data"`    // the data directory
	Name    string   `json:"name"`    // the display name edits are signed with; "" if none
}

// cmdConfig shows what the client remembers, or sets it:
// config [--json] | config set proxy ENDPOINT#KEY[,...] | config set name NAME.
func (e *env) cmdConfig(args []string) error {
	if len(args) == 0 {
		return e.showConfig()
	}
	if len(args) < 3 || args[0] != "set" || (args[1] != "proxy" && args[1] != "name") {
		return arity("config", nil, 1, 1, "[--json] | client config set proxy ENDPOINT#KEY[,...] | client config set name NAME")
	}
	if args[1] == "name" {
		name, err := rememberName(e.opts.data, strings.Join(args[2:], " "))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "your edits are signed %q from now on\n", name)
		return nil
	}
	eps := splitEndpoints(strings.Join(args[2:], ","))
	if len(eps) == 0 {
		return fmt.Errorf("%w: client config set proxy ENDPOINT#KEY[,...]", errUsage)
	}
	if err := checkPinned(eps); err != nil {
		return fmt.Errorf("%w: %v", errUsage, strings.Replace(err.Error(), "--proxy ", "", 1))
	}
	if err := rememberProxies(e.opts.data, eps); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "remembered %s for later commands\n", plural(len(eps), "proxy endpoint"))
	return nil
}

// showConfig prints what the client remembers.
func (e *env) showConfig() error {
	eps, err := rememberedProxies(e.opts.data)
	if err != nil {
		return err
	}
	name := e.store.Author()
	if e.flags["json"] {
		if eps == nil {
			eps = []string{}
		}
		return writeJSON(e.stdout, jsonConfig{Proxies: eps, Data: e.opts.data, Name: name})
	}
	fmt.Fprintf(e.stdout, "data\t%s\n", e.opts.data)
	if name == "" {
		name = "(none: client config set name NAME)"
	}
	fmt.Fprintf(e.stdout, "name\t%s\n", name)
	if len(eps) == 0 {
		fmt.Fprintln(e.stdout, "proxy\t(none: client config set proxy ENDPOINT#KEY)")
	}
	for _, ep := range eps {
		fmt.Fprintf(e.stdout, "proxy\t%s\n", ep)
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
