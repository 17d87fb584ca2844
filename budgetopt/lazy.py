"""Names a package imports from their module on first use (PEP 562), so that a command imports only what it needs."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_names(package: str, modules: Mapping[str, str], namespace: dict,
               public: list[str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: a name of `modules` (name -> relative module) is imported from its
    module when first used and then kept in `namespace`; any other name is a submodule not imported yet."""

    def __getattr__(name: str) -> object:
        module = modules.get(name)
        if module is None:  # a submodule not imported yet (budgetopt.io, ...), as before the names were lazy
            try:
                return importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
