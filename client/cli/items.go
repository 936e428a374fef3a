package cli

import (
	"fmt"
	"strings"

	"shoplist/crdt"
)

// cmdText sets an item's category or note (what): the words after ITEM,
// or none to clear it.
func (e *env) cmdText(args []string, what string) error {
	if len(args) < 2 {
		return arity(what, args, 2, 2, "LIST ITEM ["+strings.ToUpper(what)+"]")
	}
	text := strings.Join(args[2:], " ")
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error {
		if what == "category" {
			return l.SetCategory(c, args[1], text)
		}
		return l.SetNote(c, args[1], text)
	})
}

// cmdClear removes every bought item ("finish shopping") and says how many.
func (e *env) cmdClear(args []string) error {
	if err := arity("clear", args, 1, 1, "LIST"); err != nil {
		return err
	}
	var cleared []string
	err := e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error {
		cleared = cleared[:0]
		for _, it := range l.Items() {
			if it.Acquired {
				if err := l.Remove(c, it.Key); err != nil {
					return err
				}
				cleared = append(cleared, it.Name)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(cleared) == 0 {
		fmt.Fprintln(e.stdout, "nothing bought to clear")
		return nil
	}
	fmt.Fprintf(e.stdout, "cleared %s: %s\n", plural(len(cleared), "bought item"), strings.Join(cleared, ", "))
	return nil
}
