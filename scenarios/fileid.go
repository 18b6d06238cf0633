package scenarios

// A file's id names its runs in the picker, on the command line and in the history, so
// it must never be the id of a built-in scenario (a recorded run would be taken for the
// built-in one's and run again as such) nor the id runs of replayed logs carry.

// checkOwnID refuses an id that is taken, at the id: key.
func (c *compiler) checkOwnID(id string) {
	if id == ReplayID {
		c.errAt(c.keyPos("id"), "id %q is what replayed logs are called; give the file an id of its own, such as my-%s", id, id)
		return
	}
	if s, err := Get(id); err == nil {
		c.errAt(c.keyPos("id"), "id %q is the built-in scenario %q; give the file an id of its own, such as file-%s", id, s.Title, id)
	}
}
