"""Mapping files (``salesops.io.mapping``) and how ``load`` applies them: alternatives, recodes,
constants, derived columns, row filters, ignored files; every mistake in a mapping names the file and key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import salesops
from salesops.io import LoadError, Mapping, resolve_mapping
from salesops.io.mapping import parse_mapping

AS_OF = "2024-06-30"


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_identity_mapping_reads_canonical_names():
    mapping = resolve_mapping(None)
    assert mapping.name == "canonical"
    assert [m.table for m in mapping.for_stem("Opportunities")] == ["opportunities"]
    assert mapping.for_stem("deals") == []


def test_mapping_objects_and_dicts_pass_through():
    mapping = resolve_mapping({"name": "x", "tables": {"reps": {"from": "users"}}})
    assert resolve_mapping(mapping) is mapping
    assert isinstance(mapping, Mapping) and mapping.sources[0].sources == ("users",)


@pytest.mark.parametrize(
    ("doc", "contains"),
    [
        ({"tables": {"deals": {}}}, ["unknown table 'deals'", "expected one of: accounts"]),
        ({"tables": {"reps": {"form": "users"}}}, ["table 'reps'", "unknown key(s) ['form']", "expected:"]),
        ({"tabels": {}}, ["expected a mapping with a 'tables:' section"]),
        ({"tables": {}, "stage": []}, ["unknown key(s) ['stage']", "expected: name, timezone"]),
        ({"tables": {"reps": {"columns": ["rep_id"]}}}, ["'columns' must be a mapping"]),
        ({"tables": {"reps": {"columns": {"rep_ident": "Id"}}}}, ["unknown column(s) ['rep_ident']", "columns of reps:"]),
        ({"tables": {"reps": {"values": {"role": "AE"}}}}, ["values of 'role' must map source values"]),
        ({"tables": {"reps": {"from": 5}}}, ["'from' must name a file or table"]),
        ({"tables": {"reps": {"where": "Field = x"}}}, ["'where' must map source columns"]),
        ({"tables": {"reps": {"columns": {"rep_id": []}}}}, ["column 'rep_id' maps to an empty list"]),
        ({"tables": {"reps": {"formats": {"hire_date": "dayfirst"}}}}, ["formats of 'hire_date' must be a mapping"]),
        ({"tables": {"reps": "users"}}, ["table 'reps': expected a mapping with 'from:'"]),
        ({"tables": {}, "stages": {"Won": 1}}, ["'stages' must be a list"]),
        ({"tables": {}, "ignore": [1]}, ["'ignore' must be a list of file or table names"]),
    ],
)
def test_mapping_mistakes_name_the_file_and_key(doc, contains):
    with pytest.raises(LoadError) as info:
        parse_mapping(doc, origin="my_mapping.yaml")
    message = str(info.value)
    assert "my_mapping.yaml" in message
    for text in contains:
        assert text in message


def test_missing_mapping_file_and_bad_yaml(tmp_path):
    with pytest.raises(LoadError, match=r"mapping file 'nope.yaml' not found.*salesforce, hubspot, maven_crm"):
        resolve_mapping("nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables: [unclosed", encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad.yaml: not valid YAML"):
        resolve_mapping(bad)


def test_alternatives_case_and_recodes(tmp_path):
    folder = _write(tmp_path / "src", {
        "Users.csv": "USERID,Full Name,TITLE\nU1,Ana Silva,Account Executive\nU2,Ben Owusu,SDR\n",
    })
    mapping = {"tables": {"reps": {
        "from": "users",  # stems match in any case
        "columns": {"rep_id": ["Id", "UserId"], "name": "Full Name", "role": ["Role", "Title"]},
        "values": {"role": {"Account Executive": "AE"}},
    }}}
    data = salesops.load(folder, mapping=mapping, as_of=AS_OF)
    assert data.reps[["rep_id", "name", "role"]].values.tolist() == [["U1", "Ana Silva", "AE"], ["U2", "Ben Owusu", "SDR"]]


def test_missing_mapped_column_names_every_alternative(tmp_path):
    folder = _write(tmp_path / "src", {"users.csv": "Name,Title\nAna,AE\n"})
    mapping = {"tables": {"reps": {"from": "users", "columns": {"rep_id": ["Id", "UserId"], "name": "Name", "role": "Title"}}}}
    with pytest.raises(LoadError) as info:
        salesops.load(folder, mapping=mapping)
    message = str(info.value)
    for text in ("users.csv", "'Id' or 'UserId'", "reps.rep_id", "the file has: Name, Title"):
        assert text in message


def test_constants_fill_gaps_and_missing_columns(tmp_path):
    folder = _write(tmp_path / "src", {"users.csv": "Id,Name,Role\nU1,Ana,\nU2,Ben,SDR\n"})
    mapping = {"tables": {"reps": {"from": "users", "columns": {"rep_id": "Id", "name": "Name", "role": "Role"},
                                   "constants": {"role": "AE", "region": "EMEA"}}}}
    reps = salesops.load(folder, mapping=mapping, as_of=AS_OF).reps
    assert reps["role"].tolist() == ["AE", "SDR"]
    assert reps["region"].tolist() == ["EMEA", "EMEA"]
    # a required column whose source is absent altogether takes its constant too
    folder = _write(tmp_path / "src2", {"users.csv": "Id,Name\nU1,Ana\n"})
    reps = salesops.load(folder, mapping=mapping, as_of=AS_OF).reps
    assert reps["role"].tolist() == ["AE"]


def test_derived_columns(tmp_path):
    folder = _write(tmp_path / "src", {
        "owners.csv": "id,firstName,lastName\n1,Ana,Silva\n2,,Owusu\n3,,\n",
        "sales.csv": "cust,day,qty,price\n00001,2024-01-05,2,\"$1,000.50\"\n00002,2024-01-06,x,3\n",
    })
    mapping = {"tables": {
        "reps": {"from": "owners", "columns": {"rep_id": "id"}, "derive": {"name": "{firstName} {lastName}"},
                 "constants": {"role": "AE"}},
        "transactions": {"from": "sales", "columns": {"customer_id": "cust", "date": "day", "quantity": "qty"},
                         "derive": {"amount": "qty * price"}},
    }}
    data = salesops.load(folder, mapping=mapping, as_of=AS_OF)
    assert data.reps["name"].tolist() == ["Ana Silva", "Owusu"]
    assert data.transactions["amount"].tolist() == [2001.0]
    problems = data.quality.rejected.set_index("table")
    # a name with no parts is missing (not ""), an unreadable factor leaves the amount missing
    assert problems.loc["reps", ["row", "column", "check"]].tolist() == [3, "name", "not_null"]
    tx = problems.loc["transactions"]
    assert sorted(zip(tx["column"], tx["check"])) == [("amount", "not_null"), ("quantity", "type")]


def test_derive_mistakes(tmp_path):
    folder = _write(tmp_path / "src", {"sales.csv": "cust,day,qty\n1,2024-01-05,2\n"})
    required = {"tables": {"transactions": {"from": "sales", "columns": {"customer_id": "cust", "date": "day"},
                                            "derive": {"amount": "qty * UnitPrice"}}}}
    with pytest.raises(LoadError, match=r"sales.csv: cannot compute amount = 'qty \* UnitPrice'.*columns: cust, day, qty"):
        salesops.load(folder, mapping=required)
    # an optional derived column whose inputs the file lacks is simply absent
    optional = {"tables": {"transactions": {"from": "sales", "columns": {"customer_id": "cust", "date": "day", "amount": "qty"},
                                            "derive": {"quantity": "Units * 1"}}}}
    tx = salesops.load(folder, mapping=optional, as_of=AS_OF).transactions
    assert "quantity" not in tx.columns
    template = {"tables": {"transactions": {"from": "sales", "columns": {"customer_id": "cust", "date": "day", "amount": "qty"},
                                            "derive": {"product": "{sku}-{qty}"}}}}
    with pytest.raises(LoadError, match=r"cannot compute product = '\{sku\}-\{qty\}': column\(s\) sku missing"):
        salesops.load(folder, mapping=template)


def test_where_filters_rows_and_reports_the_rest(tmp_path):
    folder = _write(tmp_path / "src", {
        "opportunities.csv": "opportunity_id,account_id,owner_rep_id,created_date,close_date,stage,is_closed,is_won,amount\n"
                             "O1,A1,R1,2024-01-10,2024-03-28,Closed Won,true,true,100\n",
        "reps.csv": "rep_id,name,role\nR1,Ana,AE\n",
        "accounts.csv": "account_id,name\nA1,Acme\n",
        "FieldHistory.csv": "ParentId,CreatedDate,Field,NewValue\nO1,2024-01-10T10:00:00Z,StageName,Discovery\n"
                            "O1,2024-01-11T10:00:00Z,Amount,100\nO1,2024-03-28T10:00:00Z,StageName,Closed Won\n"
                            "O1,2024-03-28T10:00:01Z,CloseDate,2024-03-28\n",
    })
    mapping = {"tables": {"opportunity_history": {
        "from": "FieldHistory", "where": {"field": ["StageName"]},  # column names match in any case
        "columns": {"opportunity_id": "ParentId", "changed_at": "CreatedDate", "stage": "NewValue"}}}}
    data = salesops.load(folder, mapping=mapping, as_of=AS_OF)
    assert data.opportunity_history["stage"].tolist() == ["Discovery", "Closed Won"]
    counts = data.quality.table_counts().set_index("table").loc["opportunity_history"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (2, 2, 0)
    assert any("FieldHistory.csv: 2 row(s) not read into opportunity_history (kept: field in (StageName))" in e
               for e in data.quality.ignored)
    # row numbers still point at the file's lines
    mapping["tables"]["opportunity_history"]["columns"]["stage"] = "Field"
    bad = salesops.load(folder, mapping={**mapping, "stages": [{"stage": "x", "order": 1, "probability": 0,
                                                                "is_closed": False, "is_won": False}]}, as_of=AS_OF)
    rows = bad.quality.rejected.query("table == 'opportunity_history' and check == 'known_stage'")["row"].tolist()
    assert rows == [1, 3]
    with pytest.raises(LoadError, match=r"FieldHistory.csv: column 'Kind' \(in 'where' of table 'opportunity_history'\)"):
        salesops.load(folder, mapping={"tables": {"opportunity_history": {**mapping["tables"]["opportunity_history"],
                                                                          "where": {"Kind": "x"}}}})


def test_ignore_lists_files_as_not_read(tmp_path):
    folder = _write(tmp_path / "src", {"reps.csv": "rep_id,name,role\nR1,Ana,AE\n", "products.csv": "p,q\n1,2\n"})
    with pytest.raises(LoadError, match="'products' is not a known table"):
        salesops.load(folder)
    data = salesops.load(folder, mapping={"ignore": ["Products"], "tables": {}}, as_of=AS_OF)
    assert data.quality.ignored == ["products.csv (ignored by mapping <dict>)"]
    assert [t for t in data.tables] == ["stages", "reps"]


def test_mapping_stages_and_file_stages(tmp_path):
    folder = _write(tmp_path / "src", {
        "reps.csv": "rep_id,name,role\nR1,Ana,AE\n",
        "accounts.csv": "account_id,name\nA1,Acme\n",
        "opportunities.csv": "opportunity_id,account_id,owner_rep_id,created_date,close_date,stage,amount\n"
                             "O1,A1,R1,2024-01-10,2024-03-28,Signed,100\nO2,A1,R1,2024-01-10,2024-09-28,Talking,100\n",
    })
    stages = [{"stage": "Talking", "order": 1, "probability": 0.3, "is_closed": False, "is_won": False},
              {"stage": "Signed", "order": 2, "probability": 1.0, "is_closed": True, "is_won": True}]
    data = salesops.load(folder, mapping={"stages": stages, "tables": {}}, as_of=AS_OF)
    assert data.quality.ok
    opps = data.opportunities.set_index("opportunity_id")
    assert opps[["is_closed", "is_won"]].values.tolist() == [[True, True], [False, False]]
    # a stages.csv in the folder wins over the default stage list
    (folder / "stages.csv").write_text("stage,order,probability,is_closed,is_won\nTalking,1,0.3,false,false\n"
                                       "Signed,2,1,true,true\n", encoding="utf-8")
    data = salesops.load(folder, as_of=AS_OF)
    assert data.quality.ok and data.stages["stage"].tolist() == ["Talking", "Signed"]


def test_presets_are_valid_yaml_with_known_keys():
    for path in sorted((Path(__file__).resolve().parents[2] / "templates" / "mappings").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        mapping = parse_mapping(doc, origin=str(path), path=path)
        assert mapping.sources, path


def test_yaml_booleans_as_recode_keys_need_quotes():
    """YAML reads Yes/No as booleans: quoted keys recode the text "Yes", unquoted ones do not."""
    quoted = yaml.safe_load('tables: {reps: {values: {role: {"Yes": AE}}}}')
    unquoted = yaml.safe_load("tables: {reps: {values: {role: {Yes: AE}}}}")
    assert list(parse_mapping(quoted, "q").sources[0].values["role"]) == ["Yes"]
    assert list(parse_mapping(unquoted, "u").sources[0].values["role"]) == [True]


def test_frames_keep_their_values_with_a_mapping(tmp_path):
    """Columns the mapping does not name are kept when their name is canonical (normalised)."""
    folder = _write(tmp_path / "src", {"people.csv": "Id,Name,Role,Hire Date\nU1,Ana,AE,2024-01-02\n"})
    data = salesops.load(folder, mapping={"tables": {"reps": {"from": "people", "columns": {"rep_id": "Id"}}}}, as_of=AS_OF)
    assert data.reps.iloc[0].to_dict() == {"rep_id": "U1", "name": "Ana", "role": "AE", "hire_date": pd.Timestamp("2024-01-02")}


@pytest.mark.parametrize(("hint", "text", "expected"), [
    ("dayfirst", "26-02-2018 19:58", "2018-02-26 19:58"),
    ("dayfirst", "26/02/2018", "2018-02-26 00:00"),
    ("dayfirst", "03.04.2018 07:05:09", "2018-04-03 07:05:09"),
    ("monthfirst", "02-26-2018 19:58", "2018-02-26 19:58"),
    ("monthfirst", "02/26/2018 7:58 PM", "2018-02-26 19:58"),
    ("iso", "2018-02-26T19:58:00", "2018-02-26 19:58"),
    ("iso", "2018-02-26", "2018-02-26 00:00"),
])
def test_date_shorthands_take_an_optional_time(tmp_path, hint, text, expected):
    folder = _write(tmp_path / "src", {"leads.csv": f"id,first_contact,origin\nL1,{text},web\n"})
    mapping = {"date_format": hint, "tables": {"leads": {
        "from": "leads", "columns": {"lead_id": "id", "created_at": "first_contact", "source": "origin"}}}}
    data = salesops.load(folder, mapping=mapping, as_of=AS_OF)
    assert data.quality.ok, data.quality.rejected
    assert data.leads["created_at"].iloc[0] == pd.Timestamp(expected, tz="UTC")
    # the same hint per column, under formats:
    mapping = {"tables": {"leads": {
        "from": "leads", "columns": {"lead_id": "id", "created_at": "first_contact", "source": "origin"},
        "formats": {"created_at": {"date_format": hint}}}}}
    assert salesops.load(folder, mapping=mapping, as_of=AS_OF).leads["created_at"].iloc[0] == pd.Timestamp(
        expected, tz="UTC")


def test_on_invalid_null_keeps_the_row_and_reports_the_cell(tmp_path):
    files = {
        "users.csv": "Id,Name\nU1,Ana\n",
        "companies.csv": "Id,Name\nA1,Acme\n",
        "deals.csv": ("Id,Account,Owner,Created,Closed,Stage,Amount,Kind\n"
                      "D1,A1,U1,2024-01-02,2024-02-01,Closed Won,100,new_business\n"
                      "D2,A1,U1,2024-01-03,2024-02-02,Closed Won,200,Upsell\n"
                      "D3,A1,U1,2024-01-04,2024-02-03,Closed Lost,300,\n"),
    }
    folder = _write(tmp_path / "src", files)
    deals = {"from": "deals", "columns": {"opportunity_id": "Id", "account_id": "Account", "owner_rep_id": "Owner",
                                          "created_date": "Created", "close_date": "Closed", "stage": "Stage",
                                          "amount": "Amount", "type": "Kind"}}
    base = {"reps": {"from": "users", "columns": {"rep_id": "Id", "name": "Name"}, "constants": {"role": "AE"}},
            "accounts": {"from": "companies", "columns": {"account_id": "Id", "name": "Name"}}}
    strict = salesops.load(folder, mapping={"tables": {**base, "opportunities": deals}}, as_of=AS_OF)
    assert len(strict.opportunities) == 2 and set(strict.quality.rejected["value"]) == {"Upsell"}
    lenient = {**deals, "on_invalid": {"type": None}}  # YAML's `type: null`
    data = salesops.load(folder, mapping={"tables": {**base, "opportunities": lenient}}, as_of=AS_OF)
    assert data.quality.ok and len(data.opportunities) == 3
    kinds = data.opportunities.set_index("opportunity_id")["type"]
    assert kinds["D1"] == "new_business" and pd.isna(kinds["D2"]) and pd.isna(kinds["D3"])
    note = " ".join(data.quality.ignored)
    assert "1 value(s) of opportunities.type nulled" in note and "'Upsell'" in note
    # only optional columns, and only null or reject
    with pytest.raises(LoadError, match="optional columns"):
        parse_mapping({"tables": {"opportunities": {**deals, "on_invalid": {"amount": "null"}}}}, origin="m.yaml")
    with pytest.raises(LoadError, match="null or reject"):
        parse_mapping({"tables": {"opportunities": {**deals, "on_invalid": {"type": "drop"}}}}, origin="m.yaml")


def test_join_a_source_onto_another_on_a_key(tmp_path):
    files = {
        "users.csv": "Id,Name\nS1,Sam\nS2,Sue\n",
        "mql_leads.csv": "mql_id,first_contact_date,origin\nM1,2018-01-02,paid\nM2,2018-01-03,organic\n"
                         "M3,2018-01-04,email\nM4,2018-01-05,paid\n",
        "closed_deals.csv": "mql_id,sdr_id,origin\nM1,S1,x\nM3,S2,y\nM3,S1,z\n",  # M3 twice: not unique
    }
    folder = _write(tmp_path / "src", files)
    mapping = {"tables": {
        "reps": {"from": "users", "columns": {"rep_id": "Id", "name": "Name"}, "constants": {"role": "SDR"}},
        "leads": {"from": "mql_leads", "join": {"source": "closed_deals", "on": "mql_id"},
                  "columns": {"lead_id": "mql_id", "created_at": "first_contact_date", "source": "origin",
                              "owner_rep_id": "sdr_id", "persona": "origin_closed_deals"}}}}
    data = salesops.load(folder, mapping=mapping, as_of=AS_OF)
    leads = data.leads.set_index("lead_id")
    assert list(leads.index) == ["M1", "M2", "M3", "M4"]  # a left join: every lead once
    assert leads.loc["M1", "owner_rep_id"] == "S1" and pd.isna(leads.loc["M2", "owner_rep_id"])
    assert pd.isna(leads.loc["M3", "owner_rep_id"])  # ambiguous: not picked silently
    assert leads.loc["M1", "source"] == "paid" and leads.loc["M1", "persona"] == "x"  # clash renamed
    note = " ".join(data.quality.ignored)
    assert "2 row(s) share 1 mql_id value(s)" in note and "'M3'" in note
    bad = {"tables": {"leads": {"from": "mql_leads", "join": {"source": "closed_deals", "on": "mql_id", "how": "inner"},
                                "columns": {"lead_id": "mql_id"}}}}
    with pytest.raises(LoadError, match="not supported"):
        parse_mapping(bad, origin="m.yaml")
