package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/protocol"
	"shoplist/tui"
)

// run dispatches one command.
func (e *env) run(cmd string, args []string) error {
	args, flags, err := cmdFlags(cmd, args)
	if err != nil {
		return err
	}
	e.flags = flags
	switch cmd {
	case "new":
		return e.cmdNew(args)
	case "lists":
		return e.cmdLists(args)
	case "show":
		return e.cmdShow(args)
	case "add":
		return e.cmdAdd(args)
	case "remove":
		return e.cmdRemove(args)
	case "buy":
		return e.cmdBuy(args)
	case "set":
		return e.cmdSet(args)
	case "unbuy":
		return e.cmdUnbuy(args)
	case "rename":
		return e.cmdRename(args)
	case "join":
		return e.cmdJoin(args)
	case "sync":
		return e.cmdSync(args)
	case "forget":
		return e.cmdForget(args)
	case "category":
		return e.cmdText(args, "category")
	case "note":
		return e.cmdText(args, "note")
	case "clear":
		return e.cmdClear(args)
	case "config":
		return e.cmdConfig(args)
	case "delete":
		return e.cmdDelete(args)
	case "restore":
		return e.cmdRestore(args)
	case "help":
		fmt.Fprint(e.stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// arity checks the number of arguments of cmd; synopsis is what it takes
// ("" for nothing).
func arity(cmd string, args []string, min, max int, synopsis string) error {
	if len(args) >= min && len(args) <= max {
		return nil
	}
	if synopsis == "" {
		return fmt.Errorf("%w: client %s takes no arguments", errUsage, cmd)
	}
	return fmt.Errorf("%w: client %s %s", errUsage, cmd, synopsis)
}

func (e *env) cmdNew(args []string) error {
	if len(args) == 0 {
		return arity("new", args, 1, 1, "NAME")
	}
	en, err := e.store.Create(strings.Join(args, " "))
	if err != nil {
		return describe(err, "list name")
	}
	fmt.Fprintln(e.stdout, en.List.ID())
	e.ship(en.List.ID())
	return nil
}

func (e *env) cmdAdd(args []string) error {
	if len(args) < 2 {
		return arity("add", args, 2, 2, "LIST ITEM [QTY] [ITEM [QTY]]...")
	}
	items, err := itemsToAdd(args[1:])
	if err != nil {
		return err
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error {
		for _, it := range items {
			if err := l.Add(c, it.name, it.qty); err != nil {
				return err
			}
		}
		return nil
	})
}

// toAdd is one item of an add command.
type toAdd struct {
	name string
	qty  int64
}

// itemsToAdd reads add's ITEM [QTY] pairs: a number after an item is its
// quantity, and an item given as "eggs 12" carries its own. Every item is
// checked before any is added.
func itemsToAdd(args []string) ([]toAdd, error) {
	var out []toAdd
	for i := 0; i < len(args); i++ {
		a := args[i]
		if looksLikeQuantity(a) {
			if _, err := quantity(a); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("quantity %s comes before any item: give ITEM QTY", a)
		}
		name, qty, err := tui.ParseItem(a)
		switch {
		case err != nil && strings.TrimSpace(a) != "":
			return nil, fmt.Errorf("item %q: %w", a, err)
		case err != nil:
			name, qty = a, 1 // blank: the list refuses it, saying why
		}
		if i+1 < len(args) && looksLikeQuantity(args[i+1]) {
			if qty, err = quantity(args[i+1]); err != nil {
				return nil, err
			}
			i++
		}
		out = append(out, toAdd{name, qty})
	}
	return out, nil
}

// looksLikeQuantity reports whether an argument is meant as a number.
func looksLikeQuantity(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.Trim(s, "+-0123456789.,") == ""
}

func (e *env) cmdRemove(args []string) error {
	if err := arity("remove", args, 2, 2, "LIST ITEM"); err != nil {
		return err
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error { return l.Remove(c, args[1]) })
}

func (e *env) cmdBuy(args []string) error {
	if err := arity("buy", args, 2, 3, "LIST ITEM [QTY]"); err != nil {
		return err
	}
	qty := int64(0) // all that remains
	if len(args) == 3 {
		var err error
		if qty, err = quantity(args[2]); err != nil {
			return err
		}
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error {
		v, ok := l.Lookup(args[1])
		if !ok {
			return fmt.Errorf("%w: %q", crdt.ErrNotFound, crdt.TrimName(args[1]))
		}
		n := qty
		if n == 0 {
			if v.Remaining == 0 {
				return fmt.Errorf("%w: all %d of %q are already bought", crdt.ErrOverBuy, v.Bought, v.Name)
			}
			n = v.Remaining
		}
		if n > v.Remaining {
			return fmt.Errorf("%w: %d of %q remain, cannot buy %d", crdt.ErrOverBuy, v.Remaining, v.Name, n)
		}
		return l.Buy(c, args[1], n)
	})
}

func (e *env) cmdSet(args []string) error {
	if err := arity("set", args, 3, 3, "LIST ITEM QTY"); err != nil {
		return err
	}
	qty, err := quantity(args[2])
	if err != nil {
		return err
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error { return l.SetWanted(c, args[1], qty) })
}

// errOverUnbuy is taking back more of an item than is bought.
var errOverUnbuy = errors.New("unbuying more than is bought")

func (e *env) cmdUnbuy(args []string) error {
	if err := arity("unbuy", args, 2, 3, "LIST ITEM [QTY]"); err != nil {
		return err
	}
	qty := int64(0) // everything bought
	if len(args) == 3 {
		var err error
		if qty, err = quantity(args[2]); err != nil {
			return err
		}
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error {
		v, ok := l.Lookup(args[1])
		if !ok {
			return fmt.Errorf("%w: %q", crdt.ErrNotFound, crdt.TrimName(args[1]))
		}
		n := qty
		if n == 0 {
			if v.Bought == 0 {
				return fmt.Errorf("%w: none of %q is bought", errOverUnbuy, v.Name)
			}
			n = v.Bought
		}
		if n > v.Bought {
			return fmt.Errorf("%w: %d of %q bought, cannot unbuy %d", errOverUnbuy, v.Bought, v.Name, n)
		}
		return l.Unbuy(c, args[1], n)
	})
}

func (e *env) cmdRename(args []string) error {
	if len(args) < 2 {
		return arity("rename", args, 2, 2, "LIST NAME")
	}
	name := strings.Join(args[1:], " ")
	return e.editAs(args[0], "list name", func(l *crdt.List, c *crdt.Clock) error { return l.Rename(c, name) })
}

// edit resolves ref, applies fn durably and ships the change.
func (e *env) edit(ref string, fn func(*crdt.List, *crdt.Clock) error) error {
	return e.editAs(ref, "item name", fn)
}

// editAs is edit, with an invalid name called nameOf in the error.
func (e *env) editAs(ref, nameOf string, fn func(*crdt.List, *crdt.Clock) error) error {
	id, err := e.store.Resolve(ref)
	if err != nil {
		return describe(err, "")
	}
	if _, _, err := e.store.Edit(id, fn); err != nil {
		return describe(err, nameOf)
	}
	e.ship(id)
	return nil
}

// ship tries for editSync to push list id (and pull it), and says on stderr
// when it could not: the edit is saved either way.
func (e *env) ship(id uuid.UUID) {
	if e.opts.noProxy {
		fmt.Fprintf(e.stderr, "saved locally; %v\n", errNoProxy)
		return
	}
	if e.opts.offline {
		fmt.Fprintln(e.stderr, "saved locally (offline); will sync when online")
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, editSync)
	defer cancel()
	err := e.syncLists(ctx, id)
	switch {
	case err == nil:
	case errors.Is(err, syncer.ErrOffline), errors.Is(err, context.DeadlineExceeded):
		e.log.Debug("push did not complete", "list", id, "err", err)
		fmt.Fprintln(e.stderr, "saved locally; will sync when online")
	default: // the cluster answered, with a refusal: say which
		fmt.Fprintf(e.stderr, "saved locally; not synced yet: %s\n", strings.TrimPrefix(err.Error(), "syncer: "))
	}
}

func (e *env) cmdJoin(args []string) error {
	if err := arity("join", args, 1, 1, "LIST_ID"); err != nil {
		return err
	}
	id, err := uuid.Parse(strings.TrimSpace(args[0]))
	if err == nil {
		err = protocol.CheckListID(id)
	}
	if err != nil {
		return fmt.Errorf("%q is not a list ID (a random UUID such as 6f1c0e2a-9b3d-4c5e-8f70-112233445566)", args[0])
	}
	if e.opts.noProxy {
		return fmt.Errorf("join needs the network: %w", errNoProxy)
	}
	if e.opts.offline {
		return errors.New("join needs the network; run it without --offline")
	}
	ctx, cancel := context.WithTimeout(e.ctx, fullSync)
	defer cancel()
	if err := e.join(ctx, id); err != nil {
		return err
	}
	en, err := e.store.Get(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "joined %q (%d items)\n", en.List.Name(), len(en.List.Items()))
	return nil
}

func (e *env) cmdSync(args []string) error {
	if err := arity("sync", args, 0, 0, ""); err != nil {
		return err
	}
	if e.opts.noProxy {
		return fmt.Errorf("sync needs the network: %w", errNoProxy)
	}
	if e.opts.offline {
		return errors.New("sync needs the network; run it without --offline")
	}
	ctx, cancel := context.WithTimeout(e.ctx, fullSync)
	defer cancel()
	before, _ := e.store.All()
	if err := e.syncLists(ctx); err != nil {
		pending := 0
		all, _ := e.store.All()
		for _, en := range all {
			if en.Pending {
				pending++
			}
		}
		why := strings.TrimPrefix(err.Error(), "syncer: ")
		if errors.Is(err, syncer.ErrOffline) {
			why = fmt.Sprintf("cannot reach the cluster at %s", e.proxies())
		}
		return fmt.Errorf("sync incomplete: %s; %d of %d lists have unpushed changes, kept locally", why, pending, len(all))
	}
	after, _ := e.store.All()
	fmt.Fprintln(e.stdout, syncSummary(before, after))
	return nil
}

// syncSummary says what a sync did to each list, from the lists before and
// after it: pushed (it had unpushed changes), updated (the cluster had
// changes it did not), up to date.
func syncSummary(before, after []replica.Entry) string {
	if len(after) == 0 {
		return "no lists to sync"
	}
	was := map[uuid.UUID]replica.Entry{}
	for _, en := range before {
		was[en.List.ID()] = en
	}
	var pushed, updated, same int
	for _, en := range after {
		old, ok := was[en.List.ID()]
		switch {
		case ok && old.Pending:
			pushed++
		case !ok || old.List.MaxStamp() != en.List.MaxStamp():
			updated++
		default:
			same++
		}
	}
	var parts []string
	if same > 0 {
		parts = append(parts, plural(same, "list")+" up to date")
	}
	if pushed > 0 {
		parts = append(parts, fmt.Sprintf("%d pushed", pushed))
	}
	if updated > 0 {
		parts = append(parts, fmt.Sprintf("%d updated from the cluster", updated))
	}
	return strings.Join(parts, ", ")
}

func (e *env) cmdForget(args []string) error {
	force, rest := e.flags["force"], args
	if err := arity("forget", rest, 1, 1, "LIST [--force]"); err != nil {
		return err
	}
	id, err := e.store.Resolve(rest[0])
	if err != nil {
		return describe(err, "")
	}
	if !force && !e.opts.offline {
		// Give unpushed changes a chance to reach the cluster first.
		if en, err := e.store.Get(id); err == nil && en.Pending {
			ctx, cancel := context.WithTimeout(e.ctx, editSync)
			e.syncLists(ctx, id)
			cancel()
		}
	}
	// Forget itself checks again, under the replica's lock.
	if err := e.store.Forget(id, force); errors.Is(err, replica.ErrPending) {
		en, _ := e.store.Get(id)
		return fmt.Errorf("%q has changes the cluster does not have yet; run `client sync` first, or `client forget %s --force` to drop them", en.List.Name(), id)
	} else if err != nil {
		return describe(err, "")
	}
	return nil
}

// quantity parses a QTY argument.
func quantity(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("quantity %s: at most %d at a time", s, crdt.MaxQuantity)
	}
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("quantity %q: want a whole number of at least 1", s)
	}
	if n > crdt.MaxQuantity {
		return 0, fmt.Errorf("quantity %d: at most %d at a time", n, crdt.MaxQuantity)
	}
	return n, nil
}

// describe turns a library error into the one line a person reads.
func describe(err error, nameOf string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replica.ErrNotFound), errors.Is(err, replica.ErrAmbiguous):
		return errors.New(detail(err, errors.New("replica:")))
	case errors.Is(err, crdt.ErrInvalidName):
		return fmt.Errorf("invalid %s: %s", nameOf, detail(err, crdt.ErrInvalidName))
	case errors.Is(err, crdt.ErrNotFound):
		return fmt.Errorf("no such item: %s", detail(err, crdt.ErrNotFound))
	case errors.Is(err, crdt.ErrOverBuy):
		return fmt.Errorf("cannot buy that many: %s", detail(err, crdt.ErrOverBuy))
	case errors.Is(err, errOverUnbuy):
		return fmt.Errorf("cannot unbuy that many: %s", detail(err, errOverUnbuy))
	case errors.Is(err, crdt.ErrInvalidQuantity):
		return fmt.Errorf("invalid quantity: %s", detail(err, crdt.ErrInvalidQuantity))
	case errors.Is(err, crdt.ErrDeleted):
		return fmt.Errorf("%s; `client restore LIST` brings it back, `client forget LIST` removes your copy", detail(err, crdt.ErrDeleted))
	case errors.Is(err, crdt.ErrNotDeleted):
		return fmt.Errorf("nothing to restore: %s is not deleted", detail(err, crdt.ErrNotDeleted))
	case errors.Is(err, crdt.ErrTooLarge):
		return fmt.Errorf("the list is full (at most %d items)", crdt.MaxItems)
	}
	return err
}

// detail returns what err's text says after the last occurrence of the
// sentinel's text: the part that is about this case, not the layers that
// wrapped it.
func detail(err, sentinel error) string {
	s := err.Error()
	if i := strings.LastIndex(s, sentinel.Error()); i >= 0 {
		s = strings.TrimLeft(s[i+len(sentinel.Error()):], ": ")
	}
	return s
}
