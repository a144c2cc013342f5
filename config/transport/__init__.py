"""Every patch Closetline makes to its transport (daphne, autobahn, Twisted, channels, the GC).

Each module here changes one piece of a framework where the public API cannot do what a room of
a thousand viewers needs, says what it relies on in `RELIED_ON`, and was written for the version
range pinned in pyproject.toml. tests/transport/test_internals.py checks every private attribute
and method they read still exists with the shape they expect, so an upgrade fails CI instead of
silently falling back to the slow path.

- `websocket`: daphne's WebSocket protocol with frame-level limits and the broadcast fast path.
- `channel_layer`: the embedded runtime's in-memory channel layer, swept once a second.
- `garbage_collector`: thresholds for a process holding thousands of subscriptions.
"""

import inspect

from config.transport import channel_layer, garbage_collector, websocket

MODULES = (websocket, channel_layer)


def install() -> None:
    """Put the patches in place; called by config.asgi before daphne serves."""
    garbage_collector.tune()
    websocket.install()


def broken_internals() -> list[str]:
    """What the patches rely on that the installed frameworks no longer offer as expected: the
    classes' methods and attributes, and what a channel layer has once made."""
    problems = [problem for module in MODULES for expected in module.RELIED_ON for problem in _check(*expected)]
    layer = channel_layer.layers.InMemoryChannelLayer()
    problems += [_missing(layer, name) for name in channel_layer.RELIED_ON_PER_INSTANCE if not hasattr(layer, name)]
    return problems


def broken_connection_internals() -> list[str]:
    """What a live WebSocket connection lacks of the attributes websocket.py reads. Opening one
    installs Twisted's reactor, so this runs in a process of its own: `python -m config.transport`."""
    made = dict(zip(("protocol", "transport"), websocket.sample_connection(), strict=True))
    return [
        _missing(made[role], name)
        for role, names in websocket.RELIED_ON_PER_CONNECTION.items()
        for name in names
        if not hasattr(made[role], name)
    ]


def _missing(instance, name: str) -> str:
    return f"{type(instance).__qualname__}().{name} is gone"


def _check(owner, name: str, shape) -> list[str]:
    """`shape` is a tuple of parameter names for a method, or a type for an attribute's value."""
    where = f"{getattr(owner, '__qualname__', type(owner).__qualname__)}.{name}"
    if not hasattr(owner, name):
        return [f"{where} is gone"]
    value = getattr(owner, name)
    if isinstance(shape, tuple):
        if not callable(value):
            return [f"{where} is no longer a method"]
        parameters = inspect.signature(value).parameters
        names = tuple(parameters)
        # the same leading parameters; any the framework added must be optional
        optional = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        added = list(parameters.values())[len(shape) :]
        added_required = [p for p in added if p.default is p.empty and p.kind not in optional]
        fits = names[: len(shape)] == shape and not added_required
        return [] if fits else [f"{where}{names} no longer takes {shape}"]
    return [] if isinstance(value, shape) else [f"{where} is a {type(value).__name__}, not a {shape.__name__}"]
