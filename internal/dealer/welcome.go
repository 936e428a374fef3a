package dealer

import (
	"fmt"

	"shoplist/protocol"
)

// Welcome reads the reply to a Hello: the Welcome's body, or why there is
// none. An Error reply is returned as its protocol.ErrorBody, a reply of
// another type as ErrUnexpectedReply, and a body that does not decode, or
// names no PUB endpoint, as the decoding error (protocol.ErrMalformed and
// friends), unwrapped.
func Welcome(reply protocol.Message) (protocol.WelcomeBody, error) {
	switch reply.Type {
	case protocol.TypeWelcome:
	case protocol.TypeError:
		return protocol.WelcomeBody{}, reply.Err()
	default:
		return protocol.WelcomeBody{}, fmt.Errorf("%w: %v to Hello, want Welcome", ErrUnexpectedReply, reply.Type)
	}
	body, err := protocol.DecodeWelcomeBody(reply.Body)
	if err == nil && body.PubEndpoint == "" {
		err = fmt.Errorf("%w: no PUB endpoint", protocol.ErrMalformed)
	}
	if err != nil {
		return protocol.WelcomeBody{}, err
	}
	return body, nil
}
