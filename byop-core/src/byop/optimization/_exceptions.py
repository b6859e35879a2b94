"""Keeping exceptions that cannot travel as themselves."""

from __future__ import annotations


class ForeignException(Exception):  # noqa: N818  (it stands for someone else's exception)
    """Stands in for an exception that could not be kept as itself.

    That happens when a worker's exception cannot be pickled, and when a report is read back
    from storage: byop never imports or runs stored data, so an exception whose type is not a
    built-in one is restored as this, with its original type's name and message.

    Attributes:
        type_name: The qualified name of the original exception type, e.g. ``"mylib.MyError"``.
        message: ``str()`` of the original exception.
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(type_name, message)
        self.type_name = type_name
        self.message = message

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name

    def __reduce__(self) -> tuple[type[ForeignException], tuple[str, str]]:
        return (ForeignException, (self.type_name, self.message))


def qualified_name(exc_type: type[BaseException]) -> str:
    """``module.QualName`` of an exception type, without ``builtins.`` for built-in ones."""
    module = exc_type.__module__
    if module == "builtins":
        return exc_type.__qualname__
    return f"{module}.{exc_type.__qualname__}"


def exception_key(exc: BaseException | None) -> tuple[str, str] | None:
    """What identifies an exception for equality of reports: its type's name and message."""
    if exc is None:
        return None
    if isinstance(exc, ForeignException):
        return (exc.type_name, exc.message)
    return (qualified_name(type(exc)), str(exc))


def portable(exc: BaseException | None) -> BaseException | None:
    """``exc`` itself if it survives pickling, else a `ForeignException` that describes it."""
    if exc is None or isinstance(exc, ForeignException):
        return exc
    try:
        import pickle

        clone = pickle.loads(pickle.dumps(exc))
    except Exception:
        return ForeignException(qualified_name(type(exc)), str(exc))
    if type(clone) is not type(exc):
        return ForeignException(qualified_name(type(exc)), str(exc))
    return exc
