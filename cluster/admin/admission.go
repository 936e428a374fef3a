package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// AdmitRequest is the body of POST /v1/admit and, without a key, of POST
// /v1/revoke.
type AdmitRequest struct {
	Server string `json:"server"`
	Key    string `json:"key,omitempty"` // the server's CURVE public key, Z85
}

// AdmitReply is the answer of POST /v1/admit and POST /v1/revoke.
type AdmitReply struct {
	Server string `json:"server"`
	// Action is "admit" or "revoke".
	Action string `json:"action"`
}

// Admit asks the proxy at addr to admit storage server id to the
// backend with the CURVE public key key. It returns once the admission is
// committed.
func (c *Client) Admit(ctx context.Context, addr, id, key string) (AdmitReply, error) {
	return c.admission(ctx, addr, "/v1/admit", AdmitRequest{Server: id, Key: key})
}

// Revoke asks the proxy at addr to withdraw server id's admission. It
// returns once the revocation is committed.
func (c *Client) Revoke(ctx context.Context, addr, id string) (AdmitReply, error) {
	return c.admission(ctx, addr, "/v1/revoke", AdmitRequest{Server: id})
}

func (c *Client) admission(ctx context.Context, addr, path string, req AdmitRequest) (AdmitReply, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return AdmitReply{}, fmt.Errorf("admin: encoding the request: %w", err)
	}
	var reply AdmitReply
	err = c.do(ctx, addr, http.MethodPost, path, "application/json", body, false, maxReplySize, &reply)
	return reply, err
}

// admit serves POST /v1/admit: the Node commits the admission (on the
// leader, which logs it).
func (s *Server) admit(ctx context.Context, r *http.Request) (any, error) {
	var req AdmitRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := protocol.CheckServerID(req.Server); err != nil {
		return nil, fmt.Errorf("%w: server ID: %w", ErrBadRequest, err)
	}
	if err := curvekey.CheckPublic(req.Key); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := s.node.Admit(ctx, req.Server, req.Key); err != nil {
		return nil, err
	}
	s.log.Info("server admitted by an operator", "server", req.Server, "key", req.Key)
	return AdmitReply{Server: req.Server, Action: "admit"}, nil
}

// revoke serves POST /v1/revoke.
func (s *Server) revoke(ctx context.Context, r *http.Request) (any, error) {
	var req AdmitRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := protocol.CheckServerID(req.Server); err != nil {
		return nil, fmt.Errorf("%w: server ID: %w", ErrBadRequest, err)
	}
	if req.Key != "" {
		return nil, fmt.Errorf("%w: a revocation names the server only", ErrBadRequest)
	}
	if err := s.node.Revoke(ctx, req.Server); err != nil {
		return nil, err
	}
	s.log.Info("server's admission revoked by an operator", "server", req.Server)
	return AdmitReply{Server: req.Server, Action: "revoke"}, nil
}

// AdmitMain runs `proxy admit --id SERVER_ID --key KEY|@FILE` with args
// (after "admit"): it admits a storage server to the proxies' backend
// with its CURVE public key, given as Z85 or as @FILE (the server's
// DATA/curve/server.pub). It returns once the admission is committed: 0,
// 1 on failure, 2 for bad usage.
func AdmitMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy admit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "`ID` of the storage server to admit (its --id, or DATA/server-id)")
	keyArg := fs.String("key", "", "the server's CURVE public `key`: Z85 text, or @FILE, such as @DATA/curve/server.pub of the server")
	run := adminFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy admit --id SERVER_ID --key KEY|@FILE [flags]")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, 0); !ok {
		return code
	}
	if *id == "" || *keyArg == "" {
		fmt.Fprintln(stderr, "proxy admit: give --id and --key")
		fs.Usage()
		return 2
	}
	key, err := curvekey.ParsePublic(*keyArg)
	if err != nil {
		fmt.Fprintf(stderr, "proxy admit: --key: %v\n", err)
		return 2
	}
	return run(ctx, "proxy admit "+*id, stdout, stderr, func(ctx context.Context, c *Client, addr string) (string, error) {
		if _, err := c.Admit(ctx, addr, *id, key); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s admitted with key %s: the proxies accept its connections\n", *id, key), nil
	})
}

// RevokeMain runs `proxy revoke --id SERVER_ID` with args (after
// "revoke"): the proxies refuse the server's connections and messages
// from then on. The server stays a ring member (`proxy remove` takes it
// out). It returns once the revocation is committed: 0, 1 on failure, 2
// for bad usage.
func RevokeMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "`ID` of the storage server whose admission to withdraw")
	run := adminFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy revoke --id SERVER_ID [flags]")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, 0); !ok {
		return code
	}
	if *id == "" {
		fmt.Fprintln(stderr, "proxy revoke: give --id")
		fs.Usage()
		return 2
	}
	return run(ctx, "proxy revoke "+*id, stdout, stderr, func(ctx context.Context, c *Client, addr string) (string, error) {
		if _, err := c.Revoke(ctx, addr, *id); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s's admission revoked: the proxies refuse its connections (proxy remove %s takes it out of the ring)\n", *id, *id), nil
	})
}

// adminCall is one change through the admin API at addr; it returns what
// to print once it is done.
type adminCall func(ctx context.Context, c *Client, addr string) (string, error)

// adminFlags adds --admin, --timeout and the credentials' flags to fs, and
// returns what runs a change through the first of the --admin addresses
// that can be reached (any answer is the group's: only an address that
// cannot be reached is passed over), printing its outcome; it returns the
// exit code.
func adminFlags(fs *flag.FlagSet) func(ctx context.Context, what string, stdout, stderr io.Writer, call adminCall) int {
	addrs := fs.String("admin", DefaultAddr, "admin `ADDR[,ADDR...]` of the proxies to ask, in order, until one answers")
	timeout := fs.Duration("timeout", defaultRemoveTimeout, "give up after this long")
	client := credentialFlags(fs)
	return func(ctx context.Context, what string, stdout, stderr io.Writer, call adminCall) int {
		c, err := client()
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", what, err)
			return 1
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		var errs []error
		for _, a := range SplitAddrs(*addrs) {
			out, err := call(ctx, c, a)
			if err == nil {
				io.WriteString(stdout, out)
				return 0
			}
			errs = append(errs, fromAddr(a, err))
			var remote *RemoteError
			if errors.As(err, &remote) || ctx.Err() != nil {
				break
			}
		}
		if len(errs) == 0 {
			fmt.Fprintf(stderr, "%s: no admin address given\n", fs.Name())
			return 2
		}
		fmt.Fprintf(stderr, "%s: %v\n", what, errors.Join(errs...))
		return 1
	}
}
