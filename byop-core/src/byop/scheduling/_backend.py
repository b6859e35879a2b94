"""What the scheduler needs of a back end, and what every back end checks before sending."""

from __future__ import annotations

import pickle
from typing import Any, Protocol, runtime_checkable

from byop.scheduling._call import Call
from byop.scheduling._errors import NotPicklableError


@runtime_checkable
class Backend(Protocol):
    """What the scheduler needs of a back end.

    ``submit`` hands over a call; ``wait`` blocks until calls finish and returns them (with
    their result or exception recorded on the call); ``shutdown`` stops the back end, and with
    ``cancel`` ends the calls still queued or running and returns them.

    Optional attributes the scheduler reads when present:

    - ``exhausted`` (``bool``): the back end can run no more calls (its allocation ended, say).
      The scheduler then refuses new calls and, once none is running, ends the run as
      `ExitStatus.EXHAUSTED`.
    - ``runs_calls_in_wait`` (``bool``): calls run inside ``wait`` in the waiting thread (the
      sequential back end), so ``async_run`` waits in its loop's thread.

    A plugin registers a factory that makes one (``register_backends``):
    ``factory(n_workers=..., **options)``. `byop.testing.BackendConformance` checks one.
    """

    name: str

    def start(self) -> None:
        """Get ready to run calls (start workers, connect)."""
        ...

    def submit(self, call: Call) -> None:
        """Run ``call``; raise `NotPicklableError` if it cannot be sent to where it would run."""
        ...

    def wait(self, timeout: float | None) -> list[Call]:
        """Finished calls (at least one), or ``[]`` after ``timeout`` or a `wakeup`."""
        ...

    def wakeup(self) -> None:
        """Make a blocked `wait` return; callable from any thread."""
        ...

    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Stop. With ``cancel``, end every unfinished call and return them."""
        ...


def check_picklable(fn: Any, what: str) -> bytes:
    """Pickle ``fn`` by value where needed (cloudpickle), or explain why it cannot be sent.

    Returns:
        The pickled function.

    Raises:
        NotPicklableError: It cannot be pickled; the message says why and what to do.
    """
    import cloudpickle

    try:
        data: bytes = cloudpickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        raise NotPicklableError(
            f"{what} cannot be sent to a worker process: {type(e).__name__}: {e}. Make sure it "
            "does not hold (or close over) objects that cannot be pickled, such as locks, open "
            "files, sockets or database connections; create those inside the function instead, "
            "or run in this process with Scheduler.with_threads()."
        ) from e
    return data
