"""Each app owns its error codes (its errors.py); the GraphQL `ErrorCode` enum is all of them."""

import enum
import importlib
from pathlib import Path

from config import layers
from config.errors import CommonError, ServiceError
from config.graphql.errors import DOMAIN_CODES, ErrorCode, graphql_code

ROOT = Path(__file__).resolve().parents[2]


def _apps_code_enums() -> set[type[enum.Enum]]:
    found = {CommonError}
    for app in layers.LAYERS:
        if (ROOT / app / "errors.py").exists():
            module = importlib.import_module(f"{app}.errors")
            found |= {
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == module.__name__
            }
    return found


def test_every_apps_codes_are_in_the_graphql_enum_once():
    assert set(DOMAIN_CODES) == _apps_code_enums()
    every_code = [code for domain in DOMAIN_CODES for code in domain]
    assert [member.name for member in ErrorCode] == [code.name for code in every_code]
    assert len({code.value for code in every_code}) == len(every_code)


def test_a_service_error_reaches_the_client_as_its_apps_code():
    from marketplace.errors import CheckoutError

    error = ServiceError(CheckoutError.SOLD_OUT, "Sold.").errors[0]
    assert graphql_code(error.code) is ErrorCode.SOLD_OUT
