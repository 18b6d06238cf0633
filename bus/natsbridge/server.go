package natsbridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"mfelab/bus"
)

// DefaultListen is where Serve listens unless told otherwise: the standard NATS port,
// on the loopback interface only, so nothing outside this machine can join.
const DefaultListen = "127.0.0.1:4222"

// ServerOptions configure an embedded NATS server.
type ServerOptions struct {
	// Listen is the host:port for NATS clients (default DefaultListen). Port 0 picks a
	// free port. Use 0.0.0.0:4222 to let other machines join.
	Listen string
	// WebSocket, when set, is the host:port of a websocket listener for browser clients.
	// It is plain ws://, without TLS: keep it on a trusted network.
	WebSocket string
	// Apps, when set, become the server's users: one per app, named after it, with the
	// permissions of its ACL (see UserFor). Clients must then log in as one of them.
	Apps []bus.AppConfig
	// Password gives each app's user its password (default: no password).
	Password func(app string) string
	// Logger receives the server's log (default slog.Default()); debug and trace lines
	// are left out.
	Logger *slog.Logger
}

// Server is an embedded NATS server.
type Server struct {
	s     *server.Server
	url   string
	wsURL string
}

// Serve starts an embedded NATS server and returns once it accepts connections.
func Serve(opts ServerOptions) (*Server, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	host, port, err := splitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: listen address: %w", err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else if err := checkFree(host, port); err != nil {
		return nil, fmt.Errorf("natsbridge: cannot listen on %s (is another server running there? choose another port): %w", opts.Listen, err)
	}
	so := &server.Options{Host: host, Port: port, NoSigs: true, NoSystemAccount: true, MaxPayload: 1 << 20}
	if opts.WebSocket != "" {
		wh, wp, err := splitHostPort(opts.WebSocket)
		if err != nil {
			return nil, fmt.Errorf("natsbridge: websocket address: %w", err)
		}
		if wp == 0 {
			if wp, err = freePort(wh); err != nil {
				return nil, fmt.Errorf("natsbridge: websocket address: %w", err)
			}
		} else if err := checkFree(wh, wp); err != nil {
			return nil, fmt.Errorf("natsbridge: cannot listen for websockets on %s (choose another port): %w", opts.WebSocket, err)
		}
		so.Websocket = server.WebsocketOpts{Host: wh, Port: wp, NoTLS: true}
	}
	hashed := map[string]string{} // each distinct password is hashed once
	for _, app := range opts.Apps {
		pw := ""
		if opts.Password != nil {
			pw = opts.Password(app.Name)
		}
		if pw != "" {
			// The server keeps and compares a bcrypt hash, never the password itself. The
			// hash lives only in this process's memory, not on disk where it could be taken
			// and cracked at leisure, so the lowest cost serves: a higher one would only
			// slow down every client's login.
			if h, ok := hashed[pw]; ok {
				pw = h
			} else {
				h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
				if err != nil {
					return nil, fmt.Errorf("natsbridge: password of %q: %w", app.Name, err)
				}
				hashed[pw], pw = string(h), string(h)
			}
		}
		u, err := UserFor(app, pw)
		if err != nil {
			return nil, fmt.Errorf("natsbridge: %w", err)
		}
		so.Users = append(so.Users, u)
	}
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: server: %w", err)
	}
	s.SetLogger(&slogAdapter{l: opts.Logger.With("component", "nats-server")}, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natsbridge: server did not start listening on %s (is the port in use?)", opts.Listen)
	}
	srv := &Server{s: s}
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		s.Shutdown()
		return nil, errors.New("natsbridge: server has no TCP address")
	}
	srv.url = "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	if opts.WebSocket != "" {
		srv.wsURL = "ws://" + net.JoinHostPort(so.Websocket.Host, strconv.Itoa(so.Websocket.Port))
	}
	return srv, nil
}

// URL is the address clients connect to, as nats://host:port with the host it listens
// on (0.0.0.0 when it listens on every interface: give others this machine's address).
func (s *Server) URL() string { return s.url }

// WebSocketURL is the websocket address, or "" when there is none.
func (s *Server) WebSocketURL() string { return s.wsURL }

// Clients is how many clients are connected.
func (s *Server) Clients() int { return s.s.NumClients() }

// Close shuts the server down, closing every client connection, and waits until it has.
func (s *Server) Close() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

func splitHostPort(hp string) (string, int, error) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want a number from 0 to 65535", p)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// checkFree reports whether host:port can be listened on now, so that a port in use is
// an error at once, with the reason, rather than a server that never becomes ready.
func checkFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// freePort asks the system for a free port on host; the server takes it just after.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// slogAdapter is the server's logger: notices are Info, and a fatal error is logged as an
// error rather than ending the process, which the embedding program decides.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) Noticef(format string, v ...any) { a.l.Info(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Tracef(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
