package scenarios

// A reaction's let: values computed once per message, after its gate and before its
// actions, so its actions and its reply can read the state as it was when the message
// arrived (a release that says whether it released anything).

// checkLet checks a reaction's let: and returns the names its actions and reply may read.
func (c *compiler) checkLet(rc fileReaction, roots rootSet) rootSet {
	if rc.Let == nil {
		return roots
	}
	if rc.Let.kind != yMap {
		c.errAt(rc.Let.pos, "reaction on %s: let: want name: value lines, got %s", rc.On, rc.Let.describe())
		return roots
	}
	for _, k := range rc.Let.keys {
		if !isName(k.text) {
			c.errAt(k.pos, "reaction on %s: let %q: a name of letters, digits, - and _", rc.On, k.text)
		}
	}
	c.checkPayload(rc.Let, roots)
	return rootsWith(roots, "let")
}

// withLet evaluates a reaction's let: in sc and adds it as let; a value that cannot be
// evaluated is reported and reads as null.
func (fr *fileRun) withLet(rc *fileReaction, sc scope) scope {
	if rc.Let == nil {
		return sc
	}
	v, err := fr.value(rc.Let, sc, false)
	if err != nil {
		fr.errRun(rc.Let.pos, "%v", err)
		v = newObject()
	}
	return sc.with("let", v)
}
