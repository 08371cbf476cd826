"""name.casing suggestions change the case of a name and nothing else: not its order, punctuation, spacing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring.engine import score_record
from app.scoring.rules.standardize import proper_name
from app.scoring.ruleset import Ruleset
from tests.conftest import NOW


def same_but_case(suggested: str, written: str) -> bool:
    """Each character is the written one, or it in another case ('I' for 'ı', 'ς' for 'Σ')."""
    return len(suggested) == len(written) and all(
        a.upper() == b.upper() or a.lower() == b.lower() for a, b in zip(suggested, written, strict=True))


@pytest.mark.parametrize(("text", "expected"), [
    # nameparser's whole name re-ordered and re-wrote these
    ("SMITH, JOHN", "Smith, John"), ("smith, john", "Smith, John"),
    ('ROBERT "BOB"', 'Robert "Bob"'), ("SMITH, JR.", "Smith, Jr."), ("SMITH-JONES, JR.", "Smith-Jones, Jr."),
    ("JOHN (JACK) SMITH", "John (Jack) Smith"), ("O'BRIEN-SMITH, MARY-KATE", "O'Brien-Smith, Mary-Kate"),
])
def test_a_casing_suggestion_keeps_the_order_and_punctuation_written(text: str, expected: str) -> None:
    assert proper_name(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("O'BRIEN", "O'Brien"), ("MCDONALD", "McDonald"), ("MCCARTHY-O'NEILL", "McCarthy-O'Neill"),
    ("D'ARCY", "D'Arcy"), ("DELL'ORTO", "Dell'Orto"), ("GARCÍA-LÓPEZ", "García-López"),
    ("MARÍA DEL CARMEN", "María del Carmen"), ("JUAN DE LA CRUZ", "Juan de la Cruz"),
    ("van der berg", "Van der Berg"), ("JAN VAN DER BERG", "Jan van der Berg"), ("ØRSTED", "Ørsted"),
    ("ĐOKOVIĆ", "Đoković"), ("ИВАНОВ", "Иванов"), ("ΠΑΠΑΔΟΠΟΥΛΟΣ", "Παπαδοπουλος"),
    ("LI", "Li"), ("NG", "Ng"),
    ("MACDONALD", "Macdonald"), ("MACHADO", "Machado"), ("maria machado", "Maria Machado"),
    ("JOHN SMITH III", "John Smith III"), ("DR. JOHN SMITH", "Dr. John Smith"),
    ("JEAN-PIERRE", "Jean-Pierre"),
])
def test_what_nameparser_capitalises_well_stays(text: str, expected: str) -> None:
    assert proper_name(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # the field's first word begins with a capital, particle or not ('Von Beethoven' but 'dos Santos' before)
    ("VON BEETHOVEN", "Von Beethoven"), ("DA SILVA", "Da Silva"), ("DOS SANTOS", "Dos Santos"),
    ("dos santos", "Dos Santos"), ("DE LA CRUZ", "De la Cruz"), ("TER HORST", "Ter Horst"),
    # a particle after a name word is nameparser's lower case
    ("HANS VON BEETHOVEN", "Hans von Beethoven"), ("JOÃO DA SILVA", "João da Silva"),
    ("MARIA DOS SANTOS", "Maria dos Santos"), ("maria dos santos", "Maria dos Santos"),
])
def test_particles_are_cased_by_where_they_stand(text: str, expected: str) -> None:
    assert proper_name(text) == expected


def test_the_spacing_written_is_kept(rules: Ruleset) -> None:
    """'MARY  ANN' was suggested as 'Mary Ann': a casing fix that also changed the spacing."""
    report = score_record("contact", {"first_name": " MARY  ANN ", "last_name": "SMITH, JR."}, rules, now=NOW)
    found = {i["field"]: i["suggestion"] for i in report["issues"] if i["rule"] == "contact.name.casing"}
    assert found == {"first_name": "Mary  Ann", "last_name": "Smith, Jr."}


_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzáéíñöøüçđßıїджσςπλ' -.,\"()&ǆ"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_NAME_CHARACTERS, min_size=1, max_size=40), st.booleans())
def test_a_casing_suggestion_is_the_name_in_another_case(text: str, upper: bool) -> None:
    written = (text.upper() if upper else text.lower()).strip()
    if not written:
        return
    assert same_but_case(proper_name(written), written), (written, proper_name(written))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["smith", "john", "o'brien", "mcdonald", "von", "de", "la", "dos", "santos",
                                 "jr.", "iii", "dr.", "garcía-lópez", "maría", "del", "carmen", "van", "der",
                                 "(bob)", '"bob"', ",", "macdonald", "ørsted", "đoković"]),
                min_size=1, max_size=6),
       st.sampled_from([" ", "  ", ", "]), st.booleans())
def test_a_casing_suggestion_of_name_words_is_the_name_in_another_case(words: list[str], gap: str,
                                                                       upper: bool) -> None:
    written = gap.join(words).strip()
    written = written.upper() if upper else written
    if written:
        assert same_but_case(proper_name(written), written), (written, proper_name(written))
