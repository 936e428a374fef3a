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
}

// cmdConfig shows what the client remembers, or sets it:
// config [--json] | config set proxy ENDPOINT#KEY[,...].
func (e *env) cmdConfig(args []string) error {
	if len(args) == 0 {
		eps, err := rememberedProxies(e.opts.data)
		if err != nil {
			return err
		}
		if e.flags["json"] {
			if eps == nil {
				eps = []string{}
			}
			return writeJSON(e.stdout, jsonConfig{Proxies: eps, Data: e.opts.data})
		}
		fmt.Fprintf(e.stdout, "data\t%s\n", e.opts.data)
		if len(eps) == 0 {
			fmt.Fprintln(e.stdout, "proxy\t(none: client config set proxy ENDPOINT#KEY)")
		}
		for _, ep := range eps {
			fmt.Fprintf(e.stdout, "proxy\t%s\n", ep)
		}
		return nil
	}
	if len(args) < 3 || args[0] != "set" || args[1] != "proxy" {
		return arity("config", nil, 1, 1, "[--json] | client config set proxy ENDPOINT#KEY[,...]")
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

// writeJSON prints v as indented JSON.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
