package tui

import "github.com/charmbracelet/bubbles/key"

// globalKeyMap holds the keys that work on every screen.
type globalKeyMap struct {
	Quit, ForceQuit, Help key.Binding
}

var globalKeys = globalKeyMap{
	Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
}

// listsKeyMap holds the keys of the lists screen; it is a help.KeyMap.
type listsKeyMap struct {
	Up, Down, Top, Bottom                key.Binding
	Open, New, Join, Forget, Filter, Esc key.Binding
	Delete, Name                         key.Binding
}

var listsKeys = listsKeyMap{
	Up:     key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
	Down:   key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
	Top:    key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
	Bottom: key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
	Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	New:    key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
	Join:   key.NewBinding(key.WithKeys("j"), key.WithHelp("j", "join by ID")),
	Forget: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "forget")),
	Delete: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "delete")),
	Name:   key.NewBinding(key.WithKeys("@"), key.WithHelp("@", "your name")),
	Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
	Esc:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
}

// ShortHelp implements help.KeyMap: the screen's keys, most used first; the
// root adds the keys to see the rest and to quit.
func (k listsKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.New, k.Join, k.Forget, k.Filter}
}

// FullHelp implements help.KeyMap.
func (k listsKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom},
		{k.Open, k.New, k.Join, k.Forget},
		{k.Delete, k.Name, k.Filter, k.Esc},
		{globalKeys.Help, globalKeys.Quit},
	}
}

// listKeyMap holds the keys of the list screen; it is a help.KeyMap.
type listKeyMap struct {
	Up, Down, Top, Bottom          key.Binding
	Toggle, Buy, Add, Inc, Dec, Rm key.Binding
	Category, Note, Clear, Undo    key.Binding
	Search, Rename, Share, Back    key.Binding
	Delete                         key.Binding
}

var listKeys = listKeyMap{
	Up:       key.NewBinding(key.WithKeys("up", "k", "ctrl+p"), key.WithHelp("↑/k", "up")),
	Down:     key.NewBinding(key.WithKeys("down", "j", "ctrl+n"), key.WithHelp("↓/j", "down")),
	Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
	Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
	Toggle:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "check")),
	Buy:      key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "buy n")),
	Add:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
	Inc:      key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "want more")),
	Dec:      key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "want fewer")),
	Rm:       key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "remove")),
	Category: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "category")),
	Note:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "note")),
	Clear:    key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "clear bought")),
	Undo:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo")),
	Search:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
	Rename:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rename list")),
	Share:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "share")),
	Delete:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "delete")),
	Back:     key.NewBinding(key.WithKeys("esc", "backspace", "left"), key.WithHelp("esc", "back")),
}

// ShortHelp implements help.KeyMap.
func (k listKeyMap) ShortHelp() []key.Binding {
	qty := key.NewBinding(key.WithKeys("+", "-"), key.WithHelp("+/-", "qty"))
	return []key.Binding{k.Add, k.Toggle, k.Back, k.Undo, k.Search, k.Rm, k.Category, k.Clear, k.Buy, qty, k.Share}
}

// FullHelp implements help.KeyMap.
func (k listKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom},
		{k.Add, k.Toggle, k.Buy, k.Rm},
		{k.Inc, k.Dec, k.Category, k.Note},
		{k.Clear, k.Undo, k.Search, k.Rename},
		{k.Share, k.Delete, k.Back, globalKeys.Help, globalKeys.Quit},
	}
}

// filterKeyMap holds the keys while typing a filter; it is a help.KeyMap.
type filterKeyMap struct{ Apply, Clear key.Binding }

var filterKeys = filterKeyMap{
	Apply: key.NewBinding(key.WithKeys("enter", "down", "up"), key.WithHelp("enter", "keep filter")),
	Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
}

// ShortHelp implements help.KeyMap.
func (k filterKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Apply, k.Clear}
}

// FullHelp implements help.KeyMap.
func (k filterKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Apply, k.Clear, globalKeys.ForceQuit}}
}

// promptKeyMap holds the keys of a text prompt; it is a help.KeyMap.
type promptKeyMap struct{ Submit, Cancel, Complete key.Binding }

var promptKeys = promptKeyMap{
	Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok")),
	Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
}

// ShortHelp implements help.KeyMap.
func (k promptKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k promptKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Cancel, k.Complete, globalKeys.ForceQuit}}
}

// confirmKeyMap holds the keys of a yes/no question; it is a help.KeyMap.
type confirmKeyMap struct{ Yes, No key.Binding }

var confirmKeys = confirmKeyMap{
	Yes: key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
	No:  key.NewBinding(key.WithKeys("n", "N", "esc", "q"), key.WithHelp("n/esc", "no")),
}

// ShortHelp implements help.KeyMap.
func (k confirmKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Yes, k.No} }

// FullHelp implements help.KeyMap.
func (k confirmKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// shareKeyMap holds the keys of the share dialog; it is a help.KeyMap.
type shareKeyMap struct{ Copy, Close key.Binding }

var shareKeys = shareKeyMap{
	Copy:  key.NewBinding(key.WithKeys("c", "y"), key.WithHelp("c", "copy again")),
	Close: key.NewBinding(key.WithKeys("esc", "enter", "s", "q"), key.WithHelp("esc", "close")),
}

// ShortHelp implements help.KeyMap.
func (k shareKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Copy, k.Close} }

// FullHelp implements help.KeyMap.
func (k shareKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
