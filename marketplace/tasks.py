from celery import shared_task

from marketplace import services


@shared_task(acks_late=True)
def make_listing_image_renditions(image_id: int) -> None:
    services.make_image_renditions(image_id=image_id)
