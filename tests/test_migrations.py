from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from roughy import migrate


def test_head_constant_names_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_current_head() == migrate.HEAD


def test_upgrade_is_idempotent_and_records_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.HEAD
