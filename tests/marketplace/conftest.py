import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import gid

UPLOAD = """mutation($input: UploadListingImageInput!) {
  uploadListingImage(input: $input) {
    image { id width height position url(size: ORIGINAL) }
    listing { images { id position } coverImage { id } }
    errors { field code message }
  }
}"""


def upload(gql, token, listing, content: bytes, name="photo.jpg", cover=False):
    operations = {"query": UPLOAD, "variables": {"input": {"listingId": gid(listing), "image": None,
                                                           "cover": cover}}}
    response = gql.http.post("/graphql/", {"operations": json.dumps(operations),
                                           "map": json.dumps({"0": ["variables.input.image"]}),
                                           "0": SimpleUploadedFile(name, content)},
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.json()["data"]["uploadListingImage"]
