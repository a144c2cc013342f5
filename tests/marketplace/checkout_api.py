"""GraphQL documents and calls shared by the checkout tests (orders, offers, bundles)."""

from tests.helpers import gid

MONEY = "{ amount currency }"
ORDER = f"""{{ id status source viewerRole buyer {{ username }} seller {{ username }}
  lines {{ title source price {MONEY} listing {{ id status }} }}
  discounts {{ source appliesTo amount {MONEY} description }}
  itemTotal {MONEY} shippingFee {MONEY} discountTotal {MONEY} total {MONEY}
  shippingAddress {{ recipientName line1 city country }} trackingNumber }}"""
OFFER = f"""{{ id status source turn viewerRole amount {MONEY} buyerAmount {MONEY} sellerAmount {MONEY}
  shippingDiscount {MONEY} counterCount listing {{ id }} bundle {{ id }} buyer {{ username }} seller {{ username }}
  order {{ id status total {MONEY} }} }}"""
ERRORS = "errors { field code }"

PURCHASE = f"""mutation($input: PurchaseListingInput!) {{
  purchaseListing(input: $input) {{ order {ORDER} {ERRORS} }} }}"""
ADD_TO_ORDER = f"""mutation($input: AddToOrderInput!) {{ addToOrder(input: $input) {{ order {ORDER} {ERRORS} }} }}"""
MAKE_OFFER = f"""mutation($input: MakeOfferInput!) {{ makeOffer(input: $input) {{ offer {OFFER} {ERRORS} }} }}"""
RESPOND = f"""mutation($input: RespondToOfferInput!) {{
  respondToOffer(input: $input) {{ offer {OFFER} {ERRORS} }} }}"""


def purchase(gql, token, listing, key="purchase-key-1", **extra):
    variables = {"input": {"listingId": gid(listing), "idempotencyKey": key, **extra}}
    return gql(PURCHASE, variables, token=token)["data"]["purchaseListing"]


def make_offer(gql, token, amount, listing=None, bundle=None, **extra):
    target = {"listingId": gid(listing)} if listing is not None else {"bundleId": gid(bundle)}
    return gql(MAKE_OFFER, {"input": {**target, "amount": str(amount), **extra}}, token=token)["data"]["makeOffer"]


def respond(gql, token, offer_id, action, amount=None):
    variables = {"input": {"offerId": offer_id, "action": action, **({"amount": str(amount)} if amount else {})}}
    return gql(RESPOND, variables, token=token)["data"]["respondToOffer"]


def money(amount: str, currency: str = "USD") -> dict:
    return {"amount": amount, "currency": currency}
