"""Readers for CSV / JSON Lines / Parquet (also gzipped) and row-level validation: no database."""
from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest

from mlcore.data.readers import ReadError, count_rows, detect_format, iter_chunks, preview, read_table
from mlcore.data.validate import (
    first_occurrence_errors,
    missing_required,
    neutralise,
    parse_timestamps,
    suggest_mapping,
    validate_chunk,
    write_error_report,
)

CSV = "id,title,price\nA1,Mug,2.50\nA2,Plate,3\n"
PRODUCTS = {"id": "id", "title": "title", "price": "price"}


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_it_detects_the_format_from_the_extension():
    assert detect_format("a.csv").kind == "csv"
    assert detect_format("a.JSONL.gz") == detect_format("a.jsonl.gz")
    assert detect_format("a.parquet").gzipped is False
    with pytest.raises(ReadError, match="not a supported file type"):
        detect_format("a.xlsx")


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz", "p.jsonl", "p.jsonl.gz", "p.parquet", "p.parquet.gz"])
def test_it_reads_every_format_to_the_same_text_table(tmp_path, name):
    frame = pd.DataFrame({"id": ["A1", "A2"], "title": ["Mug", "Plate"], "price": ["2.50", "3"]})
    if ".csv" in name:
        data = CSV.encode()
    elif ".jsonl" in name:
        data = "".join(json.dumps(r) + "\n" for r in frame.to_dict("records")).encode()
    else:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        data = buffer.getvalue()
    if name.endswith(".gz"):
        data = gzip.compress(data)
    table = read_table(_write(tmp_path, name, data))
    assert table[["id", "title", "price"]].to_numpy().tolist() == [["A1", "Mug", "2.50"], ["A2", "Plate", "3"]]
    first_row = 2 if ".csv" in name else 1
    assert table["_row"].tolist() == [first_row, first_row + 1]
    assert count_rows(_write(tmp_path, name, data)) in (2, None)


def test_it_turns_typed_json_values_into_text(tmp_path):
    path = _write(tmp_path, "e.jsonl", b'{"id": 7, "price": 2.5, "stock": true}\n\n{"id": 8, "price": null}\n')
    table = read_table(path)
    assert table["id"].tolist() == ["7", "8"]
    assert table["price"].tolist() == ["2.5", ""]
    assert table["_row"].tolist() == [1, 3]  # blank lines keep the numbering honest


@pytest.mark.parametrize("data, expected", [
    ("id,title\nA1,Café crème\n".encode("latin-1"), "not valid UTF-8.*byte 0xE9.*Save it as UTF-8"),
    ("id,title\nA1,Mug\n".encode("utf-16"), "UTF-16.*Save it as UTF-8"),
])
def test_it_rejects_a_wrong_encoding_with_a_fix(tmp_path, data, expected):
    with pytest.raises(ReadError, match=expected):
        read_table(_write(tmp_path, "p.csv", data))


def test_it_rejects_an_empty_file(tmp_path):
    with pytest.raises(ReadError, match=r"empty \(0 bytes\)"):
        read_table(_write(tmp_path, "p.csv", b""))


def test_it_rejects_a_file_with_only_a_header(tmp_path):
    with pytest.raises(ReadError, match="header row but no data rows"):
        read_table(_write(tmp_path, "p.csv", b"id,title,price\n"))


def test_it_names_the_line_of_broken_json(tmp_path):
    with pytest.raises(ReadError, match="Line 2 .* not valid JSON"):
        read_table(_write(tmp_path, "p.jsonl", b'{"id": 1}\n{"id": \n'))


def test_preview_gives_the_columns_and_first_rows(tmp_path):
    columns, rows = preview(_write(tmp_path, "p.csv", CSV.encode()), rows=1)
    assert columns == ["id", "title", "price"]
    assert rows == [["A1", "Mug", "2.50"]]


def _validate(csv_text: str, kind: str = "products", mapping=PRODUCTS, extra=()):
    frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    frame["_row"] = frame.index + 2
    return validate_chunk(frame, kind=kind, mapping=mapping, attribute_columns=extra)


def test_it_rejects_a_non_numeric_price_naming_row_column_and_value():
    clean, errors = _validate("id,title,price\nA1,Mug,2.50\nA2,Plate,two pounds\n")
    assert clean["id"].tolist() == ["A1"]
    assert clean["price"].tolist() == [2.5]
    [error] = errors
    assert (error.row, error.field, error.column, error.value) == (3, "price", "price", "two pounds")
    assert "expected a plain number like 2.55" in error.message and "row 3" in error.message


def test_it_requires_a_title():
    _clean, [error] = _validate("id,title,price\nA1,,2\n")
    assert error.field == "title" and "a value is required" in error.problem


def test_it_keeps_unmapped_columns_as_attributes():
    clean, _ = _validate("id,title,colour,size\nA1,Mug,red,\n", mapping={"id": "id", "title": "title"},
                         extra=["colour", "size"])
    assert clean["attributes"].tolist() == [{"colour": "red"}]


def test_it_names_the_first_row_of_a_duplicate_id():
    clean, _ = _validate("id,title\nA1,Mug\nA2,Plate\nA1,Mug again\n", mapping={"id": "id", "title": "title"})
    [error] = first_occurrence_errors(clean, "id", "product id")
    assert error.row == 4 and "already appears in row 2" in error.problem


def test_it_parses_several_timestamp_formats_and_reads_slashes_day_first():
    raw = pd.Series(["2010-12-01 08:26:00", "2010-12-01T08:26:00+01:00", "01/12/2010 08:26", "12/31/2010 10:00",
                     "1291191960", "yesterday-ish", ""], dtype="str")
    parsed = parse_timestamps(raw)
    assert str(parsed[0]) == "2010-12-01 08:26:00+00:00"
    assert str(parsed[1]) == "2010-12-01 07:26:00+00:00"
    assert str(parsed[2]) == "2010-12-01 08:26:00+00:00"
    assert str(parsed[3]) == "2010-12-31 10:00:00+00:00"
    assert str(parsed[4]) == "2010-12-01 08:26:00+00:00"
    assert parsed[5:].isna().all()


def test_it_rejects_an_unparseable_date():
    mapping = {"sku": "product", "when": "timestamp"}
    clean, [error] = _validate("sku,when\nA1,2011-01-02\nA1,next tuesday\n", "events", mapping)
    assert len(clean) == 1
    assert (error.row, error.field, error.value) == (3, "timestamp", "next tuesday")
    assert "expected a date and time" in error.problem


def test_negative_quantities_become_returns_with_a_value():
    mapping = {"sku": "product", "when": "timestamp", "qty": "quantity", "unit": "price"}
    clean, errors = _validate("sku,when,qty,unit\nA1,2011-01-02,2,1.50\nA1,2011-01-03,-2,1.50\n", "events", mapping)
    assert errors == []
    assert clean["type"].tolist() == ["purchase", "return"]
    assert clean["quantity"].tolist() == [2, 2]
    assert clean["value"].tolist() == [3.0, 3.0]


def test_an_event_without_a_product_is_rejected_unless_it_is_a_search():
    mapping = {"sku": "product", "when": "timestamp", "kind": "type", "q": "query"}
    clean, [error] = _validate("sku,when,kind,q\n,2011-01-02,search,red mug\n,2011-01-02,view,\n", "events", mapping)
    assert clean["type"].tolist() == ["search"]
    assert error.row == 3 and error.field == "product"


def test_it_suggests_a_mapping_from_similar_names_and_the_saved_one():
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    assert suggest_mapping(columns, "events") == {
        "InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
        "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}
    assert suggest_mapping(["StockCode", "Description"], "products") == {
        "StockCode": "id", "Description": "description"}
    assert suggest_mapping(["StockCode", "Description"], "products", saved={"Description": "title"}) == {
        "StockCode": "id", "Description": "title"}
    assert missing_required({"StockCode": "id"}, "products") == ["title"]


def test_the_error_report_neutralises_formulas():
    _clean, errors = _validate("id,title,price\nA1,Mug,=HYPERLINK(\"http://x\")\nA2,Cup,+1+2\n")
    out = io.StringIO()
    assert write_error_report(errors, out) == 2
    cells = [row.split(",", 4)[3] for row in out.getvalue().splitlines()[1:]]
    assert all(c.lstrip('"').startswith("'") for c in cells)
    assert [neutralise(v) for v in ["=1", "+1", "-1", "@x", "\tx", "\rx", "ok"]] == [
        "'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok"]


def test_it_reads_big_files_in_chunks(tmp_path):
    rows = "".join(f"P{i},Item {i},1\n" for i in range(25))
    chunks = list(iter_chunks(_write(tmp_path, "p.csv", ("id,title,price\n" + rows).encode()), chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert chunks[-1]["_row"].tolist()[-1] == 26
