"""The business-rule matrix, beside the permission matrix: what a member may do to another
member's object (curation, auctions, bids, offers, bundles, add-ons, greetings) and in which
currency and amount money moves. The permission matrix says who may call a mutation; these rules
say what the call may then do with someone else's item or money.

Every mutation that names an object by ID is listed in PATHS with the rules that bind it, every
mutation that makes or changes an order, an offer, a bundle or a bid in MONEY_PATHS, every one
that takes a username, an email or a password in IDENTITY_PATHS, every one that takes a push
token in DEVICE_PATHS, every one that posts or mutes show chat in CHAT_PATHS, and every
mutation of the accounts app in ACCOUNT_PATHS:
test_business_rules.py fails, naming it, for a new path without a rule, and for a rule whose
proving tests do not exist.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class BusinessRule:
    promise: str
    proved_by: tuple[str, ...]  # "tests/<path>.py::<test name>"


HOLES = "tests/hardening/test_curation_holes.py"
MONEY = "tests/hardening/test_currency_holes.py"
MATRIX = "tests/hardening/test_business_rules.py"
LINKS = "tests/live/test_private_links.py"
LIFECYCLE = "tests/marketplace/test_orders_lifecycle.py"
PERMISSIONS = "tests/hardening/test_permission_matrix.py::test_mutation_cell"
IDENTITY = "tests/accounts/test_identity.py"
DEVICES = "tests/notifications/test_device_takeover.py"
CHAT = "tests/live/test_chat.py"
SIGN_UP = "tests/accounts/test_sign_up.py"
CREDENTIALS = "tests/accounts/test_password_and_email.py"
ACCOUNT = "tests/accounts/test_delete_and_export.py"
REVIEWS = "tests/reviews/test_reviews.py"
CASES = "tests/cases/test_cases.py"

RULES = {
    "one-open-case-within-the-window": BusinessRule(
        "Only the buyer opens a case, within the acceptance window (a missing parcel while on its way), one "
        "open case per order; while open the platform never accepts the order; a closed case takes no message.",
        (
            f"{CASES}::test_the_window_closes_three_days_after_delivery",
            f"{CASES}::test_only_the_buyer_opens_a_case_and_only_one_at_a_time",
            f"{CASES}::test_the_hold_keeps_auto_accept_off_only_for_orders_with_an_open_case",
            f"{CASES}::test_concurrent_cases_on_one_order_open_once",
        ),
    ),
    "one-review-per-accepted-order": BusinessRule(
        "Only the buyer reviews an order, once it is accepted, and once; only its seller answers, once.",
        (
            f"{REVIEWS}::test_the_buyer_reviews_an_accepted_order_once",
            f"{REVIEWS}::test_only_the_buyer_reviews",
            f"{REVIEWS}::test_the_seller_answers_once",
            f"{REVIEWS}::test_concurrent_reviews_count_exactly_and_an_order_is_reviewed_once",
        ),
    ),
    "own-objects-only": BusinessRule(
        "The call acts only on the caller's own objects (or those they are a party to); another member's "
        "is refused or left as it is.",
        (PERMISSIONS,),
    ),
    "curation-consent": BusinessRule(
        "Another member's listing joins a line-up only if its owner allows curation (yes by default).",
        (f"{HOLES}::test_a_member_who_refuses_curation_stays_out_of_others_shows", f"{MATRIX}::test_curation_matrix"),
    ),
    "auction-consent-and-floor": BusinessRule(
        "Another member's listing is auctioned only with its owner's consent (no by default), from a start "
        "price at their floor or above; an auction closing below the floor as it then is makes no sale and "
        "its participants are told. Co-hosts are bound on the host's listings too.",
        (
            f"{HOLES}::test_the_attack_as_sent_sells_nothing",
            f"{HOLES}::test_with_consent_the_start_price_respects_the_owners_floor",
            f"{HOLES}::test_an_auction_closing_below_a_raised_floor_makes_no_sale_and_the_bidders_are_told",
            f"{HOLES}::test_a_co_host_auctioning_the_hosts_listing_needs_the_hosts_consent",
            f"{MATRIX}::test_curation_matrix",
        ),
    ),
    "no-bid-from-the-room-or-the-seller": BusinessRule(
        "Nobody with a role in the show (host, accepted co-host) bids in its auctions; no seller on their item.",
        (f"{MATRIX}::test_bidding_matrix",),
    ),
    "buy-now-at-list-price": BusinessRule(
        "Buy-now (of a curated item too) is at the listing's current price, its owner the seller.",
        (f"{HOLES}::test_buy_now_of_a_curated_item_is_at_its_current_price", f"{MATRIX}::test_currency_matrix"),
    ),
    "charged-as-agreed": BusinessRule(
        "An order is in the currency and amount of the accepted offer or of the price quoted; a listing in "
        "another currency by then is refused (CURRENCY_CHANGED).",
        (
            f"{MONEY}::test_accepting_refuses_an_offer_whose_listing_is_priced_in_another_currency",
            f"{MONEY}::test_a_currency_change_racing_an_acceptance_never_charges_the_other_currency",
            f"{MATRIX}::test_currency_matrix",
        ),
    ),
    "one-currency-basket": BusinessRule(
        "A bundle never holds two currencies; checkout and bundle offers refuse a mixed one (MIXED_CURRENCIES).",
        (f"{MONEY}::test_checkout_refuses_a_basket_of_mixed_currencies", f"{MATRIX}::test_currency_matrix"),
    ),
    "changes-release-buyers": BusinessRule(
        "A move to draft, a removal or a currency change ends the listing's pending offers (offers to likers "
        "too) and takes it out of open bundles; the buyers are told.",
        (
            f"{MONEY}::test_a_binding_offer_never_changes_currency",
            f"{MONEY}::test_a_move_to_draft_takes_the_listing_out_of_open_bundles_and_tells_the_buyer",
            f"{MONEY}::test_removal_ends_offers_to_likers_and_tells_the_liker",
        ),
    ),
    "add-on-same-closet-and-currency": BusinessRule(
        "An add-on joins only an order of its own closet and currency, at its list price.",
        (
            f"{LIFECYCLE}::test_add_ons_come_from_the_same_closet_and_only_for_the_buyer",
            f"{MATRIX}::test_currency_matrix",
        ),
    ),
    "private-by-token": BusinessRule(
        "A private show opens by its link's random token or to its people; its ID alone reveals nothing.",
        (
            f"{LINKS}::test_counting_ids_reveals_no_private_show",
            f"{LINKS}::test_the_link_opens_it_and_who_opened_it_keeps_access_after_a_rotation",
            f"{LINKS}::test_the_subscription_follows_the_same_rule",
        ),
    ),
    "one-identity-per-person": BusinessRule(
        "Usernames and emails are compared by stored keys (NFKC, case-folded; usernames also without invisible "
        "characters and with confusable letters mapped): a look-alike spelling names the same account, and a "
        "look-alike of a taken username is not registered (USERNAME_LOOKS_TAKEN), racing sign-ups included.",
        (
            f"{IDENTITY}::test_look_alikes_name_one_account_when_nothing_is_limited",
            f"{IDENTITY}::test_registering_a_look_alike_of_a_taken_username_is_refused",
            f"{IDENTITY}::test_an_email_differing_only_in_case_or_width_is_taken",
            f"{IDENTITY}::test_look_alike_registrations_racing_make_one_account",
        ),
    ),
    "login-limits-without-lockout": BusinessRule(
        "Failed logins are limited per account and address, per address and by a slower per-account backoff, "
        "keyed on the account whatever spelling names it; one address failing on a name never locks its owner "
        "out elsewhere, and the backoff never holds an address the owner logged in from.",
        (
            f"{IDENTITY}::test_look_alikes_of_a_limited_name_get_no_token_and_no_fresh_limit",
            f"{IDENTITY}::test_the_victim_logs_in_from_another_address_while_the_attacker_is_limited",
            f"{IDENTITY}::test_one_address_failing_on_many_names_is_limited",
            f"{IDENTITY}::test_failures_from_many_addresses_back_off_new_addresses_but_never_the_members_own",
        ),
    ),
    "device-held-by-its-session": BusinessRule(
        "A push token is held by the signed-in session that registered it: another account's registration is "
        "refused (DEVICE_TOKEN_IN_USE) while that session is live, and moves it once the session ended.",
        (
            f"{DEVICES}::test_an_attacker_registering_the_victims_token_gets_none_of_her_pushes",
            f"{DEVICES}::test_a_legitimate_login_on_the_phone_after_logout_moves_the_token",
            f"{DEVICES}::test_an_expired_session_lets_go_of_its_device",
            f"{DEVICES}::test_a_device_registered_before_sessions_were_recorded_is_held_while_its_member_is_signed_in",
            f"{DEVICES}::test_two_accounts_racing_for_a_new_token_leave_it_with_one",
        ),
    ),
    "muted-words-as-seen": BusinessRule(
        "A show's muted words match what people see: case, width, invisible characters and confusable letters "
        "do not dodge them, in the message or in the word as the moderator typed it.",
        (
            f"{CHAT}::test_a_muted_word_in_disguise_is_still_muted",
            f"{CHAT}::test_a_muted_word_typed_in_look_alikes_mutes_the_plain_word_and_only_whole_words",
            f"{CHAT}::test_the_room_never_hears_a_disguised_muted_word",
        ),
    ),
    "room-powers-never-sell": BusinessRule(
        "Co-host powers (feature, remove, reorder, moderate) change what the room shows, never a price or a "
        "sale; the host and co-hosts cannot be muted or removed.",
        (PERMISSIONS,),
    ),
    # Accounts: what a call about an address or an account may reveal, and what proves its owner.
    "no-account-enumeration": BusinessRule(
        "An answer never tells whether an address has an account: register, requestPasswordReset, "
        "requestEmailVerification and changeEmail answer the same, on the same path (the lookup and the mail "
        "are a task's), and mail the address's owner instead (finding 7).",
        (
            f"{SIGN_UP}::test_an_existing_email_answers_as_a_sign_up_and_mails_its_owner",
            f"{SIGN_UP}::test_an_existing_email_costs_the_same_work_as_a_sign_up",
            f"{SIGN_UP}::test_request_email_verification_answers_the_same_for_every_address",
            f"{SIGN_UP}::test_mail_asked_for_one_address_is_capped_without_a_different_answer",
            f"{CREDENTIALS}::test_reset_answers_the_same_on_the_same_path_whether_or_not_the_email_exists",
            f"{CREDENTIALS}::test_changing_to_a_taken_email_answers_the_same_and_mails_that_address_a_note",
        ),
    ),
    "verified-before-use": BusinessRule(
        "An account signed up over the API logs in only once its address is verified by the mailed link.",
        (f"{SIGN_UP}::test_sign_up_mails_a_link_over_smtp_and_following_it_logs_in",),
    ),
    "mailed-tokens-single-use-and-expiring": BusinessRule(
        "A mailed token (verification, reset, email change) works once, before it expires, for the address it "
        "was mailed to; garbage is INVALID_TOKEN, late TOKEN_EXPIRED.",
        (
            f"{SIGN_UP}::test_sign_up_mails_a_link_over_smtp_and_following_it_logs_in",
            f"{SIGN_UP}::test_an_expired_verification_link_is_refused_and_a_new_one_works",
            f"{SIGN_UP}::test_garbage_verification_tokens_are_typed_errors",
            f"{CREDENTIALS}::test_password_reset_over_smtp_signs_every_device_out_and_works_once",
            f"{CREDENTIALS}::test_an_expired_reset_link_is_refused_and_changes_nothing",
            f"{CREDENTIALS}::test_a_password_change_kills_outstanding_reset_links",
            f"{CREDENTIALS}::test_change_email_takes_effect_once_the_new_address_confirms_and_the_old_is_told",
        ),
    ),
    "password-proves-the-owner": BusinessRule(
        "Changing the password or the email and deleting the account need the current password: a bearer "
        "token alone takes no account over.",
        (
            f"{CREDENTIALS}::test_change_password_needs_the_current_one_and_signs_out_the_other_devices",
            f"{CREDENTIALS}::test_change_email_takes_effect_once_the_new_address_confirms_and_the_old_is_told",
            f"{ACCOUNT}::test_deleting_erases_the_member_and_the_other_party_keeps_their_order",
        ),
    ),
    "new-credentials-sign-out": BusinessRule(
        "A reset signs out every device, a password change every other one; the address is told.",
        (
            f"{CREDENTIALS}::test_password_reset_over_smtp_signs_every_device_out_and_works_once",
            f"{CREDENTIALS}::test_change_password_needs_the_current_one_and_signs_out_the_other_devices",
        ),
    ),
    "old-address-told": BusinessRule(
        "A new email takes effect only once confirmed from that address; the old one is told of the request "
        "and of the change.",
        (f"{CREDENTIALS}::test_change_email_takes_effect_once_the_new_address_confirms_and_the_old_is_told",),
    ),
    "deletion-keeps-the-other-partys-order": BusinessRule(
        "Deleting an account removes its listings (ending their offers) and erases its personal data in every "
        "app (hooks), keeps orders and money for the other party with the member anonymous (deleted-<id>), and "
        "waits for orders in progress (ACCOUNT_HAS_OPEN_ORDERS).",
        (
            f"{ACCOUNT}::test_deleting_erases_the_member_and_the_other_party_keeps_their_order",
            f"{ACCOUNT}::test_deleting_is_refused_while_an_order_is_in_progress",
            f"{ACCOUNT}::test_deleting_also_removes_the_members_exports_and_pending_links",
        ),
    ),
    "export-for-the-member-only": BusinessRule(
        "A data export holds every app's part of the member's data and opens only by its signed link, shown "
        "to the member alone, until it expires.",
        (
            f"{ACCOUNT}::test_export_builds_a_zip_of_every_app_downloaded_by_a_signed_link_for_the_member_only",
            f"{ACCOUNT}::test_expired_exports_are_purged_with_their_files",
        ),
    ),
}

_OWN = ("own-objects-only",)
_SHOW = ("private-by-token", "room-powers-never-sell")

# Every mutation that names an object by ID: the rules that bind what it does with it.
PATHS = {
    "addShowListing": (*_SHOW, "curation-consent"),
    "startShowAuction": (*_SHOW, "auction-consent-and-floor"),
    "placeBid": ("private-by-token", "no-bid-from-the-room-or-the-seller", "auction-consent-and-floor"),
    "buyShowListing": ("private-by-token", "buy-now-at-list-price", "charged-as-agreed"),
    "featureShowListing": _SHOW,
    "removeShowListing": _SHOW,
    "reorderShowListings": _SHOW,
    "muteShowViewer": _SHOW,
    "unmuteShowViewer": _SHOW,
    "removeShowViewer": _SHOW,
    "deleteShowMessage": _SHOW,
    "setShowMutedWords": _SHOW,
    "setShowSlowMode": _SHOW,
    "sendShowMessage": _SHOW,
    "startShow": _SHOW,
    "endShow": _SHOW,
    "updateShow": _SHOW,
    "saveShow": _SHOW,
    "unsaveShow": _SHOW,
    "addCoHost": _SHOW,
    "removeCoHost": _SHOW,
    "respondToCoHostInvite": _SHOW,
    "openShowLink": ("private-by-token",),
    "rotateShowLink": ("private-by-token",),
    "purchaseListing": ("charged-as-agreed",),
    "makeOffer": ("charged-as-agreed", "one-currency-basket"),
    "respondToOffer": ("charged-as-agreed", "one-currency-basket", "changes-release-buyers"),
    "withdrawOffer": _OWN,
    "addToBundle": ("one-currency-basket", "changes-release-buyers"),
    "removeFromBundle": _OWN,
    "checkoutBundle": ("one-currency-basket", "charged-as-agreed"),
    "addToOrder": ("add-on-same-closet-and-currency",),
    "offerToLikers": (*_OWN, "changes-release-buyers"),
    "sendUpsell": (*_OWN, "add-on-same-closet-and-currency"),
    "sendGreeting": _OWN,
    "setAutoGreeting": _OWN,
    "saveGreetingTemplate": _OWN,
    "deleteGreetingTemplate": _OWN,
    "updateListing": (*_OWN, "changes-release-buyers"),
    "removeListing": (*_OWN, "changes-release-buyers"),
    "createListing": _OWN,
    "uploadListingImage": _OWN,
    "reorderListingImages": _OWN,
    "removeListingImage": _OWN,
    "cancelOrder": _OWN,
    "shipOrder": _OWN,
    "markOrderDelivered": _OWN,
    "acceptOrder": _OWN,
    "openCase": (*_OWN, "one-open-case-within-the-window"),
    "answerCase": (*_OWN, "one-open-case-within-the-window"),
    "addCaseMessage": (*_OWN, "one-open-case-within-the-window"),
    "leaveReview": (*_OWN, "one-review-per-accepted-order"),
    "answerReview": (*_OWN, "one-review-per-accepted-order"),
    "removeShippingAddress": _OWN,
    "updateShippingAddress": _OWN,
    # Acting on a member (following, blocking, ...) touches no item and no money.
    "blockUser": _OWN,
    "unblockUser": _OWN,
    "muteUser": _OWN,
    "unmuteUser": _OWN,
    "followUser": _OWN,
    "unfollowUser": _OWN,
    "recordClosetVisit": _OWN,
    "likeListing": _OWN,
    "unlikeListing": _OWN,
    "shareListing": _OWN,
    "addComment": _OWN,
    "editComment": _OWN,
    "deleteComment": _OWN,
    "sendMessage": _OWN,
    "markConversationRead": _OWN,
    "markNotificationsRead": _OWN,
}

# Every mutation of the accounts app: the rules that bind what it may reveal and whom it acts for.
ACCOUNT_PATHS = {
    "register": ("no-account-enumeration", "verified-before-use"),
    "login": ("verified-before-use",),
    "logout": _OWN,
    "updateProfile": _OWN,
    "requestEmailVerification": ("no-account-enumeration",),
    "verifyEmail": ("mailed-tokens-single-use-and-expiring", "verified-before-use"),
    "requestPasswordReset": ("no-account-enumeration",),
    "resetPassword": ("mailed-tokens-single-use-and-expiring", "new-credentials-sign-out"),
    "changePassword": ("password-proves-the-owner", "new-credentials-sign-out"),
    "changeEmail": ("password-proves-the-owner", "no-account-enumeration", "old-address-told"),
    "confirmEmailChange": ("mailed-tokens-single-use-and-expiring", "old-address-told"),
    "deleteAccount": ("password-proves-the-owner", "deletion-keeps-the-other-partys-order"),
    "requestDataExport": ("export-for-the-member-only",),
}

# Every mutation that makes or changes an order, an offer, a bundle or a bid: its money rules.
MONEY_PATHS = {
    "purchaseListing": ("charged-as-agreed",),
    "buyShowListing": ("buy-now-at-list-price", "charged-as-agreed"),
    "placeBid": ("auction-consent-and-floor",),
    "startShowAuction": ("auction-consent-and-floor",),
    "makeOffer": ("charged-as-agreed", "one-currency-basket"),
    "respondToOffer": ("charged-as-agreed", "one-currency-basket"),
    "withdrawOffer": _OWN,
    "addToBundle": ("one-currency-basket",),
    "removeFromBundle": ("one-currency-basket",),
    "checkoutBundle": ("one-currency-basket", "charged-as-agreed"),
    "addToOrder": ("add-on-same-closet-and-currency",),
    "cancelOrder": _OWN,
    "shipOrder": _OWN,
    "markOrderDelivered": _OWN,
    "acceptOrder": _OWN,
}

# Every mutation that takes a username, an email or a password: how identities are compared and
# guessing is limited.
IDENTITY_PATHS = {
    "register": ("one-identity-per-person",),
    "login": ("one-identity-per-person", "login-limits-without-lockout"),
    "requestEmailVerification": ("one-identity-per-person", "no-account-enumeration"),
    "requestPasswordReset": ("one-identity-per-person", "no-account-enumeration"),
    "resetPassword": ("mailed-tokens-single-use-and-expiring",),
    "changePassword": ("password-proves-the-owner",),
    "changeEmail": ("one-identity-per-person", "password-proves-the-owner"),
    "deleteAccount": ("password-proves-the-owner",),
}

# Every mutation that takes a push token: who holds the device.
DEVICE_PATHS = {
    "registerDevice": ("device-held-by-its-session",),
    "unregisterDevice": (*_OWN, "device-held-by-its-session"),
    # these take a mailed token, not a push token
    "verifyEmail": ("mailed-tokens-single-use-and-expiring",),
    "resetPassword": ("mailed-tokens-single-use-and-expiring",),
    "confirmEmailChange": ("mailed-tokens-single-use-and-expiring",),
}

# Every mutation that posts show chat or sets what it mutes.
CHAT_PATHS = {
    "sendShowMessage": ("muted-words-as-seen",),
    "setShowMutedWords": ("muted-words-as-seen",),
}
