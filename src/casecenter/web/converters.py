"""URL converters: an object id is 1 to 15 digits.

Django's ``int`` converter takes any run of digits, and a 25-digit id reaches
the database as a value no integer column holds (SQLite: OverflowError,
PostgreSQL: out of range) — a 500 for a typo. With at most 15 digits such a
URL is simply not found.
"""


class IdConverter:
    regex = "[0-9]{1,15}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
