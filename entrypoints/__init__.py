"""The ways in: the HTTP app, the CLI, settings, and the composition root that wires adapters."""
