"""Cloud providers: one module per provider, registered here (see base.Provider)."""

from __future__ import annotations

from compiler.providers import aws, azure, gcp
from compiler.providers.base import NotSupportedError, Provider
from compiler.providers.registry import get, names, provider_of, register, unregister

for _module in (aws, gcp, azure):
    register(_module.PROVIDER)

__all__ = ["NotSupportedError", "Provider", "get", "names", "provider_of", "register", "unregister"]
