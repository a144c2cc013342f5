"""Error codes of notifications.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class NotificationError(enum.Enum):
    """Devices and notification settings."""

    INVALID_DEVICE_TOKEN = "invalid_device_token"
    DEVICE_TOKEN_IN_USE = "device_token_in_use"
    INVALID_QUIET_HOURS = "invalid_quiet_hours"
    DAILY_CAP_OUT_OF_RANGE = "daily_cap_out_of_range"
