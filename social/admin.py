from django.contrib import admin

from social.models import Block, ClosetVisit, Comment, Follow, Like, Share


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("author", "listing", "body", "created_at", "edited_at")
    search_fields = ("body", "author__username", "listing__title")
    raw_id_fields = ("author", "listing")
    date_hierarchy = "created_at"
    list_select_related = ("author", "listing")


class RelationAdmin(admin.ModelAdmin):
    """Likes, follows, shares, blocks and visits: looked up by member, never edited by hand."""

    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Like)
class LikeAdmin(RelationAdmin):
    list_display = ("user", "listing", "created_at")
    search_fields = ("user__username", "listing__title")
    raw_id_fields = ("user", "listing")
    list_select_related = ("user", "listing")

    def has_delete_permission(self, request, obj=None):
        return False  # deleting here would leave Listing.like_count wrong: unlike through the API


@admin.register(Follow)
class FollowAdmin(RelationAdmin):
    list_display = ("follower", "followee", "created_at")
    search_fields = ("follower__username", "followee__username")
    raw_id_fields = ("follower", "followee")
    list_select_related = ("follower", "followee")


@admin.register(Share)
class ShareAdmin(RelationAdmin):
    list_display = ("sharer", "listing", "created_at")
    search_fields = ("sharer__username", "listing__title")
    raw_id_fields = ("sharer", "listing")
    list_select_related = ("sharer", "listing")


@admin.register(Block)
class BlockAdmin(RelationAdmin):
    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__username", "blocked__username")
    raw_id_fields = ("blocker", "blocked")
    list_select_related = ("blocker", "blocked")


@admin.register(ClosetVisit)
class ClosetVisitAdmin(RelationAdmin):
    list_display = ("visitor", "closet_owner", "visited_at")
    search_fields = ("visitor__username", "closet_owner__username")
    raw_id_fields = ("visitor", "closet_owner")
    list_select_related = ("visitor", "closet_owner")
    date_hierarchy = "visited_at"
