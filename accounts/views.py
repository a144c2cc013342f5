"""The data export download (accounts.exports): a signed link, no session or bearer header, so it
opens from the mail in any browser; anything but a valid, unexpired link is a plain 404."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from accounts import exports


@require_GET
def download_data_export(request, signed: str):
    export = exports.open_download(signed)
    if export is None:
        raise Http404("No such export.")
    response = FileResponse(
        default_storage.open(export.file.name, "rb"),
        as_attachment=True,
        filename="closetline-data.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
