"""What deleting an account and exporting its data mean for seller tools and programs
(accounts.hooks): templates, automatic greetings, greetings waiting to go, opt-outs, nudges,
ambassador status and mentor seats go; greetings and upsells sent are messages (social keeps
them), subsidies are the program's books."""

from django.db.models import Q

from sellers.models import (
    Ambassador,
    AutoGreeting,
    FirstSaleNudge,
    GreetingOptOut,
    GreetingTemplate,
    LastGreeting,
    MentoringSeat,
    ScheduledGreeting,
)


def erase(user) -> None:
    ScheduledGreeting.objects.filter(Q(seller=user) | Q(visitor=user)).delete()
    LastGreeting.objects.filter(Q(seller=user) | Q(visitor=user)).delete()
    AutoGreeting.objects.filter(seller=user).delete()
    GreetingTemplate.objects.filter(seller=user).delete()
    GreetingOptOut.objects.filter(user=user).delete()
    FirstSaleNudge.objects.filter(seller=user).delete()
    MentoringSeat.objects.filter(mentor=user).delete()
    Ambassador.objects.filter(user=user).delete()


def export(user) -> dict:
    return {
        "greetingTemplates": list(GreetingTemplate.objects.filter(seller=user).values("name", "body", "created_at")),
        "autoGreeting": AutoGreeting.objects.filter(seller=user).exists(),
        "greetingsOff": GreetingOptOut.objects.filter(user=user).exists(),
        "ambassador": Ambassador.objects.filter(user=user).exists(),
    }
