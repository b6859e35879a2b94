"""Sandboxes: byop's process guarantees inside the workers of other engines.

The workers of Dask and Ray run calls in threads (or in their own main thread) of a long-lived
process. There, a limit cannot interrupt code blocked in C, ``RLIMIT_DATA`` would bound the
whole worker, and a segfault would take the worker down with every call it runs. A back end for
such an engine ships each call as bytes (`pack_call`: a `PackedFunction` and the arguments),
and the engine's worker runs it with `run_packed`, returning the outcome as bytes
(`unpickle_outcome`): in a `Sandbox`, a child process of that worker thread that byop's own
process back end drives. So, on every engine, exactly as with ``Scheduler.with_processes``:

- limits are enforced by the kernel in the child's main thread (timers, signals and
  ``RLIMIT_DATA``), and as hard bounds by killing the child shortly after a wall-time or
  CPU-time limit;
- a child that dies (a signal, ``os._exit``, a segfault, the OOM killer) costs only the call it
  was running, which fails with `WorkerDiedError`; the next call gets a fresh child;
- every process a call starts ends with the call.

The engine's worker itself never runs user code, so it never dies of a trial. Children start as
fresh interpreters (``start_method="exec"``): nothing is forked from a process running threads,
and no ``__main__`` is imported again.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
import threading
import weakref
from collections.abc import Callable
from typing import Any, Literal

from byop.scheduling._backends import check_picklable, describe
from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError, NotPicklableError, WorkerDiedError
from byop.scheduling._execute import Outcome, execute
from byop.scheduling._limits import Limits
from byop.scheduling._process import GRACE, ProcessBackend, _unsendable
from byop.scheduling._task import Task

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class PackedFunction:
    """A call's function, pickled once (cloudpickle, by value where needed), with its limits.

    What a back end sends to an engine's worker instead of the function itself: plain bytes,
    so the worker never unpickles (or imports) user code; only the sandbox's child does.
    Calling it in the child unpickles the function once and calls it.

    Attributes:
        key: A digest of the function and its limits; equal keys run the same code.
        payload: The pickled function.
        limits: The task's limits: hard bounds, enforced by killing the child.
        applied_limits: The limits to apply around the function in the child (``None`` when
            the function applies them itself, as `Trial.Task`'s runner does).
        name: The function's name, for messages.

    Example:
        ```python
        from byop.scheduling import Limits, PackedFunction

        packed = PackedFunction.of(abs, limits=Limits(wall_time=5.0))
        assert packed(-3) == 3
        assert PackedFunction.of(abs, limits=None).key != packed.key
        ```
    """

    def __init__(
        self,
        key: str,
        payload: bytes,
        limits: Limits | None,
        applied_limits: Limits | None,
        name: str,
    ) -> None:
        self.key = key
        self.payload = payload
        self.limits = limits
        self.applied_limits = applied_limits
        self.name = name
        self.__qualname__ = name  # what `describe` shows in messages: the function's own
        self.__module__ = ""
        self._fn: Callable[..., Any] | None = None
        self._spec: bytes | None = None

    @property
    def spec(self) -> bytes:
        """This packed function, pickled (once): the head of every `pack_call` of it."""
        if self._spec is None:
            self._spec = pickle.dumps(self, _PROTOCOL)
        return self._spec

    @classmethod
    def of(
        cls,
        fn: Callable[..., Any],
        *,
        limits: Limits | None,
        wrapped: bool = True,
    ) -> PackedFunction:
        """Pack ``fn``; with ``wrapped``, the child applies ``limits`` around it.

        Raises:
            NotPicklableError: ``fn`` cannot be pickled.
        """
        applied = limits if wrapped else None
        payload = check_picklable(fn, describe(fn))
        digest = hashlib.blake2b(payload, digest_size=16)
        digest.update(repr((limits, applied)).encode())
        return cls(digest.hexdigest(), payload, limits, applied, describe(fn))

    @classmethod
    def of_call(cls, call: Call) -> PackedFunction:
        """Pack the function of a scheduler's call, with the limits it carries."""
        return cls.of(call.fn, limits=call.limits, wrapped=call.wrapped)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._fn
        if fn is None:
            import cloudpickle

            fn = self._fn = cloudpickle.loads(self.payload)
        return fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            PackedFunction,
            (self.key, self.payload, self.limits, self.applied_limits, self.name),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedFunction) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"PackedFunction({self.name}, key={self.key[:8]})"


class PackedFunctions:
    """The packed functions of a back end's calls: each function packed once per run.

    Calls of one task share their function and limits, so a back end packs them once and sends
    the same bytes with every call. A back end clears the cache when its run ends, so that it
    keeps no user function alive.

    Example:
        ```python
        from byop.scheduling import Call, Limits, PackedFunctions, Task

        packs = PackedFunctions()
        task = Task(abs)
        first = Call(task, abs, (-3,), {}, Limits(wall_time=5.0))
        second = Call(task, abs, (-4,), {}, Limits(wall_time=5.0))
        assert packs.of_call(first) is packs.of_call(second)
        packs.clear()
        ```
    """

    def __init__(self) -> None:
        self._packed: dict[tuple[int, Limits | None, bool], tuple[Any, PackedFunction]] = {}

    def of_call(self, call: Call) -> PackedFunction:
        """The call's packed function, packed now if its function was not yet.

        Raises:
            NotPicklableError: The function cannot be pickled.
        """
        ident = (id(call.fn), call.limits, call.wrapped)
        entry = self._packed.get(ident)
        if entry is None or entry[0] is not call.fn:  # an id reused by another function
            entry = (call.fn, PackedFunction.of_call(call))
            self._packed[ident] = entry
        return entry[1]

    def clear(self) -> None:
        """Forget every packed function."""
        self._packed.clear()


def pickle_call(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bytes:
    """A call's arguments as bytes, for `run_packed` on an engine's worker.

    Raises:
        NotPicklableError: The arguments cannot be pickled (not even by cloudpickle).
    """
    data = (args, kwargs or None)
    try:
        return pickle.dumps(data, _PROTOCOL)
    except Exception:
        import cloudpickle

        try:
            out: bytes = cloudpickle.dumps(data, _PROTOCOL)
        except Exception as e:
            raise NotPicklableError(
                f"The arguments of the call cannot be sent to a worker: {type(e).__name__}: "
                f"{e}. Pass plain data (numbers, strings, dicts, arrays, attrs classes) and "
                "create other objects inside the function."
            ) from e
        return out


_LENGTH = struct.Struct("!I")


def pack_call(fn: PackedFunction, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bytes:
    """One call as bytes, for `run_packed` on an engine's worker: the function and arguments.

    Engines serialize plain bytes fastest, and the worker in between never unpickles user
    objects.

    Raises:
        NotPicklableError: The arguments cannot be pickled (not even by cloudpickle).
    """
    spec = fn.spec
    return _LENGTH.pack(len(spec)) + spec + pickle_call(args, kwargs)


_known: dict[bytes, PackedFunction] = {}  # the specs this process has seen, and their functions


def _unpack(call: bytes) -> tuple[PackedFunction, bytes]:
    (n,) = _LENGTH.unpack_from(call)
    spec = call[4 : 4 + n]
    fn = _known.get(spec)
    if fn is None:
        if len(_known) >= 256:
            _known.clear()
        fn = _known[spec] = pickle.loads(spec)
    return fn, call[4 + n :]


def unpickle_outcome(data: bytes) -> Outcome:
    """The outcome `run_packed` returned, as ``(ok, value or exception, traceback)``."""
    outcome: Outcome = pickle.loads(data)
    return outcome


class _PickledCall:
    """What the sandbox's child runs: pickled arguments in, a pickled outcome out.

    The engine's worker in between only passes bytes along, and never unpickles user objects.
    """

    def __init__(self, packed: PackedFunction) -> None:
        self.packed = packed
        self.__qualname__ = packed.name  # what messages name: the function itself
        self.__module__ = ""

    def __call__(self, data: bytes) -> bytes:
        packed = self.packed
        args, kwargs = pickle.loads(data)
        ok, value, tb = execute(packed, args, kwargs, packed.applied_limits)
        try:
            return pickle.dumps((ok, value, tb), _PROTOCOL)
        except Exception as e:
            return pickle.dumps((False, _unsendable(packed, ok, value, e), tb), _PROTOCOL)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_PickledCall, (self.packed,))


def _sandboxed() -> None:
    """The task every sandboxed call is recorded under (for its repr only)."""


class Sandbox:
    """A child process that runs calls for the thread that owns it, one call at a time.

    Args:
        grace: Seconds past a wall-time or CPU-time limit before the child is killed.
        max_functions: How many distinct functions the child keeps loaded; past that, the
            child is replaced (a long-lived engine worker serves many runs).

    Example:
        ```python
        import time

        from byop.scheduling import Limits, PackedFunction, Sandbox, WallTimeLimitExceeded

        sandbox = Sandbox()
        ok, value, _ = sandbox.run(PackedFunction.of(abs, limits=None), (-2,), {})
        assert (ok, value) == (True, 2)

        slow = PackedFunction.of(time.sleep, limits=Limits(wall_time=0.2))
        ok, error, _ = sandbox.run(slow, (30,), {})
        assert not ok and isinstance(error, WallTimeLimitExceeded)
        sandbox.close()
        ```
    """

    def __init__(self, *, grace: float = GRACE, max_functions: int = 64) -> None:
        self.max_functions = max_functions
        self._backend = ProcessBackend(1, start_method="exec", grace=grace)
        self._functions: dict[str, _PickledCall] = {}
        self._task: Task[..., Any] = Task(_sandboxed, name="sandboxed")
        self._finalizer = weakref.finalize(self, _stop, self._backend)

    @property
    def pid(self) -> int | None:
        """The child's process id, once it runs."""
        pids = self._backend.pids
        return pids[0] if pids else None

    def run(
        self,
        fn: PackedFunction,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        *,
        cancelled: Callable[[], bool] | None = None,
        poll: float = 0.25,
    ) -> Outcome:
        """Run ``fn(*args, **kwargs)`` in the child and wait for its outcome; never raises.

        Args:
            fn: The packed function.
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            cancelled: Asked every ``poll`` seconds while the call runs; once it returns
                true, the child is killed and the call ends with `CallCancelledError`.
            poll: Seconds between two questions to ``cancelled``.

        Returns:
            ``(True, value, None)`` or ``(False, exception, traceback text)``, where the
            exception may be the function's own, a limit's, `WorkerDiedError`,
            `CallCancelledError` or `NotPicklableError`.
        """
        try:
            data = pickle_call(args, kwargs)
        except NotPicklableError as e:
            return (False, e, None)
        return unpickle_outcome(self.run_pickled(fn, data, cancelled=cancelled, poll=poll))

    def run_pickled(
        self,
        fn: PackedFunction,
        data: bytes,
        *,
        cancelled: Callable[[], bool] | None = None,
        poll: float = 0.25,
        where: str | None = None,
    ) -> bytes:
        """`run` with the arguments from `pickle_call`, returning the outcome pickled.

        ``where`` names the engine's worker in the message of a `WorkerDiedError`.
        """
        entry = self._functions.get(fn.key)
        if entry is None:
            if len(self._functions) >= self.max_functions:
                self._backend.shutdown(cancel=True)
                self._functions.clear()
            entry = self._functions[fn.key] = _PickledCall(fn)
        # The child applies the limits itself (inside `_PickledCall`); the back end enforces
        # them as hard bounds from here.
        call = Call(self._task, entry, (data,), {}, fn.limits, wrapped=False)
        backend = self._backend
        wait = None if cancelled is None else poll
        try:
            backend.start()
            try:
                backend.submit(call)
            except NotPicklableError as e:
                return pickle.dumps((False, e, None), _PROTOCOL)
            while not call.done():
                backend.wait(wait)
                if not call.done() and cancelled is not None and cancelled():
                    backend.shutdown(cancel=True)
                    cancel = CallCancelledError("the call was cancelled")
                    return pickle.dumps((False, cancel, None), _PROTOCOL)
        except BaseException:
            # Interrupted (a KeyboardInterrupt from the engine cancelling the task, ...):
            # the child goes with the call.
            backend.shutdown(cancel=True)
            raise
        if call.state is CallState.DONE:
            out: bytes = call.value
            return out
        error: BaseException | None = call.error
        if where is not None and isinstance(error, WorkerDiedError):
            error = WorkerDiedError(
                f"{error} (the sandbox process of {where})",
                pid=error.pid,
                exitcode=error.exitcode,
                signal=error.signal,
            )
        return pickle.dumps((False, error, call.traceback), _PROTOCOL)

    def close(self) -> None:
        """Stop the child (a closed sandbox starts a new one when it runs again)."""
        self._backend.shutdown(cancel=True)
        self._functions.clear()


def _stop(backend: ProcessBackend) -> None:
    backend.shutdown(cancel=True)


_local = threading.local()


def thread_sandbox() -> Sandbox:
    """The calling thread's sandbox (created on first use, stopped when the thread ends)."""
    sandbox: Sandbox | None = getattr(_local, "sandbox", None)
    if sandbox is None:
        sandbox = _local.sandbox = Sandbox()
    return sandbox


def run_packed(
    call: bytes,
    *,
    cancelled: Callable[[], bool] | None = None,
    where: str | None = None,
    sandbox: bool | Literal["limits"] = True,
) -> bytes:
    """Run a call in the calling thread's sandbox: what an engine's worker runs.

    Args:
        call: The call, from `pack_call` where the scheduler runs.
        cancelled: See `Sandbox.run`.
        where: The engine's worker, for the message of a `WorkerDiedError`.
        sandbox: ``"limits"`` runs a call without limits right here instead, in this thread:
            for an engine whose workers are processes that run one call at a time, so that
            a crash costs that call alone anyway (Ray). Calls with limits always run in the
            sandbox.

    Returns:
        The outcome, pickled: `unpickle_outcome` reads it where the scheduler runs. The worker
        in between never unpickles user objects (only the packed function's description),
        unless the call runs right here.
    """
    fn, data = _unpack(call)
    if sandbox is True or fn.limits is not None:
        return thread_sandbox().run_pickled(fn, data, cancelled=cancelled, where=where)
    return _PickledCall(fn)(data)
