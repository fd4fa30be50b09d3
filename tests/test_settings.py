from pathlib import Path

import pytest

from askpain.errors import SettingsError
from askpain.settings import Settings


def test_environment_then_arguments():
    env = {"ASKPAIN_CHUNK_CHARS": "900", "ASKPAIN_INDEX_DIR": "/tmp/idx", "ASKPAIN_TOP_K": "3"}
    settings = Settings.from_env(env, top_k=7)
    assert (settings.chunk_chars, settings.index_dir, settings.top_k) == (900, Path("/tmp/idx"), 7)


def test_default_model_is_the_packaged_one():
    path = Settings.from_env({}).resolved_model_path()
    assert (path / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ASKPAIN_CHUNK_CHARS": "big"}, "ASKPAIN_CHUNK_CHARS must be a whole number"),
        ({"ASKPAIN_CHUNK_CHARS": "10"}, "chunk_chars must be at least 100"),
        ({"ASKPAIN_TOP_K": "0"}, "top_k must be at least 1"),
    ],
)
def test_bad_values_are_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
