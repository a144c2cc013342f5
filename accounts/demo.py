from django.utils import timezone

from accounts.models import User

DEMO_PASSWORD = "closetline-demo"
STAFF = "admin"
DEMO_USERS = [
    ("ava", "Ava Chen", "Vintage denim and 90s outerwear. Bundles welcome!", "America/New_York"),
    ("marco", "Marco Rossi", "Sneakers, streetwear, and the occasional grail.", "Europe/Rome"),
    ("priya", "Priya Patel", "Designer bags, authenticated. Live shows on Sundays.", "America/Los_Angeles"),
    ("sam", "Sam Okafor", "New here, clearing out my closet.", "Europe/London"),
]


def load(stdout):
    for username, display_name, bio, time_zone in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.closetline.test",
                "display_name": display_name,
                "bio": bio,
                "time_zone": time_zone,
                "email_verified_at": timezone.now(),
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser(
            "admin", "admin@demo.closetline.test", DEMO_PASSWORD, email_verified_at=timezone.now()
        )
    stdout.write(f"Users: {', '.join(u[0] for u in DEMO_USERS)} and staff 'admin'.")
