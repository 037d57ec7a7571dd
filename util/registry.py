"""A name -> builder table for the choices a flag makes (--netG, --netD), with errors that list the names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Registry:
    """Builders registered under names; `get` raises ValueError naming the flag and the known names.

    Args:
        kind: what is registered, for messages (e.g. 'generator').
        flag: the option that picks an entry (e.g. '--netG').
    """

    def __init__(self, kind: str, flag: str) -> None:
        self.kind = kind
        self.flag = flag
        self._builders: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: `@REGISTRY.register('name')` above a builder function or class."""
        def add(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._builders[name] = builder
            return builder
        return add

    def names(self) -> list[str]:
        return sorted(self._builders)

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._builders:
            raise ValueError(f"{self.flag} {name}: unknown {self.kind}; known: {', '.join(self.names())}")
        return self._builders[name]
