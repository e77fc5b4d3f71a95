"""Vault (or OpenBao) transit encryption of TOTP secrets (SECURITY.md S4-S6).

``settings`` says where Vault is and which credentials to use, ``transport`` holds the pooled async
HTTP client (httpx), ``token`` keeps the service's token fresh (login, renewal, token file),
``client`` puts them together within a deadline, ``errors`` is the one place that turns Vault's
failures into application errors, ``transit_cipher`` implements the SecretCipher port, ``probe``
answers readiness, and ``binding_check`` proves at start-up that ciphertexts are bound to their owner.
The operator's side: ``operator_client`` (hvac, blocking) and ``setup``, which creates and checks
the key and writes the policies; ``names`` holds the default key and mount.
"""
