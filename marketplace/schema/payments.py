"""What the buyer's app needs to collect a card with the provider's payment sheet."""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.permissions import Access
from marketplace import payments


class PaymentSheetType(graphene.ObjectType):
    class Meta:
        name = "PaymentSheet"

    customer = graphene.String(required=True, description="Your customer id at the payment provider.")
    ephemeral_key_secret = graphene.String(
        required=True, description="A short-lived key for the sheet to show your saved cards (empty in development)."
    )
    publishable_key = graphene.String(
        required=True, description="The provider's publishable key (empty in development)."
    )


class PreparePaymentSheet(BaseMutation):
    """Before a purchase: the customer, ephemeral key and publishable key the payment sheet opens
    with (deferred-intent flow). Send what the sheet collects as `paymentMethod` on the purchase."""

    payment_sheet = graphene.Field(PaymentSheetType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info):
        sheet = payments.provider().payment_sheet(buyer=info.context.user)
        return cls(payment_sheet=PaymentSheetType(**vars(sheet)), errors=[])
