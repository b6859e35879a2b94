"""byop-ray: registration, arguments, and what byop connects, starts and stops.

Ray keeps one connection per process, so each run that makes or ends one runs in a fresh
interpreter here.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import services

import byop.ray
from byop.ray import RayBackend, RayUnavailableError
from byop.scheduling import Scheduler

TESTS = str(Path(services.__file__).parents[1])

TRAILER = """
import psutil as _psutil
import ray as _ray
print("BYOP-CHECK", _ray.is_initialized(), len(_psutil.Process().children(recursive=True)))
"""


def _run(code: str, timeout: float = 180) -> list[str]:
    """Run ``code`` in a fresh interpreter; the words of its BYOP-CHECK line."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + TRAILER],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": TESTS},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BYOP-CHECK"))
    return line.split()[1:]


def test_registered_without_importing_ray():
    code = """
    import sys
    from byop.scheduling import Scheduler

    assert Scheduler.with_backend("ray", num_cpus=2).backend.name == "ray"
    assert "ray" not in sys.modules
    print("BYOP-CHECK", False, 0)
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="has its own"):
        RayBackend("127.0.0.1:6379", num_cpus=2)
    with pytest.raises(ValueError, match="positive"):
        RayBackend(num_cpus_per_call=0)


def test_nothing_at_the_address_is_a_clear_error_at_once():
    scheduler = Scheduler.with_backend("ray", address="127.0.0.1:9", timeout=2)
    with pytest.raises(RayUnavailableError, match=r"Nothing answers at 127.0.0.1:9.*ray-up"):
        scheduler.run(timeout=10)
    assert not scheduler.is_running


def test_a_local_instance_is_started_and_stopped_by_byop():
    # The docstring's example: Ray on this machine, started by byop, and stopped after it.
    example = _examples()[0].values[0]
    initialized, children = _run(example)
    assert initialized == "False"
    assert children == "0"


def test_a_cluster_given_by_address_stays_up():
    address = services.need("ray")
    code = f"""
    from byop.scheduling import Scheduler, Task

    for _ in range(2):
        scheduler = Scheduler.with_backend("ray", address={address!r})
        task = Task(abs, scheduler)
        out = []
        scheduler.on_start(lambda: task(-3))
        task.on_result(lambda call, value: out.append(value))
        scheduler.run(timeout=120)
        assert out == [3], out
    """
    initialized, children = _run(code)
    assert initialized == "False"  # disconnected after each run
    assert children == "0"
    # and the cluster is still there
    code = f"""
    import ray
    ray.init(address={address!r})
    assert ray.cluster_resources().get("CPU", 0) >= 1
    ray.shutdown()
    """
    _run(code)


def test_connected_elsewhere_is_a_clear_error():
    address = services.need("ray")
    code = f"""
    import ray
    from byop.ray import RayUnavailableError
    from byop.scheduling import Scheduler

    ray.init(address={address!r})
    host, port = {address!r}.rsplit(":", 1)
    same = "localhost:" + port if host == "127.0.0.1" else {address!r}
    Scheduler.with_backend("ray", address=same).run(timeout=60)  # the same cluster: fine
    other = Scheduler.with_backend("ray", address={address!r})
    other.backend.address = host + ":" + str(int(port) + 1)
    try:
        other.backend._check_same_cluster(ray)
    except RayUnavailableError as e:
        assert "connected to the Ray cluster at" in str(e), e
    else:
        raise AssertionError("no error")
    """
    _run(code)


def test_your_own_connection_is_left_as_it_is():
    address = services.need("ray")
    code = f"""
    import ray
    from byop.scheduling import Scheduler, Task

    ray.init(address={address!r})
    scheduler = Scheduler.with_backend("ray")
    task = Task(abs, scheduler)
    scheduler.on_start(lambda: task(-3))
    scheduler.run(timeout=120)
    assert ray.get(ray.remote(lambda x: x + 1).remote(3)) == 4  # still connected
    """
    initialized, _ = _run(code)
    assert initialized == "True"


@pytest.mark.parametrize("always", [False, True])
def test_trials_run_in_the_ray_worker_or_its_sandbox(always):
    from support.objectives import where_am_i

    from byop.scheduling import Task

    services.ray_connected()
    scheduler = Scheduler.with_backend("ray", always_sandbox=always)
    task = Task(where_am_i, scheduler)
    limited = Task(where_am_i, scheduler, wall_time_limit=60)
    out = {}
    scheduler.on_start(lambda: (task(), limited()))
    task.on_result(lambda call, value: out.__setitem__("plain", value))
    limited.on_result(lambda call, value: out.__setitem__("limited", value))
    scheduler.run(timeout=120)
    _, name, parent = out["limited"]
    assert parent.startswith("ray::") and not name.startswith("ray::")  # a sandbox
    _, name, parent = out["plain"]
    assert name.startswith("ray::") != always  # the Ray worker itself, unless always


def _examples():
    objects = [byop.ray] + [getattr(byop.ray, name) for name in byop.ray.__all__]
    found = []
    for obj in objects:
        doc = inspect.getdoc(obj) or ""
        for n, match in enumerate(re.finditer(r"```python\n(.*?)```", doc, re.DOTALL)):
            found.append(pytest.param(match.group(1), id=f"{getattr(obj, '__name__', obj)}-{n}"))
    return found


def test_the_examples_are_tested():
    assert len(_examples()) == 1  # run by test_a_local_instance_is_started_and_stopped_by_byop
