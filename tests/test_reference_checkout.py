"""scripts/reference: a wrong checkout path or a missing module of the authors' code gets
one paragraph naming what is missing, before anything runs (no authors' code needed)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepal_bench.errors import ConfigError  # noqa: E402
from scripts.reference.__main__ import main  # noqa: E402
from scripts.reference.checkout import (  # noqa: E402
    DEEPALPLUS,
    DMLE,
    Repository,
    check_checkout,
    import_theirs,
)


def test_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(ConfigError) as err:
        check_checkout(DEEPALPLUS, tmp_path / "nowhere")
    message = str(err.value)
    assert "nowhere: no such folder" in message
    assert "SineZHAN/deepALplus" in message and "Nothing was run" in message


def test_a_folder_that_is_not_the_checkout_names_every_missing_file(tmp_path):
    (tmp_path / "main.py").write_text("")
    with pytest.raises(ConfigError) as err:
        check_checkout(DMLE, tmp_path)
    message = str(err.value)
    assert "is not a checkout of neu-spiral/DMLEforAL" in message
    assert "model.py, utils.py" in message
    assert "main.py," not in message


def test_a_complete_checkout_passes(tmp_path):
    for name in DMLE.files:
        (tmp_path / name).write_text("")
    assert check_checkout(DMLE, tmp_path) == tmp_path.resolve()


def test_a_package_their_code_needs_is_named(tmp_path):
    (tmp_path / "theirmod_ref_test.py").write_text("import not_a_real_package_xyz\n")
    repo = Repository("Test", "someone/something", "0" * 40, ("theirmod_ref_test.py",))
    with pytest.raises(ConfigError, match="imports 'not_a_real_package_xyz', which is not"):
        import_theirs(repo, check_checkout(repo, tmp_path), "theirmod_ref_test")


def test_the_command_line_answers_in_one_paragraph(tmp_path, capsys):
    code = main(["theirs", "--suite", "deepalplus-tabular", "--checkout",
                 str(tmp_path / "missing"), "--seeds", "1", "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("reference: error: --checkout ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "deepalplus-tabular" / "theirs").exists()


def test_an_unknown_strategy_is_named(tmp_path, capsys):
    code = main(["ours", "--suite", "deepalplus-tabular", "--strategies", "nope",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "nope" in capsys.readouterr().err
