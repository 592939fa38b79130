"""``soundtrack serve``: registered in the CLI, and its settings reach each worker process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from soundtrack.cli import app
from soundtrack.server.settings import ServerSettings


def test_serve_is_a_command_with_its_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--library", "--database-url", "--workers", "--max-upload-mb", "--max-clip-s"):
        assert option in result.output


def test_settings_survive_the_trip_through_the_environment(tmp_path: Path) -> None:
    settings = ServerSettings(library_path=tmp_path / "lib", database_url="sqlite:///x.db", max_upload_mb=3.5,
                              max_clip_s=12, scan_workers=2, identify_threads=3, data_dir=tmp_path / "data")
    assert ServerSettings.from_env(settings.to_env()) == settings
    assert settings.jobs_dir == tmp_path / "data" / "scans"


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_clip_s=0"):
        ServerSettings(library_path=tmp_path, max_clip_s=0)
    with pytest.raises(ValueError, match="identify_threads=0"):
        ServerSettings(library_path=tmp_path, identify_threads=0)
