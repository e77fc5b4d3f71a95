"""Opaque bearer tokens checked at the identity provider's introspection endpoint (RFC 7662), on
authlib's OAuth 2 client."""
