"""Settings → the token verifier: JWT against a JWKS (URL, file or the development issuer's),
RFC 7662 introspection, or both by the token's shape."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

import httpx

from adapters.introspection.answer import AnswerRules
from adapters.introspection.by_shape import JwtOrIntrospection
from adapters.introspection.cache import IntrospectionCache
from adapters.introspection.client import (
    ClientCredentials,
    ClientPrivateKey,
    ClientSecret,
    IntrospectionClient,
)
from adapters.introspection.client_key import load_client_key
from adapters.introspection.verifier import IntrospectionTokenVerifier
from adapters.jwt.caching_verifier import CachingTokenVerifier
from adapters.jwt.jwks_source import JwksFileSource, JwksUrlSource
from adapters.jwt.verifier import JwtTokenVerifier
from adapters.prometheus.jwks import CountedJwksSource
from application.ports.token_verifier import TokenVerifier
from entrypoints.composition.adapters import development_issuer
from entrypoints.settings import IntrospectionAuthMethod, IntrospectionConfig, Settings, TokenMode
from entrypoints.startup_errors import startup_step

Now = Callable[[], float]
"""Seconds since the epoch: token lifetimes, the JWKS cool-down and the introspection cache."""


async def open_token_verifier(settings: Settings, stack: AsyncExitStack, now: Now) -> TokenVerifier:
    if settings.token_mode is TokenMode.INTROSPECTION:
        return await _introspection_verifier(settings, stack, now)
    jwt_verifier = await _jwt_verifier(settings, stack, now)
    if settings.token_mode is TokenMode.BOTH:
        introspection = await _introspection_verifier(settings, stack, now)
        return JwtOrIntrospection(jwt=jwt_verifier, introspection=introspection)
    return jwt_verifier


def _introspection_config(settings: Settings) -> IntrospectionConfig:
    if settings.introspection is None:
        raise ValueError("MFA_INTROSPECTION_URL is not set")
    return settings.introspection


def _introspection_credentials(config: IntrospectionConfig) -> ClientCredentials:
    """The service's client credentials at the identity provider (reads the private key file)."""
    client_id = config.client_id or ""
    if config.auth_method is IntrospectionAuthMethod.PRIVATE_KEY_JWT:
        if config.private_key_file is None:
            raise ValueError("MFA_INTROSPECTION_PRIVATE_KEY_FILE is not set")
        key, algorithm = load_client_key(config.private_key_file)
        return ClientPrivateKey(client_id, key, algorithm)
    if config.auth_method is IntrospectionAuthMethod.CLIENT_SECRET_POST:
        return ClientSecret(client_id, config.client_secret or "", "client_secret_post")
    return ClientSecret(client_id, config.client_secret or "", "client_secret_basic")


async def _introspection_verifier(
    settings: Settings, stack: AsyncExitStack, now: Now
) -> IntrospectionTokenVerifier:
    config = _introspection_config(settings)
    client = IntrospectionClient(
        config.url,
        _introspection_credentials(config),
        timeout_seconds=config.timeout_seconds,
        ca_cert=config.ca_cert,
    )
    stack.push_async_callback(client.aclose)
    return IntrospectionTokenVerifier(
        introspector=client,
        rules=AnswerRules(
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            display_name_claim=settings.account_name_claim,
        ),
        cache=IntrospectionCache(max_age_seconds=config.cache_seconds, now=now),
        now=now,
        required_scope=settings.required_scope,
    )


async def _jwt_verifier(settings: Settings, stack: AsyncExitStack, now: Now) -> TokenVerifier:
    if settings.jwks_url:
        client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
        source: JwksFileSource | JwksUrlSource = JwksUrlSource(settings.jwks_url, client)
    elif settings.jwks_file:
        source = JwksFileSource(settings.jwks_file)
        with startup_step("MFA_JWKS_FILE", str(settings.jwks_file)):
            await source.fetch()
    else:
        source = JwksFileSource(development_issuer(settings).jwks_path)
    verifier = JwtTokenVerifier(
        source=CountedJwksSource(source),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        algorithms=settings.token_algorithms,
        now=now,
        required_scope=settings.required_scope,
        display_name_claim=settings.account_name_claim,
    )
    if settings.token_cache_size == 0:
        return verifier
    return CachingTokenVerifier(verifier, settings.token_cache_size)
