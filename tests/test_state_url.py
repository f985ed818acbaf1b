"""Choosing the state store: --state-url, SHEETS_CONNECTOR_STATE_URL, the mapping's state_url,
else today's file (the mapping's state_dir, else the per-user folder)."""
from __future__ import annotations

from click.testing import CliRunner
from util import write_workbook

from sheets_connector.cli import main
from sheets_connector.state import open_url
from sheets_connector.state.location import ENV_URL, STORE_FILE


def _mapping(tmp_path, base_url: str, extra: str = "") -> str:
    write_workbook(tmp_path / "contacts.xlsx", [[f"N{i}", "T", f"u{i}@example.com", None, None] for i in range(3)])
    path = tmp_path / "contacts.mapping.yaml"
    path.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
inwise:
  base_url: {base_url}
{extra}results:
  column: Sync result
""", encoding="utf-8")
    return str(path)


def _runs(url: str) -> list[str]:
    store = open_url(url)
    try:
        return [r.status for r in store.list_runs()]
    finally:
        store.close()


def test_the_default_is_the_per_user_file(tmp_path, sandbox, state_dir):
    mapping = _mapping(tmp_path, sandbox.base_url)
    done = CliRunner().invoke(main, ["sync", "-c", mapping], env={"INWISE_API_KEY": "test-key"})
    assert done.exit_code == 0, done.output
    assert _runs(str(state_dir / STORE_FILE)) == ["ok"]


def test_the_mapping_names_a_file_relative_to_itself(tmp_path, sandbox, state_dir):
    mapping = _mapping(tmp_path, sandbox.base_url, "state_url: sqlite:///./kept/here.db\n")
    done = CliRunner().invoke(main, ["sync", "-c", mapping], env={"INWISE_API_KEY": "test-key"})
    assert done.exit_code == 0, done.output
    assert _runs(str(tmp_path / "kept" / "here.db")) == ["ok"]
    assert not (state_dir / STORE_FILE).exists()


def test_the_environment_beats_the_mapping_and_the_option_beats_both(tmp_path, sandbox, pg_url, state_dir):
    mapping = _mapping(tmp_path, sandbox.base_url, "state_url: sqlite:///./kept/here.db\n")
    env = {"INWISE_API_KEY": "test-key", ENV_URL: pg_url}
    runner = CliRunner()
    done = runner.invoke(main, ["sync", "-c", mapping], env=env)
    assert done.exit_code == 0, done.output
    assert _runs(pg_url) == ["ok"] and not (tmp_path / "kept").exists()
    listed = runner.invoke(main, ["runs", "-c", mapping], env=env)
    assert listed.exit_code == 0 and "done" in listed.output
    other = str(tmp_path / "other.db")
    done = runner.invoke(main, ["sync", "-c", mapping, "--full", "--state-url", other], env=env)
    assert done.exit_code == 0, done.output
    assert _runs(other) == ["ok"] and _runs(pg_url) == ["ok"]


def test_an_unreachable_database_is_said_in_words(tmp_path, sandbox, pg_cluster):
    mapping = _mapping(tmp_path, sandbox.base_url)
    url = pg_cluster.url("no_such_database")
    done = CliRunner().invoke(main, ["sync", "-c", mapping, "--state-url", url], env={"INWISE_API_KEY": "test-key"})
    assert done.exit_code != 0 and "Traceback" not in done.output
    assert "shared state store" in done.output and "does not exist" in done.output
    assert "Nothing was sent" in done.output
