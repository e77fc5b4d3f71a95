"""OpenTelemetry spans around the service's ports and its database engine. Spans carry operation
names, formats and error classes only: never a secret, a code, a token, a ciphertext or a URI."""
