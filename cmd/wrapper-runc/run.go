package main

// run checks the bundle statically, then becomes the real runtime's run,
// which keeps run's foreground behaviour (stdio, terminal, exit status,
// signal forwarding) exactly.
func (w *wrapper) run() int {
	if err := w.staticCheck(); err != nil {
		w.report.refuse(err)
		return exitRefused
	}
	w.report.close()
	return w.rt.exec(w.inv.Argv())
}
