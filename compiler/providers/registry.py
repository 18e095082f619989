"""The registry of cloud providers. The built-ins (aws, gcp, azure) register when
`compiler.providers` is imported; a test or plug-in adds one with `register`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.providers.base import NotSupportedError, Provider

if TYPE_CHECKING:
    from compiler.model.environment import Environment

_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    if provider.name in _PROVIDERS and _PROVIDERS[provider.name] is not provider:
        raise ValueError(f"cloud provider {provider.name!r} is already registered")
    _PROVIDERS[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    _PROVIDERS.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_PROVIDERS)


def get(name: str) -> Provider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise NotSupportedError(name, "compiler", f"registered providers: {', '.join(_PROVIDERS)}") from None


def provider_of(env: Environment) -> Provider:
    return get(env.provider)
