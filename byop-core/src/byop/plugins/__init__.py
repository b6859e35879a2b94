"""byop's plugin system, on pluggy.

Plugins are modules named in the ``byop`` entry-point group of a distribution's metadata:

```toml
[project.entry-points.byop]
hillclimb = "byop_hillclimb.plugin"
```

The module implements any of the hooks with the `hookimpl` marker:

```python
from byop.plugins import hookimpl

@hookimpl
def register_optimizers(register):
    register("hillclimb", HillClimber)   # created as HillClimber(space=..., seed=..., **kwargs)
```

Hooks: ``register_optimizers``, ``register_samplers``, ``register_space_parsers``,
``register_backends``, ``register_builders`` and ``register_pruners``. byop's own features
register through the same hooks, from byop-core's own entry points (``byop.optimization``,
``byop.pipeline``, ``byop.scheduling``), and load first. Plugins load lazily and once; a
plugin that fails is recorded (see `list_plugins`) and the rest still work.
``BYOP_BLOCK_PLUGINS=a,b`` keeps named plugins from loading; ``BYOP_STRICT_PLUGINS=1`` makes
any failure raise `PluginLoadError`.
"""

from __future__ import annotations

from byop.plugins._errors import MissingDependencyError, PluginLoadError, UnknownFeatureError
from byop.plugins._extras import KNOWN_EXTRAS, install_hint
from byop.plugins._hookspecs import HOOK_NAMES, PROJECT_NAME, Register, hookimpl, hookspec
from byop.plugins._manager import (
    BLOCK_ENV,
    KINDS,
    STRICT_ENV,
    Kind,
    PluginInfo,
    PluginSystem,
    Registration,
)
from byop.plugins._optional import import_optional
from byop.plugins._system import (
    add_plugin,
    available,
    get,
    list_plugins,
    plugin_system,
    registry,
    remove_plugin,
    reset,
)

__all__ = [
    "BLOCK_ENV",
    "HOOK_NAMES",
    "KINDS",
    "KNOWN_EXTRAS",
    "PROJECT_NAME",
    "STRICT_ENV",
    "Kind",
    "MissingDependencyError",
    "PluginInfo",
    "PluginLoadError",
    "PluginSystem",
    "Register",
    "Registration",
    "UnknownFeatureError",
    "add_plugin",
    "available",
    "get",
    "hookimpl",
    "hookspec",
    "import_optional",
    "install_hint",
    "list_plugins",
    "plugin_system",
    "registry",
    "remove_plugin",
    "reset",
]
