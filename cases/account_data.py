"""What deleting an account and exporting its data mean for cases (accounts.hooks).

Deleting blanks the member's words: the descriptions of the cases they opened and their messages
on any case; their photos go. The cases stay, with their reasons, outcomes and history: they are
the other party's and the books' record of a refunded or released payment. (An open case keeps
its order in progress, so marketplace refuses the deletion until it is resolved.)
"""

from django.core.files.storage import default_storage

from cases.models import Case, CaseMessage, CasePhoto


def erase(user) -> None:
    Case.objects.filter(buyer=user).update(description="")
    CaseMessage.objects.filter(author=user).update(body="")
    photos = CasePhoto.objects.filter(case__buyer=user)
    for path in photos.values_list("original", flat=True):
        default_storage.delete(path)
    photos.delete()


def export(user) -> dict:
    return {
        "casesOpened": list(
            Case.objects.filter(buyer=user)
            .order_by("opened_at")
            .values("order_id", "reason", "description", "status", "opened_at", "closed_at")
        ),
        "caseMessages": list(
            CaseMessage.objects.filter(author=user).order_by("created_at").values("case_id", "body", "created_at")
        ),
    }
