"""State kept per event loop (a server process has one, each async test its own)."""

import asyncio
import weakref


class OnePerLoop:
    """One instance per event loop: a server process has one, each test its own."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._of_loop = weakref.WeakKeyDictionary()

    @classmethod
    def of_running_loop(cls):
        loop = asyncio.get_running_loop()
        instance = cls._of_loop.get(loop)  # one weak-key lookup: it is asked once per subscriber per event
        if instance is None:
            instance = cls._of_loop[loop] = cls()
        return instance
