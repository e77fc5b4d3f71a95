"""Vault (or OpenBao) transit encryption of TOTP secrets (SECURITY.md S4-S6).

``client`` connects and authenticates, ``gateway`` runs the blocking hvac calls off the event loop
within a bound, ``errors`` is the one place that turns Vault's failures into application errors,
``transit_cipher`` implements the SecretCipher port (``coalescer`` optionally merges concurrent calls
into one batch), ``setup`` creates and checks the key and writes the policies, ``names`` holds the
default key and mount, ``probe`` answers readiness, and ``binding_check`` proves at start-up that
ciphertexts are bound to their owner.
"""
