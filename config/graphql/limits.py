"""Limits on GraphQL documents (OWASP GraphQL Cheat Sheet), shared by HTTP and WebSocket.

`parse_document` bounds the parser's work; `validate_document` checks aliases, depth, cost,
unstorable text and introspection before the standard rules. Both read settings per call so tests
can change them.
"""

import re

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    get_named_type,
    is_interface_type,
    is_object_type,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import ValidationRule


def parse_document(query: str) -> DocumentNode:
    """Parse with bounded work; raises GraphQLError on syntax errors or too many tokens."""
    return parse(
        query,
        no_location=False,
        max_lexical_tokens=settings.GRAPHQL_MAX_TOKENS,
        max_comments=settings.GRAPHQL_MAX_TOKENS,
        max_source_length=settings.GRAPHQL_MAX_BODY_BYTES,
    )


# Text that no column can store: U+0000 (PostgreSQL text refuses it) and lone surrogates (they have
# no UTF-8 encoding). Refused up front, they would fail in the database driver as a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "Text may not contain NUL characters (U+0000) or lone surrogates."


def is_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def validate_document(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """The limits first: a document over one is refused after one walk, not the standard rules' thirty."""
    limits = [AliasLimitRule, ComplexityRule, StorableTextRule]
    if not settings.GRAPHQL_INTROSPECTION:
        limits.append(IntrospectionRule)
    return validate(schema, document, limits, max_errors=20) or validate(
        schema, document, specified_rules, max_errors=20
    )


class AliasLimitRule(ValidationRule):
    """Aliases let one request repeat a costly field many times (alias overloading)."""

    def enter_document(self, node, *_args):
        aliases = 0

        def count(selection_set):
            nonlocal aliases
            for selection in selection_set.selections if selection_set else ():
                if isinstance(selection, FieldNode) and selection.alias:
                    aliases += 1
                count(getattr(selection, "selection_set", None))

        for definition in node.definitions:
            count(getattr(definition, "selection_set", None))
        if aliases > settings.GRAPHQL_MAX_ALIASES:
            self.report_error(
                GraphQLError(f"Too many aliases ({aliases}); the limit is {settings.GRAPHQL_MAX_ALIASES}.")
            )


class StorableTextRule(ValidationRule):
    """String literals may spell U+0000 or a lone surrogate as an escape."""

    def enter_string_value(self, node, *_args):
        if is_unstorable(node.value):
            self.report_error(GraphQLError(UNSTORABLE_TEXT, node))


class IntrospectionRule(ValidationRule):
    """Refuse schema introspection (`__schema`, `__type`); `__typename` stays, clients rely on it."""

    def enter_field(self, node, *_args):
        if node.name.value in ("__schema", "__type"):
            self.report_error(GraphQLError(f"Cannot query '{node.name.value}': introspection is disabled.", node))


class ComplexityRule(ValidationRule):
    """Depth and estimated cost of each operation, with fragments expanded where spread.

    Cost is one per field, times the page size of every enclosing connection (its literal
    `first`/`last`, or the server's cap when it is a variable or absent). The walk skips fragment
    cycles (the standard rules report them) and stops as soon as a limit is passed, so a document
    crafted to explode costs only the limit to reject. Introspection fields do not count.
    """

    def enter_operation_definition(self, node, *_args):
        self.fragments = {
            definition.name.value: definition
            for definition in self.context.document.definitions
            if definition.kind == "fragment_definition"
        }
        self.max_depth, self.max_cost = settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COST
        self.deepest = 0
        root = self.context.schema.get_root_type(node.operation)
        if root is None:
            return
        cost = self._walk(node.selection_set, root, 1, 0, frozenset(), self.max_cost)
        if self.deepest > self.max_depth:
            self.report_error(
                GraphQLError(
                    f"The query is nested too deeply ({self.deepest} levels); the limit is {self.max_depth}.", node
                )
            )
        elif cost > self.max_cost:
            self.report_error(GraphQLError(f"The query is too expensive; its cost exceeds {self.max_cost}.", node))

    def _walk(self, selection_set, parent_type, multiplier, depth, spread_path, budget) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                total += multiplier
                self.deepest = max(self.deepest, depth + 1)
                field = _field_of(parent_type, selection.name.value)
                if selection.selection_set is not None and field is not None:
                    child_type = get_named_type(field.type)
                    total += self._walk(
                        selection.selection_set,
                        child_type,
                        multiplier * _page_size(selection, child_type),
                        depth + 1,
                        spread_path,
                        budget - total,
                    )
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                fragment_type = self.context.schema.get_type(condition.name.value) if condition else None
                total += self._walk(
                    selection.selection_set,
                    fragment_type or parent_type,
                    multiplier,
                    depth,
                    spread_path,
                    budget - total,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread_path:
                    continue
                fragment_type = self.context.schema.get_type(fragment.type_condition.name.value)
                total += self._walk(
                    fragment.selection_set,
                    fragment_type or parent_type,
                    multiplier,
                    depth,
                    spread_path | {name},
                    budget - total,
                )
            if total > budget or self.deepest > self.max_depth:
                return total
        return total


def _field_of(parent_type, name):
    if is_object_type(parent_type) or is_interface_type(parent_type):
        return parent_type.fields.get(name)
    return None


def _page_size(field_node: FieldNode, field_type) -> int:
    if not field_type.name.endswith("Connection"):
        return 1
    cap = settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
    for argument in field_node.arguments:
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), cap))
            return cap
    return cap
