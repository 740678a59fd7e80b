"""Where a page finds its settings: the named file, else the data folder's, else the template."""

from __future__ import annotations

from salesops.paths import config_file, templates_dir


def test_named_file_wins_then_the_data_folder_then_the_template(tmp_path):
    data = tmp_path / "export"
    data.mkdir()
    assert config_file("routing.yaml", "", data) == templates_dir() / "routing.yaml"
    (data / "routing.yaml").write_text("version: 1\n", encoding="utf-8")
    assert config_file("routing.yaml", "", data) == data / "routing.yaml"
    assert config_file("routing.yaml", None, str(data)) == data / "routing.yaml"
    mine = tmp_path / "mine.yaml"
    assert config_file("routing.yaml", str(mine), data) == mine
    assert config_file("territories.yaml", "", data) == templates_dir() / "territories.yaml"


def test_urls_and_files_are_not_looked_in(tmp_path):
    duck = tmp_path / "crm.duckdb"
    duck.write_bytes(b"")
    assert config_file("routing.yaml", "", duck) == templates_dir() / "routing.yaml"
    assert config_file("routing.yaml", "", "postgresql://host/db") == templates_dir() / "routing.yaml"
    assert config_file("routing.yaml", "", None) == templates_dir() / "routing.yaml"
