package session

import (
	"log/slog"

	"mfelab/bus/natsbridge"
)

// Shared is a NATS server this process runs so that others can join its bus (`mfelab
// serve` does the same from a terminal): a window shares its bus with one, then joins it.
type Shared struct {
	srv *natsbridge.Server
}

// DefaultShareAddress is where Share listens unless told otherwise: the standard NATS
// port on the loopback interface, so nothing outside this machine can join.
const DefaultShareAddress = natsbridge.DefaultListen

// Share starts a NATS server on listen (host:port; "" for DefaultShareAddress, port 0
// for a free one) for other processes to join. It fails at once, saying so, when the
// address is taken or malformed.
func Share(listen string, logger *slog.Logger) (*Shared, error) {
	srv, err := natsbridge.Serve(natsbridge.ServerOptions{Listen: listen, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &Shared{srv: srv}, nil
}

// URL is the address to give others, nats://host:port.
func (sh *Shared) URL() string { return sh.srv.URL() }

// Clients is how many processes are connected, this one's bridge included.
func (sh *Shared) Clients() int { return sh.srv.Clients() }

// Close stops the server: every process joined to it is cut off and tries to reconnect.
func (sh *Shared) Close() { sh.srv.Close() }
