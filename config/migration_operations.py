"""Schema changes a big, busy table takes without being locked for a scan.

`MakeUniqueAndRequired` turns a nullable, filled column into a unique NOT NULL one, the end
state of an AlterField. On PostgreSQL it does so without holding a lock that stops reads or writes
for the length of a scan:

1. `CREATE UNIQUE INDEX CONCURRENTLY` (writes go on while it builds; a failed build leaves an
   invalid index, which a new try drops first);
2. `ADD CONSTRAINT ... UNIQUE USING INDEX` (takes the built index: a catalog change, no scan);
3. `ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT` (scans
   under a lock that lets reads and writes go on), then `SET NOT NULL` (PostgreSQL 12+ skips its
   own scan thanks to the validated check), then the check is dropped.

The migration holding it must be `atomic = False` (CONCURRENTLY runs outside a transaction).
Elsewhere (SQLite in development and tests) it is the plain AlterField.
"""

from django.db import migrations


class MakeUniqueAndRequired(migrations.AlterField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        table, column = self._table_and_column(app_label, to_state)
        unique, check = f"{table}_{column}_uniq", f"{table}_{column}_notnull"
        quote = schema_editor.quote_name
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid, c.conname IS NOT NULL FROM pg_class x JOIN pg_index i "
                "ON i.indexrelid = x.oid LEFT JOIN pg_constraint c ON c.conindid = x.oid "
                "WHERE x.relname = %s",
                [unique],
            )
            found = cursor.fetchone()
        statements = []
        if found and not found[0]:
            statements.append(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(unique)}")
        if not found or not found[0]:
            statements.append(f"CREATE UNIQUE INDEX CONCURRENTLY {quote(unique)} ON {quote(table)} ({quote(column)})")
        if not found or not found[1]:
            statements.append(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(unique)} UNIQUE USING INDEX {quote(unique)}"
            )
        statements += [
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(check)}",
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(check)} CHECK ({quote(column)} IS NOT NULL) NOT VALID",
            f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(check)}",
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET NOT NULL",
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(check)}",
        ]
        for statement in statements:
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        table, column = self._table_and_column(app_label, from_state)
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(f'{table}_{column}_uniq')}")
        schema_editor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} DROP NOT NULL")

    def _table_and_column(self, app_label, state):
        model = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table, model._meta.get_field(self.name).column

    def describe(self):
        return f"Make {self.model_name}.{self.name} unique and required (concurrently on PostgreSQL)"
