"""The scopes a token's claims grant, alike for a JWT and an introspection answer."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.token_claims import MalformedScope, scopes_of


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({}, set()),
        ({"scope": ""}, set()),
        ({"scope": "openid  mfa:manage "}, {"openid", "mfa:manage"}),
        ({"scope": "openid\tmfa:manage"}, {"openid\tmfa:manage"}),
        ({"scope": "a\nb c"}, {"a\nb", "c"}),
        ({"scp": ["openid", "mfa:manage"]}, {"openid", "mfa:manage"}),
        ({"scp": "openid mfa:manage"}, {"openid", "mfa:manage"}),
        ({"scope": "a", "scp": ["b"]}, {"a", "b"}),
    ],
)
def test_scopes_are_separated_by_spaces_only(claims: dict[str, Any], scopes: set[str]) -> None:
    assert scopes_of(claims) == scopes


@pytest.mark.parametrize(
    "claims", [{"scope": ["a"]}, {"scope": 7}, {"scp": [1]}, {"scp": {"a": 1}}]
)
def test_a_scope_claim_of_another_type_is_malformed(claims: dict[str, Any]) -> None:
    with pytest.raises(MalformedScope):
        scopes_of(claims)
