"""Plugging other implementations into kmodel.

* `--impl NAME=package.module:Class` replaces the reference actor called NAME with an
  instance of the user's class (see docs/plugins.md for the interface: it reads a
  ClusterState and returns API requests);
* `--plugin package.module` (or an installed distribution's `kmodel.plugins` entry
  point) imports a module that registers custom kinds, controllers and invariants:
  it defines `register(registry: PluginRegistry) -> None`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kmodel.actors import Actor
from kmodel.errors import KModelError
from kmodel.objects.kinds import KindInfo, register_kind

ENTRY_POINT_GROUP = "kmodel.plugins"


class PluginError(KModelError):
    """A plugin or implementation could not be loaded."""


def load_object(spec: str) -> Any:
    """`package.module:attr` → the attribute (a class or a factory)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise PluginError(f"{spec!r}: expected package.module:Name")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise PluginError(f"{spec!r}: cannot import {module_name!r}: {e}") from None
    try:
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise PluginError(f"{spec!r}: module {module_name!r} has no attribute {attr!r}") from None
    return obj


def check_actor(actor: Any, where: str) -> Actor:
    """Verify that `actor` implements the Actor protocol (name, candidates, requests, deadlines)."""
    missing = [m for m in ("candidates", "requests", "deadlines") if not callable(getattr(actor, m, None))]
    if missing or not isinstance(getattr(actor, "name", None), str):
        what = ", ".join(missing + ([] if isinstance(getattr(actor, "name", None), str) else ["name"]))
        raise PluginError(f"{where}: not a kmodel actor (missing {what}); see docs/plugins.md")
    return actor  # type: ignore[no-any-return]


def load_impl(option: str) -> Actor:
    """Parse `NAME=package.module:Class` and build the actor; its name becomes NAME."""
    name, sep, spec = option.partition("=")
    if not sep or not name or not spec:
        raise PluginError(f"--impl {option!r}: expected NAME=package.module:Class, e.g. daemonset=mypkg.ds:Controller")
    target = load_object(spec)
    try:
        actor = target() if callable(target) else target
    except Exception as e:  # noqa: BLE001 - report the user's constructor failure clearly
        raise PluginError(f"--impl {option!r}: constructing {spec} failed: {type(e).__name__}: {e}") from None
    actor = check_actor(actor, f"--impl {option!r}")
    try:
        actor.name = name  # type: ignore[misc]
    except AttributeError:
        raise PluginError(f"--impl {option!r}: the actor's name cannot be set to {name!r}") from None
    return actor


@dataclass
class PluginRegistry:
    """What a plugin's `register` function may add."""

    actors: list[Actor] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def kind(self, info: KindInfo) -> None:
        """Register a custom kind (use cls=None for an opaque body: spec/status as JSON)."""
        register_kind(info)

    def controller(self, actor: Any) -> None:
        """Add a controller (an Actor) to every model built after loading."""
        self.actors.append(check_actor(actor, f"plugin controller {getattr(actor, 'name', actor)!r}"))

    def invariant_module(self, module: str) -> None:
        """Import a module whose `@invariant` decorators register invariants."""
        importlib.import_module(module)


REGISTRY = PluginRegistry()


def load_plugin(module_name: str) -> None:
    """Import a plugin module and call its `register(registry)`."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise PluginError(f"--plugin {module_name!r}: cannot import: {e}") from None
    register: Callable[[PluginRegistry], None] | None = getattr(module, "register", None)
    if register is None:
        raise PluginError(f"--plugin {module_name!r}: the module defines no register(registry) function")
    if module_name in REGISTRY.sources:
        return
    register(REGISTRY)
    REGISTRY.sources.append(module_name)


def load_entry_point_plugins() -> list[str]:
    """Load every plugin installed under the `kmodel.plugins` entry-point group."""
    loaded = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        load_plugin(ep.value.split(":")[0])
        loaded.append(ep.name)
    return loaded


def plugin_actors() -> list[Actor]:
    """Controllers registered by plugins."""
    return list(REGISTRY.actors)
