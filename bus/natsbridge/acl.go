package natsbridge

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"

	"mfelab/bus"
)

// Permissions turns an app's ACL into NATS permissions, so that the server refuses what
// the app may not do, whatever the process connecting as the app does locally. Each
// declared pattern becomes its subjects (see SubjectsFor); a nil list (any topic) sets no
// limit, an empty one allows nothing. An invalid pattern is an error.
func Permissions(app bus.AppConfig) (*server.Permissions, error) {
	pub, err := subjectPermission(app.Publish)
	if err != nil {
		return nil, fmt.Errorf("app %q publish ACL: %w", app.Name, err)
	}
	sub, err := subjectPermission(app.Subscribe)
	if err != nil {
		return nil, fmt.Errorf("app %q subscribe ACL: %w", app.Name, err)
	}
	return &server.Permissions{Publish: pub, Subscribe: sub}, nil
}

func subjectPermission(patterns []string) (*server.SubjectPermission, error) {
	if patterns == nil {
		return nil, nil
	}
	allow, err := subjectsForAll(patterns)
	if err != nil {
		return nil, err
	}
	if allow == nil {
		allow = []string{} // allow nothing, which nil would not say
	}
	return &server.SubjectPermission{Allow: allow}, nil
}

// UserFor makes the nats-server user for an app: named after it, with the password given,
// and the permissions of its ACL.
func UserFor(app bus.AppConfig, password string) (*server.User, error) {
	perms, err := Permissions(app)
	if err != nil {
		return nil, err
	}
	return &server.User{Username: app.Name, Password: password, Permissions: perms}, nil
}
