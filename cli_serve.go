package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
	"mfelab/scenarios"
)

// cmdServe runs `mfelab serve` until SIGINT or SIGTERM.
func cmdServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs an embedded NATS server that buses in other processes join, until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", natsbridge.DefaultListen, "host:port for NATS clients; 0.0.0.0:4222 lets other machines join, port 0 picks a free one")
	websocket := fs.String("websocket", "", "host:port of a websocket listener for browsers (plain ws://, no TLS)")
	acl := fs.Bool("acl", false, "make each microfrontend a user whose NATS permissions are its ACL; clients then log in as an app")
	password := fs.String("password", "", "with -acl: every app user's password (default: $"+envNATSPassword+", else none)")
	verbose := fs.Bool("v", false, "log the server's connections and errors")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab serve: unexpected %q\n", fs.Args())
		return exitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var err error
	opts := natsbridge.ServerOptions{Listen: *listen, WebSocket: *websocket, Logger: logger}
	if *acl {
		if opts.Apps, err = labApps(); err != nil {
			fmt.Fprintf(stderr, "mfelab serve: %v\n", err)
			return exitFail
		}
		pw := *password
		if pw == "" {
			pw = os.Getenv(envNATSPassword)
		}
		opts.Password = func(string) string { return pw }
	} else if *password != "" {
		fmt.Fprintf(stderr, "mfelab serve: -password needs -acl\n")
		return exitUsage
	}
	srv, err := natsbridge.Serve(opts)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab serve: %v\n", err)
		return exitFail
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "NATS server running. Give others this address to join the bus:\n")
	for _, u := range shareURLs(srv.URL()) {
		fmt.Fprintf(stdout, "  %s\n", u)
	}
	if ws := srv.WebSocketURL(); ws != "" {
		fmt.Fprintf(stdout, "Browsers connect by websocket to:\n")
		for _, u := range shareURLs(ws) {
			fmt.Fprintf(stdout, "  %s\n", u)
		}
		fmt.Fprintf(stdout, "  (docs/browser/index.html is a microfrontend that joins from a browser: open it and connect to this address)\n")
	}
	if *acl {
		names := make([]string, len(opts.Apps))
		for i, a := range opts.Apps {
			names[i] = a.Name
		}
		fmt.Fprintf(stdout, "Clients log in as one of the apps, which may do only what its ACL allows: %s\n", strings.Join(names, ", "))
		fmt.Fprintf(stdout, "  (as nats://APP:PASSWORD@host:port)\n")
	}
	if strings.Contains(srv.URL(), "127.0.0.1") || strings.Contains(srv.URL(), "[::1]") {
		fmt.Fprintf(stdout, "It listens on this machine only; -listen 0.0.0.0:4222 lets other machines join.\n")
	}
	fmt.Fprintf(stdout, "Stop with Ctrl-C.\n")
	<-ctx.Done()
	fmt.Fprintf(stdout, "Stopping: %d client(s) disconnected.\n", srv.Clients())
	return exitOK
}

// envNATSPassword names the environment variable that holds the app users' password, so
// it need not appear in a process listing.
const envNATSPassword = "MFELAB_NATS_PASSWORD"

// labApps returns the declarations of the lab's microfrontends, ACLs included, as a run
// of any scenario sets them up.
func labApps() ([]bus.AppConfig, error) {
	all := scenarios.All()
	if len(all) == 0 {
		return nil, fmt.Errorf("no scenario to take the apps from")
	}
	run, err := scenarios.Start(all[0], 0, nil)
	if err != nil {
		return nil, fmt.Errorf("the lab's apps: %w", err)
	}
	var out []bus.AppConfig
	for _, a := range run.World.Apps() {
		out = append(out, a.Conn.Config())
	}
	return out, nil
}

// shareURLs turns a URL on an unspecified host (every interface) into one per address of
// this machine, which is what someone else can dial.
func shareURLs(u string) []string {
	scheme, hostport, ok := strings.Cut(u, "://")
	if !ok {
		return []string{u}
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || !net.ParseIP(host).IsUnspecified() {
		return []string{u}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return []string{u}
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
			out = append(out, scheme+"://"+net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	if len(out) == 0 {
		return []string{u}
	}
	return out
}
