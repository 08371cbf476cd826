"""CSV exports as CRMs and spreadsheets write them: header case, delimiters, other CRMs' labels, footers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.adapters import load_mappings
from app.cli import adapt_rows, read_rows


def adapt(tmp_path: Path, text: str, record_type: str, source: str = "auto",
          encoding: str = "utf-8") -> tuple[list[Any], list[str]]:
    export = tmp_path / "export.csv"
    export.write_bytes(text.encode(encoding))
    notes: list[str] = []
    return list(adapt_rows(read_rows(export), record_type, source, load_mappings(), say=notes.append)), notes


# Data Loader's CSVFileWriter writes the header in capitals (forcedotcom/dataloader, capitalizedHeadings)
DATA_LOADER_CONTACTS = (
    '"ID","ISDELETED","MASTERRECORDID","ACCOUNTID","LASTNAME","FIRSTNAME","EMAIL","TITLE","OWNERID"\n'
    '"0035e00000AbCdEAAV","false","","0015e00000XyZaBAAV","Frank","Edna","efrank@genepoint.com",'
    '"VP, Technology","0055e000001KyEIAA0"\n'
    '"0035e00000AbCdGAAV","true","","0015e00000XyZaBAAV","Gone","Old","old@genepoint.com","CFO",'
    '"0055e000001KyEIAA0"\n')


def test_data_loader_capitals_are_the_api_names(tmp_path: Path) -> None:
    """helper-66 (finding 1): 0 of 9 columns recognised, every contact 'missing' its name and email, and the
    ISDELETED row scored."""
    contacts, notes = adapt(tmp_path, DATA_LOADER_CONTACTS, "contact")
    assert notes[0].startswith("read with the Salesforce Contact mapping: 9 of 9 columns recognised")
    live = [c for c in contacts if c.removal is None]
    assert [c.removal.source_field for c in contacts if c.removal] == ["ISDELETED"]
    assert live[0].record == {"id": "0035e00000AbCdEAAV", "account_id": "0015e00000XyZaBAAV",
                              "last_name": "Frank", "first_name": "Edna", "email": "efrank@genepoint.com",
                              "title": "VP, Technology", "owner_id": "0055e000001KyEIAA0"}
    assert live[0].source_fields["email"] == "EMAIL"  # findings name the column as the file wrote it


def test_header_names_with_spaces_and_any_case(tmp_path: Path) -> None:
    [deal], notes = adapt(tmp_path, " opportunity owner ,STAGE,close date,amount\nJane,Prospecting,"
                          "2024-09-30,100\n", "opportunity")
    assert notes[0].startswith("read with the Salesforce Opportunity mapping: 4 of 4")
    assert deal.record == {"owner_id": "Jane", "stage": "Prospecting", "close_date": "2024-09-30",
                           "amount": 100.0}
    [lead], _ = adapt(tmp_path, "EMAIL,Company,Last_Name\nann@acme.com,Acme,Lee\n", "lead", "canonical")
    assert lead.record == {"email": "ann@acme.com", "company": "Acme", "last_name": "Lee"}
