package cli

import (
	"fmt"
	"strings"
)

// globalFlags are the flags of every command, found wherever they stand
// on the command line, as git and kubectl take them; true marks those
// that take a value.
var globalFlags = map[string]bool{"data": true, "proxy": true, "offline": false, "v": false, "h": false, "help": false}

// commandFlags are each command's own flags (none take a value).
var commandFlags = map[string][]string{
	"lists":  {"json"},
	"show":   {"json"},
	"forget": {"force"},
	"delete": {"force"},
	"config": {"json"},
}

// isFlag reports whether a is a flag (-x, --x, --x=v), not an argument
// such as a negative number or "-".
func isFlag(a string) bool {
	if !strings.HasPrefix(a, "-") {
		return false
	}
	a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	return a != "" && (a[0] >= 'a' && a[0] <= 'z' || a[0] >= 'A' && a[0] <= 'Z')
}

// flagName returns the name of flag a and whether it carries its value.
func flagName(a string) (name string, hasValue bool) {
	a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, hasValue = strings.Cut(a, "=")
	return name, hasValue
}

// splitArgs takes the global flags out of args, wherever they are, and
// returns them apart from the rest: the command, its arguments and its own
// flags. After "--" everything is an argument ("--" is kept in rest, for
// the command's own flags to stop there too).
func splitArgs(args []string) (globals, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return globals, append(rest, args[i:]...), nil
		}
		if !isFlag(a) {
			rest = append(rest, a)
			continue
		}
		name, hasValue := flagName(a)
		takesValue, ok := globalFlags[name]
		if !ok {
			rest = append(rest, a)
			continue
		}
		globals = append(globals, a)
		if takesValue && !hasValue {
			if i+1 == len(args) {
				return nil, nil, fmt.Errorf("%w: flag needs an argument: -%s", errUsage, name)
			}
			i++
			globals = append(globals, args[i])
		}
	}
	return globals, rest, nil
}

// cmdFlags takes cmd's own flags out of args: the arguments that are left,
// and the flags given. A flag cmd does not have is a usage error.
func cmdFlags(cmd string, args []string) ([]string, map[string]bool, error) {
	var pos []string
	set := map[string]bool{}
	for i, a := range args {
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		name, hasValue := flagName(a)
		known := false
		for _, f := range commandFlags[cmd] {
			known = known || f == name
		}
		if !known || hasValue {
			return nil, nil, fmt.Errorf("%w: client %s has no flag %s", errUsage, cmd, a)
		}
		set[name] = true
	}
	return pos, set, nil
}
