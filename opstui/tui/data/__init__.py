"""The app's data service: the one place that polls the server, feeding the stores screens show.

Screens never hold a client: they subscribe to the stores' signals and say what they look at
(:meth:`opstui.tui.store.PipelineStore.set_interest`); the feeds here decide what to read when.
"""
