"""Helpers shared by the community program tests: staff, and a program set running."""

from datetime import timedelta

from django.utils import timezone

from sellers import services


def run_program(program_class, staff, **settings):
    """Set a program running since yesterday for a month (unless `settings` say otherwise), as staff would."""
    now = timezone.now()
    running = {"active": True, "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=30)}
    return services.update_program(program_class=program_class, changed_by=staff, **(running | settings))
