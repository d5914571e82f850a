"""PostgreSQL backend whose test databases are UTF-8 with a UTF-8 ctype.

Django creates test databases with the server's default locale, which may be plain ``C``: under it
trigram matching and case folding of Korean, Chinese and Cyrillic text find nothing. Creating from
``template0`` with an explicit encoding and locale makes the test database match production.
"""

from django.db.backends.postgresql import base, creation

TEST_LOCALE = "C.UTF-8"


class DatabaseCreation(creation.DatabaseCreation):
    def sql_table_creation_suffix(self):
        test_settings = self.connection.settings_dict["TEST"]
        template = test_settings.get("TEMPLATE") or "template0"
        locale = test_settings.get("LOCALE", TEST_LOCALE)
        return (
            f"WITH ENCODING 'UTF8' LC_COLLATE '{locale}' LC_CTYPE '{locale}' "
            f"TEMPLATE {self._quote_name(template)}"
        )


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def get_connection_params(self):
        from conditions.search import NEAR_MISS_MIN_TRIGRAM_SIMILARITY

        params = super().get_connection_params()
        # Near misses are looked for with the word-similarity operator, which the trigram indexes
        # answer; it compares with this session setting.
        threshold = f"-c pg_trgm.word_similarity_threshold={NEAR_MISS_MIN_TRIGRAM_SIMILARITY}"
        params["options"] = f"{params.get('options', '')} {threshold}".strip()
        return params
