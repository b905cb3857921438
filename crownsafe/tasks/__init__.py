"""Background jobs on Celery with a Redis broker: the image job."""

from crownsafe.tasks.celery_app import PROCESS_IMAGE, create_celery, enqueue_image_job

__all__ = ["PROCESS_IMAGE", "create_celery", "enqueue_image_job"]
