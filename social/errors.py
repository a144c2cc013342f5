"""Error codes of the social graph.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class SocialError(enum.Enum):
    """Follows, comments, messages and mutes."""

    CANNOT_TARGET_SELF = "cannot_target_self"
    TOO_MANY_MENTIONS = "too_many_mentions"
    CONVERSATION_CLOSED = "conversation_closed"
