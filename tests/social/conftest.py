# The listing fixtures are shared with the marketplace tests.
from tests.marketplace.conftest import category, eager_tasks, make_listing, media_root  # noqa: F401
