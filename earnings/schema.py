"""A seller's earnings over GraphQL: balances per currency, ledger entries and payouts (newest
first), the payout account, and the mutations that connect it and request a payout."""

import graphene
from graphene_django import DjangoObjectType

from config.graphql.mutations import BaseMutation
from config.graphql.node import Node
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_user, viewer
from earnings import selectors, services
from earnings.models import EarningsAccount, LedgerEntry, Payout, PayoutAccount
from marketplace.schema import Money, OrderType, money

LedgerEntryKind = graphene.Enum.from_enum(LedgerEntry.Kind, name="LedgerEntryKind")
LedgerEntryState = graphene.Enum.from_enum(LedgerEntry.State, name="LedgerEntryState")
PayoutStatus = graphene.Enum.from_enum(Payout.Status, name="PayoutStatus")


class Balance(DjangoObjectType):
    """What you have in one currency: the sum of your ledger entries in it."""

    class Meta:
        model = EarningsAccount
        name = "Balance"
        fields = ("currency",)

    pending = graphene.Field(Money, required=True, description="Sold, waiting for the buyer to accept.")
    available = graphene.Field(Money, required=True, description="Yours to pay out.")
    paid_out = graphene.Field(Money, required=True, description="Sent to your payout account.")

    def resolve_pending(balance, info):
        return money(balance.pending, balance.currency)

    def resolve_available(balance, info):
        return money(balance.available, balance.currency)

    def resolve_paid_out(balance, info):
        return money(balance.paid_out, balance.currency)


class PayoutType(DjangoObjectType):
    class Meta:
        model = Payout
        name = "Payout"
        interfaces = (Node,)
        fields = ("created_at", "paid_at")

    amount = graphene.Field(Money, required=True)
    status = graphene.Field(PayoutStatus, required=True)
    failure = graphene.String(description="Why the provider refused it, when it failed.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset.filter(seller=current) if current else queryset.none()

    def resolve_amount(payout, info):
        return money(payout.amount, payout.currency)

    def resolve_failure(payout, info):
        return payout.detail if payout.status == Payout.Status.FAILED else None


class LedgerEntryType(DjangoObjectType):
    """One movement of your money; a sale you earn is positive, what is taken from it negative."""

    class Meta:
        model = LedgerEntry
        name = "LedgerEntry"
        interfaces = (Node,)
        fields = ("created_at", "available_at")

    kind = graphene.Field(LedgerEntryKind, required=True)
    state = graphene.Field(LedgerEntryState, required=True)
    amount = graphene.Field(Money, required=True)
    order = graphene.Field(OrderType, description="The order it comes from (sales, commissions, refunds).")
    payout = graphene.Field(PayoutType, description="The payout it comes from (payouts, reversals).")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset.filter(seller=current) if current else queryset.none()

    def resolve_amount(entry, info):
        return money(entry.amount, entry.currency)


class LedgerEntryConnection(graphene.relay.Connection):
    class Meta:
        node = LedgerEntryType


class PayoutConnection(graphene.relay.Connection):
    class Meta:
        node = PayoutType


class PayoutAccountType(DjangoObjectType):
    class Meta:
        model = PayoutAccount
        name = "PayoutAccount"
        fields = ("created_at",)


class Earnings(graphene.ObjectType):
    """Your earnings as a seller (resolved for the logged-in member)."""

    balances = graphene.List(graphene.NonNull(Balance), required=True, description="One per currency, by code.")
    entries = graphene.Field(LedgerEntryConnection, **connection_args(), description="Newest first.")
    payouts = graphene.Field(PayoutConnection, **connection_args(), description="Newest first.")
    payout_account = graphene.Field(PayoutAccountType, description="Null until you connect one.")

    def resolve_balances(seller, info):
        return selectors.balances(seller)

    def resolve_entries(seller, info, first=None, after=None):
        return keyset_page(
            selectors.entries(seller), LedgerEntryConnection, first=first, after=after, ordering=("-created_at", "-pk")
        )

    def resolve_payouts(seller, info, first=None, after=None):
        return keyset_page(
            selectors.payouts(seller), PayoutConnection, first=first, after=after, ordering=("-created_at", "-pk")
        )

    def resolve_payout_account(seller, info):
        return selectors.payout_account(seller)


class Query(graphene.ObjectType):
    earnings = graphene.Field(Earnings, required=True)

    def resolve_earnings(root, info):
        return require_user(info)


class RequestPayoutInput(graphene.InputObjectType):
    currency = graphene.String(required=True, description="ISO 4217 code of the balance to pay out.")


class RequestPayout(BaseMutation):
    """Pay out your whole available balance in a currency to your payout account."""

    class Arguments:
        input = RequestPayoutInput(required=True)

    access = Access.AUTHENTICATED
    payout = graphene.Field(PayoutType)

    @classmethod
    def perform(cls, info, input):
        payout = services.request_payout(seller=info.context.user, currency=input.currency)
        payout.refresh_from_db()  # sent after commit: the status it reached
        return cls(payout=payout, errors=[])


class ConnectPayoutAccountInput(graphene.InputObjectType):
    country = graphene.String(default_value="US", description="Two-letter code of the country you are paid in.")


class ConnectPayoutAccount(BaseMutation):
    """Set up where your payouts go: open `onboardingUrl` to complete it (again if it expired)."""

    class Arguments:
        input = ConnectPayoutAccountInput(required=True)

    access = Access.AUTHENTICATED
    payout_account = graphene.Field(PayoutAccountType)
    onboarding_url = graphene.String()

    @classmethod
    def perform(cls, info, input):
        account, url = services.connect_payout_account(seller=info.context.user, country=input.country)
        return cls(payout_account=account, onboarding_url=url, errors=[])


class Mutation(graphene.ObjectType):
    request_payout = RequestPayout.Field()
    connect_payout_account = ConnectPayoutAccount.Field()
