"""One use case per module, named for what it does."""
