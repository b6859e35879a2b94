"""The scheduler: runs tasks on a back end and drives everything through events."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Executor
from enum import StrEnum
from typing import Any

from byop.scheduling._backend import Backend
from byop.scheduling._call import Call
from byop.scheduling._context import running
from byop.scheduling._errors import CallCancelledError, UnknownBackendError
from byop.scheduling._events import Event, handler
from byop.scheduling._futures import ExecutorBackend, thread_backend
from byop.scheduling._policy import Action, FailurePolicy, PolicyLike
from byop.scheduling._process import ProcessBackend
from byop.scheduling._sequential import SequentialBackend
from byop.scheduling._task import Task

logger = logging.getLogger("byop.scheduling")


class ExitStatus(StrEnum):
    """Why `Scheduler.run` returned."""

    EXHAUSTED = "exhausted"
    """Nothing was left to run (and ``end_on_empty`` was set)."""
    TIMEOUT = "timeout"
    """The run's timeout passed."""
    STOPPED = "stopped"
    """`Scheduler.stop` was called, by a callback, a stop criterion, or another thread."""
    ERROR = "error"
    """An exception whose policy is ``"end"`` ended the run (see ``scheduler.errors``)."""


class _Phase(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    STOPPING = "stopping"


_DONE = object()


class Scheduler:
    """Runs tasks on a back end; everything that happens is an event.

    Args:
        executor: A byop back end, or any `concurrent.futures.Executor` (which byop then
            leaves running when the scheduler is done with it).
        on_callback_error: What an exception raised by a callback does: ``"raise"`` (the
            default: stop and raise it from ``run()``), ``"end"`` (end the run with
            `ExitStatus.ERROR`), ``"continue"`` (keep it in ``errors``, log it, go on), or a
            mapping from exception types to these.
        on_task_error: The same for an exception raised by a task's call. By default it is
            raised, unless the task has ``on_exception`` callbacks, which then handle it
            (``"continue"``). A `Trial.Task` never raises: its failures are reports.

    Events:

    - ``on_start()``: the run started; launch the first calls here.
    - ``on_empty()``: nothing is running or queued (with ``end_on_empty``, the run ends unless a
      callback submits more).
    - ``on_timeout()``: the run's timeout passed.
    - ``on_stop(reason)``: `stop` was called.
    - ``on_finishing()``: the run is ending; calls still running are awaited or terminated.
    - ``on_finished(status)``: the run ended with ``status``.

    Example:
        ```python
        from byop.scheduling import ExitStatus, Scheduler

        scheduler = Scheduler.with_threads(2)

        @scheduler.on_start
        def hello() -> None:
            scheduler.submit(print, "hello from a worker")

        assert scheduler.run(timeout=10) is ExitStatus.EXHAUSTED
        ```
    """

    def __init__(
        self,
        executor: Any,
        *,
        on_callback_error: PolicyLike = "raise",
        on_task_error: PolicyLike | None = None,
    ) -> None:
        self.backend: Backend = as_backend(executor)
        self.callback_policy = FailurePolicy(on_callback_error)
        self.task_policy = None if on_task_error is None else FailurePolicy(on_task_error)
        self.errors: list[BaseException] = []
        """Exceptions kept by the ``"end"`` and ``"continue"`` policies, in order."""
        self.stop_reason: str | None = None
        self.status: ExitStatus | None = None

        self.on_start: Event[[]] = Event("on_start", "The run started.")
        self.on_empty: Event[[]] = Event("on_empty", "Nothing is running or queued.")
        self.on_timeout: Event[[]] = Event("on_timeout", "The run's timeout passed.")
        self.on_stop: Event[[str]] = Event("on_stop", "stop() was called, with its reason.")
        self.on_finishing: Event[[]] = Event("on_finishing", "The run is ending.")
        self.on_finished: Event[[ExitStatus]] = Event("on_finished", "The run ended.")

        self._phase = _Phase.IDLE
        self._inflight: dict[int, Call] = {}
        self._deadline: float | None = None
        self._end_on_empty = True
        self._wait = True
        self._stop_requested: str | None = None
        self._shut_down = False
        self._wake = threading.Event()
        self._adhoc: dict[int, Task[..., Any]] = {}
        self.refused = 0
        """Calls refused because the scheduler was stopping (not submitted, no report)."""

    # ------------------------------------------------------------------ constructors
    @classmethod
    def with_processes(
        cls, n_workers: int = 1, *, start_method: str | None = None, **kwargs: Any
    ) -> Scheduler:
        """A scheduler over ``n_workers`` byop worker processes (crash isolation, hard limits)."""
        return cls(ProcessBackend(n_workers, start_method=start_method), **kwargs)

    @classmethod
    def with_threads(cls, n_workers: int = 1, **kwargs: Any) -> Scheduler:
        """A scheduler over ``n_workers`` threads of this process (see `thread_backend`)."""
        return cls(thread_backend(n_workers), **kwargs)

    @classmethod
    def with_sequential(cls, **kwargs: Any) -> Scheduler:
        """A scheduler that runs each call in this thread, one at a time (for debugging)."""
        return cls(SequentialBackend(), **kwargs)

    @classmethod
    def with_backend(
        cls,
        name: str,
        /,
        n_workers: int | None = None,
        *,
        on_callback_error: PolicyLike = "raise",
        on_task_error: PolicyLike | None = None,
        **options: Any,
    ) -> Scheduler:
        """A scheduler over a back end registered by name (``register_backends`` hook).

        The back end is created as ``factory(n_workers=n_workers, **options)``, as the hook
        specifies: ``n_workers`` is how many calls run at once (``None``: the back end's
        default), ``options`` are the back end's own.

        Raises:
            UnknownBackendError: No back end has that name; the message lists those that do,
                and what to install for one byop knows of.
        """
        from byop.plugins import UnknownFeatureError, get

        if n_workers is not None and (
            isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
        ):
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        try:
            registration = get("backends", name)
        except UnknownFeatureError as e:
            raise UnknownBackendError(str(e)) from None
        backend = registration.obj(n_workers=n_workers, **options)
        return cls(backend, on_callback_error=on_callback_error, on_task_error=on_task_error)

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        """Whether `run` is in progress (including while it finishes)."""
        return self._phase is not _Phase.IDLE

    @property
    def running_calls(self) -> list[Call]:
        """The calls submitted and not yet ended."""
        return list(self._inflight.values())

    # ------------------------------------------------------------------ submitting
    def accept(self, call: Call) -> bool:
        """Hand a task's call to the back end; ``False`` when refused (the run is ending).

        What `Task.submit` calls, after the task's own limits let the call through. The
        scheduler then owns the call until it ends, and hands it back to the task's
        `Task.complete`.
        """
        if self._phase is not _Phase.RUNNING or getattr(self.backend, "exhausted", False):
            self.refused += 1
            logger.debug("refused %r: the scheduler is %s", call, self._phase.value)
            return False
        call.started = (time.time(), time.perf_counter())
        self.backend.submit(call)
        self._inflight[call.id] = call
        return True

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Call | None:
        """Run ``fn(*args, **kwargs)`` on the back end; its `Call` holds the result once done."""
        task = self._adhoc.get(id(fn))
        if task is None or task.fn is not fn:
            task = Task(fn, self)
            self._adhoc[id(fn)] = task
        return task.submit(*args, **kwargs)

    def stop(self, reason: str | None = None) -> None:
        """End the run: no more calls are taken; running ones are awaited or terminated.

        Callable from any callback or thread; ``run()`` then returns `ExitStatus.STOPPED`.
        """
        if self._stop_requested is None:
            self._stop_requested = reason or "stop() was called"
        self._wake.set()
        self.backend.wakeup()

    # ------------------------------------------------------------------ running
    def run(
        self, *, timeout: float | None = None, end_on_empty: bool = True, wait: bool = True
    ) -> ExitStatus:
        """Run until nothing is left, the timeout passes, or `stop` is called.

        Args:
            timeout: Seconds the run may last; submissions after it are refused. ``None`` or
                ``float("inf")``: no timeout.
            end_on_empty: End once nothing is running or queued (after ``on_empty``).
            wait: When the run ends, wait for the calls still running (``True``), or cancel
                them and terminate their workers (``False``): each then ends, a trial with a
                `CrashReport` saying so. A thread cannot be terminated: a call running on
                threads runs on (its `CallCancelledError` has ``still_running``). The
                sequential back end runs calls inside ``run()``, which then returns once the
                call running at the timeout returns.

        Returns:
            Why the run ended.
        """
        self._begin(timeout, end_on_empty, wait)
        tokens = (running.set(self), handler.set(self._callback_failed))
        try:
            steps = self._steps()
            block = self.backend.wait
            t = next(steps)
            while True:
                t = steps.send(block(t))
        except StopIteration:
            pass
        except BaseException as e:
            self._abort(e)
            raise
        finally:
            handler.reset(tokens[1])
            running.reset(tokens[0])
        return self._end()

    async def async_run(
        self, *, timeout: float | None = None, end_on_empty: bool = True, wait: bool = True
    ) -> ExitStatus:
        """`run` inside a running asyncio loop: callbacks run in the loop's thread.

        The back end is waited on from a helper thread, so the loop stays free for other work
        (a back end that runs calls inside its wait, like the sequential one, is waited on in
        the loop's thread, yielding to the loop between calls).
        """
        loop = asyncio.get_running_loop()
        in_loop = getattr(self.backend, "runs_calls_in_wait", False)
        self._begin(timeout, end_on_empty, wait)
        tokens = (running.set(self), handler.set(self._callback_failed))
        try:
            steps = self._steps()
            t = next(steps)
            while True:
                if in_loop:
                    finished = self._block(t)
                    await asyncio.sleep(0)
                else:
                    finished = await loop.run_in_executor(None, self._block, t)
                t = steps.send(finished)
        except StopIteration:
            pass
        except BaseException as e:
            self._abort(e)
            raise
        finally:
            handler.reset(tokens[1])
            running.reset(tokens[0])
        return self._end()

    def _steps(self) -> Generator[float | None, list[Call], None]:
        """The run's one loop, for `run` and `async_run` alike.

        It yields how long to wait for the back end, and is sent the calls that finished; it
        returns when the run is over. Who waits (this thread, or a helper thread of an asyncio
        loop) is the caller's business.
        """
        self.on_start.emit()
        while (t := self._before_wait()) is not _DONE:
            self._after_wait((yield t if isinstance(t, float) else None))

    def _begin(self, timeout: float | None, end_on_empty: bool, wait: bool) -> None:
        if self._phase is not _Phase.IDLE:
            raise RuntimeError("This scheduler is already running; run() is not re-entrant.")
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise TypeError(
                    f"timeout must be a number of seconds, got {type(timeout).__name__} "
                    f"{timeout!r}."
                )
            if not timeout > 0:  # NaN too
                raise ValueError(f"timeout must be positive, got {timeout}.")
            if math.isinf(timeout):
                timeout = None
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._end_on_empty = end_on_empty
        self._wait = wait
        self._stop_requested = None
        self._shut_down = False
        self._wake.clear()
        self.stop_reason = None
        self.status = None
        self.errors = []
        self.refused = 0
        self.backend.start()
        self._phase = _Phase.RUNNING

    def _before_wait(self) -> float | object | None:
        """Decide what to do next; the time to wait for the back end, or `_DONE`."""
        while True:
            if self._phase is _Phase.RUNNING:
                if self._stop_requested is not None:
                    self.stop_reason = self._stop_requested
                    self._finishing(ExitStatus.STOPPED)
                    self.on_stop.emit(self.stop_reason)
                    continue
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self.stop_reason = "timeout"
                    self._finishing(ExitStatus.TIMEOUT)
                    self.on_timeout.emit()
                    continue
                if not self._inflight:
                    if getattr(self.backend, "exhausted", False):
                        self.stop_reason = f"the back end {self.backend.name} can run no more calls"
                        self._finishing(ExitStatus.EXHAUSTED)
                        continue
                    if self._end_on_empty:
                        self.on_empty.emit()
                        if not self._inflight and self._phase is _Phase.RUNNING:
                            if self._stop_pending():
                                continue
                            self.stop_reason = "nothing left to run"
                            self._finishing(ExitStatus.EXHAUSTED)
                        continue
                    self._idle_until_stop()
                    continue
                deadline = self._deadline
                return None if deadline is None else max(0.0, deadline - time.monotonic())
            # Finishing.
            if not self._inflight:
                return _DONE
            if not self._wait:
                self._cancel_all()
                continue
            return self._remaining()

    def _stop_pending(self) -> bool:
        """Whether `stop` was called (a callback may have called it just now)."""
        return self._stop_requested is not None

    def _remaining(self) -> float | None:
        if self._deadline is None or self._phase is not _Phase.RUNNING:
            return None
        # Waiting wakes up at least hourly: a far deadline must not overflow a back end's wait.
        return min(max(0.0, self._deadline - time.monotonic()), 3600.0)

    def _idle_until_stop(self) -> None:
        timeout = self._remaining()
        self._wake.wait(timeout)
        self._wake.clear()

    def _block(self, timeout: float | None) -> list[Call]:
        return self.backend.wait(timeout)

    def _after_wait(self, finished: list[Call]) -> None:
        inflight = self._inflight
        for call in finished:
            if inflight.pop(call.id, None) is not None:
                error = call.task.complete(call)
                if error is not None:
                    self._task_failed(call.task, error)

    def _complete(self, call: Call) -> None:
        """Hand an ended call back to its task; an exception it leaves is the policy's."""
        error = call.task.complete(call)
        if error is not None:
            self._task_failed(call.task, error)

    def _finishing(self, status: ExitStatus) -> None:
        self.status = status
        self._phase = _Phase.STOPPING
        self.on_finishing.emit()

    def _cancel_all(self) -> None:
        self._shut_down = True
        for call in self.backend.shutdown(cancel=True):
            if self._inflight.pop(call.id, None) is not None:
                self._complete(call)
        # A back end that could not return some calls: they still get their ending.
        for call in list(self._inflight.values()):
            call.cancel(CallCancelledError("the scheduler stopped before this call finished"))
            del self._inflight[call.id]
            self._complete(call)

    def _end(self) -> ExitStatus:
        if not self._shut_down:
            self.backend.shutdown(cancel=False)
        status = self.status or ExitStatus.EXHAUSTED
        self._phase = _Phase.IDLE
        self.on_finished.emit(status)
        return status

    def _abort(self, error: BaseException) -> None:
        """End everything after an exception escaped; the calls in flight still get endings."""
        self._phase = _Phase.STOPPING
        self.status = ExitStatus.ERROR
        token = handler.set(self._keep_quietly)
        try:
            self._cancel_all()
        except KeyboardInterrupt:
            raise  # a second Ctrl-C while stopping: stop at once
        except BaseException as e:  # pragma: no cover - last resort, keep the first error
            logger.error("while stopping after %r: %r", error, e)
        finally:
            handler.reset(token)
            self._phase = _Phase.IDLE

    # ------------------------------------------------------------------ failures
    def _callback_failed(
        self, event: Event[Any], callback: Callable[..., Any], error: Exception
    ) -> None:
        self._handle(
            self.callback_policy.action(error), error, f"callback {_name(callback)} of {event.name}"
        )

    def _task_failed(self, task: Task[..., Any], error: BaseException) -> None:
        if self.task_policy is not None:
            action = self.task_policy.action(error)
        else:
            action = Action.CONTINUE if task.on_exception else Action.RAISE
        self._handle(action, error, f"a call of task {task.name!r}")

    def _handle(self, action: Action, error: BaseException, where: str) -> None:
        if action is Action.RAISE:
            raise error
        self.errors.append(error)
        if action is Action.END:
            logger.error("%s raised %r; ending the run", where, error)
            if self._phase is _Phase.RUNNING:
                self.stop_reason = f"{where} raised {type(error).__name__}: {error}"
                self._finishing(ExitStatus.ERROR)
            return
        logger.warning("%s raised %r; continuing", where, error)

    def _keep_quietly(
        self, event: Event[Any], callback: Callable[..., Any], error: Exception
    ) -> None:
        self.errors.append(error)
        logger.error(
            "callback %s of %s raised %r while stopping", _name(callback), event.name, error
        )

    def events(self) -> dict[str, Event[Any]]:
        """Every event of the scheduler, by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Event)}

    def __repr__(self) -> str:
        return f"Scheduler({self.backend.name}, {self._phase.value}, running={len(self._inflight)})"


def as_backend(executor: Any) -> Backend:
    """A `Backend` from a back end, or any `concurrent.futures.Executor`."""
    if isinstance(executor, Executor):
        return ExecutorBackend(executor, owned=False)
    if isinstance(executor, Backend):
        return executor
    raise TypeError(
        "Scheduler(...) takes a concurrent.futures.Executor or a byop back end, got "
        f"{type(executor).__name__}. For byop's own, use Scheduler.with_processes(n), "
        ".with_threads(n), .with_sequential() or .with_backend(name)."
    )


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
