"""CSV exports as CRMs and spreadsheets write them: header case, delimiters, other CRMs' labels, footers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.adapters import load_mappings
from app.cli import adapt_rows, read_rows
from tests.cli.test_cli import run


def adapt(tmp_path: Path, text: str, record_type: str, source: str = "auto",
          encoding: str = "utf-8") -> tuple[list[Any], list[str]]:
    export = tmp_path / "export.csv"
    export.write_bytes(text.encode(encoding))
    notes: list[str] = []
    return list(adapt_rows(read_rows(export, say=notes.append), record_type, source, load_mappings(),
                           say=notes.append)), notes


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


# Excel in a German locale: ';' between columns, Windows-1252, amounts and dates as the locale writes them
EXCEL_DE = ("Opportunity Owner;Account Name;Opportunity Name;Stage;Amount;Close Date;Description\n"
            "Jürgen Weiß;Müller GmbH;Müller – Generatoren;Prospecting;\"EUR 75.000,00\";31.12.2024;"
            "\"Notstrom; 3 Standorte\"\n")


def test_a_semicolon_separated_export_is_read_by_its_header(tmp_path: Path) -> None:
    """helper-66 (finding 2): a ';' file was one column, 'Opportunity Owner;Account Name;…', and every deal
    was missing everything."""
    [deal], notes = adapt(tmp_path, EXCEL_DE, "opportunity", encoding="cp1252")
    assert deal.record == {"owner_id": "Jürgen Weiß", "name": "Müller – Generatoren", "stage": "Prospecting",
                           "amount": "EUR 75.000,00", "close_date": "31.12.2024",
                           "problem_statement": "Notstrom; 3 Standorte"}  # read_written reads the last two
    assert notes[0].endswith("export.csv is not UTF-8; read as Windows-1252")
    assert notes[1] == "columns separated by semicolon (the header's; --delimiter to choose another)"
    assert notes[2].startswith("read with the Salesforce Opportunity mapping: 7 of 7")


def test_tab_pipe_and_excel_sep_line(tmp_path: Path) -> None:
    for text, how in [("Email\tLast Name\tCompany\nann@acme.com\tLee\tAcme, Inc.\n", "the header's"),
                      ("Email|Last Name|Company\nann@acme.com|Lee|Acme, Inc.\n", "the header's"),
                      ("sep=;\nEmail;Last Name;Company\nann@acme.com;Lee;Acme, Inc.\n",
                       "as its sep= line says")]:
        [lead], notes = adapt(tmp_path, text, "lead")
        assert lead.record == {"email": "ann@acme.com", "last_name": "Lee", "company": "Acme, Inc."}
        assert how in notes[0]
    # a comma between quotes is no delimiter: the header's semicolons are
    [lead], _ = adapt(tmp_path, '"Company, legal name";Email\n"Acme, Inc.";ann@acme.com\n', "lead",
                      "canonical")
    assert lead.record == {"Company, legal name": "Acme, Inc.", "email": "ann@acme.com"}
    # given outright, the delimiter is not guessed (a header with more commas than tabs)
    export = tmp_path / "export.csv"
    export.write_text("Email\tCompany\nann@acme.com\tAcme, Inc., Ltd.\n")
    assert list(read_rows(export, "\t")) == [{"Email": "ann@acme.com", "Company": "Acme, Inc., Ltd."}]


# a Salesforce report export's footer, after a blank line
REPORT_WITH_FOOTER = (
    '"Opportunity Owner","Opportunity Name","Stage","Amount","Close Date"\n'
    '"Jane Smith","Edge SLA","Prospecting","USD 60,000.00","9/30/2024"\n'
    '\n'
    '"Tom Jones","Grand Hotels Generator","Prospecting","USD 15,000.00","5/6/2024"\n'
    '\n'
    '"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n')


def test_a_report_footer_is_no_record(tmp_path: Path) -> None:
    """helper-66 (finding 6): 7 results for 5 deals, one deal owned by 'Confidential Information - Do Not
    Distribute'."""
    deals, notes = adapt(tmp_path, REPORT_WITH_FOOTER, "opportunity")
    assert [d.record["name"] for d in deals] == ["Edge SLA", "Grand Hotels Generator"]
    assert notes[-1] == ("skipped 2 line(s) after the last record that fill only the first column, a "
                         "report's footer: 'Confidential Information - Do Not Distribute'")
    # rows filling the first column only are records when more records follow them, or with no blank before
    text = ("Id,Email\n003A1,a@acme.com\n\n003A2\n003A3,c@acme.com\n003A4\n")
    contacts, notes = adapt(tmp_path, text, "contact")
    assert [c.record["id"] for c in contacts] == ["003A1", "003A2", "003A3", "003A4"]
    assert not any("footer" in n for n in notes)


def test_the_cli_reads_a_european_report_with_its_footer(tmp_path: Path) -> None:
    """The whole path: ';' (said once), Windows-1252 (said once, not once per pass over the file: helper-66
    finding 15), the footer skipped and said, --delimiter accepted and a bad one refused."""
    export = tmp_path / "report.csv"
    export.write_bytes((EXCEL_DE + "\n\"Vertrauliche Informationen – nicht weitergeben\"\n").encode("cp1252"))
    out = tmp_path / "out.json"
    done = run("score", str(export), "--type", "opportunities", "--local", "--quiet", "--out", str(out),
               "--now", "2024-06-15T12:00:00Z")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(out.read_text())["results"]
    missing = {i["field"] for i in result["issues"] if i["rule"] == "opportunity.required.missing"}
    assert missing == {"next_step"}  # the only required column the export lacks
    assert "opportunity.amount.as_text" not in {i["rule"] for i in result["issues"]}
    assert done.stderr.count("read as Windows-1252") == 1
    assert done.stderr.count("columns separated by semicolon") == 1
    assert "skipped 1 line(s) after the last record" in done.stderr
    done = run("score", str(export), "--type", "opportunities", "--local", "--quiet", "--out", str(out),
               "--delimiter", "tab")
    assert done.returncode == 0 and "0 of 1 columns" in done.stderr  # told, so it reads one column
    done = run("score", str(export), "--type", "opportunities", "--local", "--delimiter", "semi")
    assert done.returncode == 1 and "--delimiter 'semi'" in done.stderr
