"""Discovering, loading and recording plugins.

Plugins are found through the ``byop`` entry-point group and loaded lazily, once, the first time
any registry is needed. Each entry point is imported inside its own ``try``: a plugin that fails
to import, or whose hook raises, is recorded with its error and every other plugin still works.
"""

from __future__ import annotations

import difflib
import functools
import os
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from typing import Any, Literal

import attrs
import pluggy
from attrs import frozen

from byop.plugins import _hookspecs
from byop.plugins._errors import PluginLoadError, UnknownFeatureError
from byop.plugins._extras import install_hint

Kind = Literal["optimizers", "samplers", "space_parsers", "backends", "builders", "pruners"]
"""The kinds of feature a plugin can register, one per hook."""

KINDS: tuple[Kind, ...] = (
    "optimizers",
    "samplers",
    "space_parsers",
    "backends",
    "builders",
    "pruners",
)

BLOCK_ENV = "BYOP_BLOCK_PLUGINS"
"""Comma-separated plugin (entry-point) or distribution names that are never loaded."""

STRICT_ENV = "BYOP_STRICT_PLUGINS"
"""When ``1``, a plugin that fails to load raises `PluginLoadError` instead of being recorded."""

BUILTIN_DISTRIBUTION = "byop-core"
"""byop's own features are the plugins of this distribution: they load first."""

_SINGULAR: dict[Kind, str] = {
    "optimizers": "optimizer",
    "samplers": "sampler",
    "space_parsers": "space parser",
    "backends": "back end",
    "builders": "builder",
    "pruners": "pruner",
}


@frozen
class PluginInfo:
    """What byop knows about one plugin.

    Attributes:
        name: The entry-point name (or ``"byop-core"`` for the built-in features).
        distribution: The distribution that ships the plugin, if known.
        version: That distribution's version, if known.
        hooks: The hooks the plugin implements.
        error: Why the plugin does not work (one line), or ``None`` when it loaded.
        traceback: The full traceback of ``error``, when there was an exception.
        blocked: Whether ``BYOP_BLOCK_PLUGINS`` kept the plugin from loading.
        registered: What it registered, as ``(kind, name)`` pairs, in order.
        warnings: What looks wrong but does not stop it working (a misspelt hook, a name
            another plugin took first).
    """

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...] = ()
    error: str | None = None
    traceback: str | None = None
    blocked: bool = False
    registered: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the plugin loaded and registered without error."""
        return self.error is None and not self.blocked


@frozen
class Registration:
    """One registered feature: its kind, name, the object, and the plugin that supplied it."""

    kind: Kind
    name: str
    obj: Any
    plugin: str


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginSystem:
    """Loads plugins once and keeps one registry per kind of feature.

    Most code uses the module-level functions (`list_plugins`, `get`, `available`), which
    share one `PluginSystem`. Tests may build their own with a fixed set of plugins.

    byop's own features are plugins too: the entry points of the ``byop-core``
    distribution, loaded before every other plugin (so a third party cannot take their names).

    Args:
        group: The entry-point group to discover plugins from.
        environ: Where to read `BLOCK_ENV` and `STRICT_ENV` from.
        entry_points: Overrides discovery (for tests); by default the installed entry points.
    """

    def __init__(
        self,
        *,
        group: str = _hookspecs.PROJECT_NAME,
        environ: Mapping[str, str] | None = None,
        entry_points: Callable[[], Iterable[metadata.EntryPoint]] | None = None,
    ) -> None:
        self.group = group
        self._environ = environ
        self._entry_points = entry_points
        self._lock = threading.RLock()
        self._loaded = False
        self._pm = pluggy.PluginManager(_hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(_hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._warnings: list[str] = []
        self._registered: dict[str, list[tuple[str, str]]] = {}
        self._conflicts: dict[str, list[str]] = {}
        self._registries: dict[Kind, dict[str, Registration]] = {k: {} for k in KINDS}

    # ------------------------------------------------------------------ settings
    @property
    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def strict(self) -> bool:
        """Whether a broken plugin raises instead of being recorded (``BYOP_STRICT_PLUGINS``)."""
        return _truthy(self._env.get(STRICT_ENV))

    @property
    def blocked_names(self) -> frozenset[str]:
        """Plugin or distribution names listed in ``BYOP_BLOCK_PLUGINS``."""
        raw = self._env.get(BLOCK_ENV, "")
        return frozenset(n.strip() for n in raw.split(",") if n.strip())

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Load every plugin and fill the registries; later calls do nothing."""
        with self._lock:
            if self._loaded:
                return
            self._load_entry_points()
            self._build_registries()
            self._loaded = True
            self._raise_if_strict()

    def _discover(self) -> list[metadata.EntryPoint]:
        if self._entry_points is not None:
            eps = list(self._entry_points())
        else:
            eps = list(metadata.entry_points(group=self.group))
        return sorted(eps, key=_load_order)

    def _load_entry_points(self) -> None:
        blocked = self.blocked_names
        found = self._discover()
        known = {ep.name for ep in found} | {d for ep in found if (d := _ep_dist_name(ep))}
        for name in sorted(blocked - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self._warnings.append(
                f"{BLOCK_ENV} names {name!r}, which is no installed plugin or distribution{hint}"
            )
        for ep in found:
            dist = _ep_dist_name(ep)
            version = _ep_dist_version(ep)
            if ep.name in self._infos:
                previous = self._infos[ep.name]
                if previous.distribution == dist:
                    continue  # the same distribution seen twice on sys.path
                key = f"{ep.name} ({dist})"
                self._infos[key] = PluginInfo(
                    name=ep.name,
                    distribution=dist,
                    version=version,
                    error=(
                        f"another plugin named {ep.name!r} (from {previous.distribution}) "
                        "was loaded first; rename one of the entry points"
                    ),
                )
                continue
            if ep.name in blocked or (dist is not None and dist in blocked):
                self._infos[ep.name] = PluginInfo(
                    name=ep.name, distribution=dist, version=version, blocked=True
                )
                continue
            module: object | None = None
            try:
                module = ep.load()
                self._pm.register(module, name=ep.name)
            except Exception as e:
                if module is not None and self._pm.is_registered(module):
                    self._pm.unregister(module)
                self._infos[ep.name] = PluginInfo(
                    name=ep.name,
                    distribution=dist,
                    version=version,
                    error=_describe(e),
                    traceback=traceback.format_exc(),
                )
                continue
            self._infos[ep.name] = PluginInfo(
                name=ep.name,
                distribution=dist,
                version=version,
                hooks=self._hooks_of(module),
                warnings=self._unknown_hooks(module),
            )

    def _hooks_of(self, plugin: object) -> tuple[str, ...]:
        callers = self._pm.get_hookcallers(plugin) or []
        return tuple(sorted(c.name for c in callers if c.name in _hookspecs.HOOK_NAMES))

    def _unknown_hooks(self, plugin: object) -> tuple[str, ...]:
        """A warning for each hook implementation whose name matches no hook of byop's."""
        out = []
        for name in dir(plugin):
            if name in _hookspecs.HOOK_NAMES or name.startswith("__"):
                continue
            try:
                opts = self._pm.parse_hookimpl_opts(plugin, name)
            except Exception:  # an attribute that cannot even be read: not a hook
                continue
            if opts is None:
                continue
            close = difflib.get_close_matches(name, _hookspecs.HOOK_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(f"its hook {name!r} matches no byop hook, so it is never called{hint}")
        return tuple(out)

    def _build_registries(self) -> None:
        self._registered = {}
        self._conflicts = {}
        registries: dict[Kind, dict[str, Registration]] = {k: {} for k in KINDS}
        for kind in KINDS:
            caller = getattr(self._pm.hook, f"register_{kind}")
            # In registration order (built-ins first), each called on its own so that one
            # failing plugin is recorded without stopping the others.
            for impl in caller.get_hookimpls():
                plugin_name = impl.plugin_name
                registry = registries[kind]

                register = functools.partial(self._record, registry, kind, plugin=plugin_name)

                try:
                    impl.function(register=register)
                except Exception as e:
                    self._fail(plugin_name, f"its hook register_{kind} raised {_describe(e)}")
        self._registries = registries

    def _record(
        self,
        registry: dict[str, Registration],
        kind: Kind,
        name: str,
        obj: Any,
        *,
        plugin: str,
    ) -> None:
        if not isinstance(name, str) or not name:
            self._fail(plugin, f"registered a {_SINGULAR[kind]} with an invalid name {name!r}")
            return
        existing = registry.get(name)
        if existing is not None and existing.plugin != plugin:
            self._conflicts.setdefault(plugin, []).append(
                f"its {_SINGULAR[kind]} {name!r} was ignored: plugin {existing.plugin!r} "
                "registered that name first (rename one of them)"
            )
            return
        registry[name] = Registration(kind=kind, name=name, obj=obj, plugin=plugin)
        self._registered.setdefault(plugin, []).append((kind, name))

    def _fail(self, plugin: str, message: str) -> None:
        info = self._infos.get(plugin) or PluginInfo(name=plugin, distribution=None, version=None)
        formatted = traceback.format_exc()
        tb = None if formatted.strip() == "NoneType: None" else formatted
        error = message if info.error is None else f"{info.error}; {message}"
        self._infos[plugin] = attrs.evolve(info, error=error, traceback=tb or info.traceback)

    def _raise_if_strict(self) -> None:
        if not self.strict:
            return
        broken = [i for i in self._infos.values() if i.error is not None]
        if broken:
            lines = "\n".join(f"  - {i.name} ({i.distribution}): {i.error}" for i in broken)
            raise PluginLoadError(
                f"{len(broken)} byop plugin(s) failed to load and {STRICT_ENV} is set:\n{lines}\n"
                f"Fix or uninstall them, or block them with {BLOCK_ENV}=name1,name2."
            )

    # ------------------------------------------------------------------ inline plugins
    def add(self, plugin: object, name: str) -> None:
        """Register a plugin object (a module or an instance with hook methods) directly.

        Meant for tests and applications that define plugins in code; nothing need be installed.
        """
        with self._lock:
            self.load()
            self._pm.register(plugin, name=name)
            self._infos[name] = PluginInfo(
                name=name,
                distribution=None,
                version=None,
                hooks=self._hooks_of(plugin),
                warnings=self._unknown_hooks(plugin),
            )
            self._build_registries()

    def remove(self, name: str) -> None:
        """Unregister a plugin added with `add` (or any plugin, by name)."""
        with self._lock:
            self.load()
            if self._pm.has_plugin(name):
                self._pm.unregister(name=name)
            self._infos.pop(name, None)
            self._build_registries()

    # ------------------------------------------------------------------ queries
    def warnings(self) -> list[str]:
        """What looks wrong about the plugin setup itself (a blocked name matching nothing)."""
        self.load()
        return list(self._warnings)

    def plugins(self) -> list[PluginInfo]:
        """Every plugin found, built-in first: its distribution, hooks, registrations, errors."""
        self.load()
        return [
            attrs.evolve(
                info,
                registered=tuple(self._registered.get(name, ())),
                warnings=info.warnings + tuple(self._conflicts.get(name, ())),
            )
            for name, info in self._infos.items()
        ]

    def registry(self, kind: Kind) -> dict[str, Registration]:
        """A copy of the registry of one kind: name to `Registration`."""
        self.load()
        return dict(self._registries[kind])

    def available(self, kind: Kind) -> list[str]:
        """The registered names of one kind, sorted."""
        return sorted(self.registry(kind))

    def get(self, kind: Kind, name: str, *, hint: str | None = None) -> Registration:
        """The registration of ``name``; an `UnknownFeatureError` listing the others if none."""
        self.load()
        try:
            return self._registries[kind][name]
        except KeyError:
            raise UnknownFeatureError(
                _SINGULAR[kind],
                name,
                sorted(self._registries[kind]),
                hint=hint or install_hint(kind, name),
            ) from None


def _load_order(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
    dist = _ep_dist_name(ep) or ""
    return (dist != BUILTIN_DISTRIBUTION, ep.name, dist)


def _ep_dist_name(ep: metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return None if dist is None else str(dist.name)


def _ep_dist_version(ep: metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return None if dist is None else str(dist.version)


__all__ = ["PluginInfo", "PluginSystem", "Registration"]
