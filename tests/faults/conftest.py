# The live tests' members and shows, for the faults injected into a running show.
from tests.live.conftest import member, show_of  # noqa: F401
