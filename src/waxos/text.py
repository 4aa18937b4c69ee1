"""Text as it may enter through a request: the shared pydantic types that refuse control characters.

Every `str` field of a request schema uses one of these, and they document themselves in the OpenAPI
schema with a `pattern` (a test walks the API's documented requests to keep it so). A NUL byte is the
sharpest case: PostgreSQL refuses it in text, so without this an email of `"a\\u0000b"` was a 500 deep
in the database driver instead of a 422 at the door. Unpaired surrogates are refused alike: no database
or UTF-8 encoder accepts them.

    from waxos.text import SingleLineText
    class Body(BaseModel):
        name: Annotated[SingleLineText, Field(max_length=200)]
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# C0 controls, DEL, C1 controls, and UTF-16 surrogates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab, line feed and carriage return, which multi-line text (a message body) may hold.
_CONTROL_BUT_LAYOUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value) is not None:
        raise ValueError("must not contain control characters")
    return value


def _multiline(value: str) -> str:
    if _CONTROL_BUT_LAYOUT.search(value) is not None:
        raise ValueError("must not contain control characters other than tab and line breaks")
    return value


# What the checks enforce, as JSON Schema patterns for the API documentation (which cannot name
# surrogates: JSON parsers refuse unpaired ones already).
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

SingleLineText = Annotated[
    str, AfterValidator(_single_line), Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN})
]
"""A name, an email, a code, a password: no control character at all."""

MultilineText = Annotated[
    str, AfterValidator(_multiline), Field(json_schema_extra={"pattern": MULTILINE_PATTERN})
]
"""Free text over several lines (a message body): tab, line feed and carriage return allowed."""
