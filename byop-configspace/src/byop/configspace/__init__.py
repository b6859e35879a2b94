"""byop's ConfigSpace integration.

- `to_configspace` / `from_configspace`: byop's `Space` to and from a ``ConfigurationSpace``
  (registered as the space parser ``"configspace"``:
  ``searchable(...).space(parser="configspace")``);
- `ConfigSpaceSampler`: configurations drawn by ConfigSpace, from byop's space or a native
  ``ConfigurationSpace`` (registered as the sampler ``"configspace"``);
- `is_configuration_space` and `plain_value`: for other integrations built on ConfigSpace.

ConfigSpace itself is imported only when one of these is used.
"""

from __future__ import annotations

from byop.configspace._parser import (
    from_configspace,
    is_configuration_space,
    plain_value,
    to_configspace,
)
from byop.configspace._sampler import ConfigSpaceSampler

__all__ = [
    "ConfigSpaceSampler",
    "from_configspace",
    "is_configuration_space",
    "plain_value",
    "to_configspace",
]
