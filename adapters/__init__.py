"""One folder per technology; each translates between its library and the application's ports."""
