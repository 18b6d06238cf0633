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

	"mfelab/bus/natsbridge"
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
	srv, err := natsbridge.Serve(natsbridge.ServerOptions{Listen: *listen, WebSocket: *websocket, Logger: logger})
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
	}
	if strings.Contains(srv.URL(), "127.0.0.1") || strings.Contains(srv.URL(), "[::1]") {
		fmt.Fprintf(stdout, "It listens on this machine only; -listen 0.0.0.0:4222 lets other machines join.\n")
	}
	fmt.Fprintf(stdout, "Stop with Ctrl-C.\n")
	<-ctx.Done()
	fmt.Fprintf(stdout, "Stopping: %d client(s) disconnected.\n", srv.Clients())
	return exitOK
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
