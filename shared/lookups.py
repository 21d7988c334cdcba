"""The domain types of the path segments and query values that look something up.

A lookup stores nothing, yet a value no object can have is the caller's mistake, not an empty
page or a 404: typed here, a malformed one is a 422 naming the parameter, and each service's
OpenAPI document says what a well-formed one is (`tests/unit/test_lookup_parameters.py` keeps
every path and query string of the four documents constrained, or listed as free text).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

from shared.events import Id
from shared.validation import no_invisible_in_identifier, one_spelling

# Ids the desk hands out or that came in as an `Id` (cases, returns, sellers, partners).
IdPath = Annotated[Id, Path()]
IdQuery = Annotated[Id | None, Query()]

# A hub's or an agent's code is what the partner sent (a `PartnerCode`: up to 64 characters, no
# control or invisible character, spaces allowed), so an entity's id is looked up as such;
# sellers and buyers are narrower `Id`s, which this includes. The pattern states the controls
# in a form every reader of the document takes (Python's `re` has no `\p{Cc}`); the format
# characters, scattered over Unicode, are refused by the partners' own rule.
ENTITY_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"


def _as_stored(value: object) -> object:
    # Looked up in the one spelling a partner's codes are stored in (`one_spelling`): the hub
    # `HUB-É` asked for decomposed, or `ＨＵＢ１` in fullwidth, is the hub stored.
    return one_spelling(value) if isinstance(value, str) else value


EntityId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ENTITY_ID_PATTERN),
    # After the constraints in this list, so that it runs before them (and the document keeps
    # the pattern, which a validator listed first would hide).
    BeforeValidator(_as_stored),
    AfterValidator(no_invisible_in_identifier),
]
EntityIdPath = Annotated[EntityId, Path()]
EntityIdQuery = Annotated[EntityId | None, Query()]

# A policy version's name, as a draft is named (`DraftIn.version`: `sop-v1.1-draft`).
POLICY_VERSION_PATTERN = r"^[a-z0-9][a-z0-9.\-]*$"
PolicyVersion = Annotated[str, Field(min_length=1, max_length=40, pattern=POLICY_VERSION_PATTERN)]
PolicyVersionPath = Annotated[PolicyVersion, Path()]

# A finding's pattern as fraud names it (`CLAIM_ABUSE`, `PILFERAGE_AGENT`): an upper-case code.
# The set grows with the detectors (a prefix per entity type), so it is a shape, not an enum.
FindingPatternQuery = Annotated[
    str | None, Query(min_length=1, max_length=40, pattern=r"^[A-Z][A-Z0-9_]*$")
]
