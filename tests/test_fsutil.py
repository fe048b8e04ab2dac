"""Reading a JSON file the project wrote, or a user damaged: every failure is one line naming the file."""

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_json


@pytest.mark.parametrize("content, cause", [
    (b'{"a": 1}', None),
    (b'{"a": ', r":1: not valid JSON"),
    (b'{"a": "\xff"}', r": not valid JSON \(not UTF-8"),
])
def test_read_json_fails_in_one_line(tmp_path, content, cause):
    path = tmp_path / "data.json"
    path.write_bytes(content)
    if cause is None:
        assert read_json(path) == {"a": 1}
        return
    with pytest.raises(KernelPilotError, match=cause) as raised:
        read_json(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(KernelPilotError, match="no such file"):
        read_json(tmp_path / "absent.json")
