"""The tiger layers the render server reads from disk at start are the very pixels it would draw, a file it cannot
trust is drawn again, and code that draws differently never reads another's file."""
from pathlib import Path

import PIL
import pytest

from hallmark.art import fuhu, layercache
from hallmark.art.render import ART_BOX

SIZE = (ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1])


@pytest.fixture
def fresh_layers(monkeypatch):
    """An empty layer table (as in a new process), and a count of the tigers drawn."""
    drawn = []
    draw = fuhu._draw_tiger
    monkeypatch.setattr(fuhu, "_LAYERS", {})
    monkeypatch.setattr(fuhu, "_draw_tiger", lambda *kind: drawn.append(kind) or draw(*kind))
    fuhu._tiger_paste.cache_clear()
    yield drawn
    fuhu._tiger_paste.cache_clear()


def restart():
    fuhu._LAYERS.clear()
    fuhu._tiger_paste.cache_clear()


def test_a_second_start_reads_every_layer_drawn_by_the_first_pixel_for_pixel(fresh_layers, tmp_path):
    fuhu.warm_caches(SIZE, tmp_path)
    assert sorted(fresh_layers) == sorted(fuhu.tiger_kinds()) and len(fresh_layers) == 27
    assert layercache.path(tmp_path).exists()
    drawn = {kind: fuhu._LAYERS[kind].tobytes() for kind in fuhu.tiger_kinds()}

    restart()
    fresh_layers.clear()
    fuhu.warm_caches(SIZE, tmp_path)
    assert fresh_layers == []  # nothing drawn
    for kind in fuhu.tiger_kinds():
        layer = fuhu.tiger_layer(*kind)
        assert layer.mode == "RGBA" and layer.size == fuhu.TIGER_SIZE
        assert layer.tobytes() == drawn[kind], kind
    assert [name.name for name in tmp_path.iterdir()] == [layercache.path(tmp_path).name]  # no temporary left


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other kinds"])
def test_a_damaged_or_foreign_file_is_drawn_again_and_replaced(fresh_layers, tmp_path, damage):
    file = layercache.path(tmp_path)
    if damage == "garbage":
        tmp_path.joinpath(file.name).write_bytes(b"not numpy at all")
    elif damage == "truncated":
        fuhu.warm_caches(SIZE, tmp_path)
        file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
        restart()
    else:
        layercache.write({kind: fuhu.tiger_layer(*kind) for kind in fuhu.tiger_kinds()[:5]}, tmp_path)
        restart()
    fresh_layers.clear()
    fuhu.warm_caches(SIZE, tmp_path)
    assert len(fresh_layers) == 27
    assert set(layercache.read(fuhu.tiger_kinds(), tmp_path)) == set(fuhu.tiger_kinds())  # written anew


def test_other_drawing_code_reads_a_file_of_its_own(tmp_path, monkeypatch):
    mine = layercache.path(tmp_path)
    source = Path(fuhu.__file__).read_text()
    assert "SS = 3" in source
    changed = tmp_path / "src"
    changed.mkdir()
    (changed / "fuhu.py").write_text(source.replace("SS = 3", "SS = 4"))
    monkeypatch.setattr(layercache, "__file__", str(changed / "layercache.py"))
    assert layercache.path(tmp_path) != mine
    monkeypatch.undo()
    assert layercache.path(tmp_path) == mine
    monkeypatch.setattr(PIL, "__version__", "0.0.1")
    assert layercache.path(tmp_path) != mine


def test_a_folder_that_cannot_be_written_only_costs_the_drawing(fresh_layers, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    fuhu.warm_caches(SIZE, blocked)
    assert len(fresh_layers) == 27 and all(kind in fuhu._LAYERS for kind in fuhu.tiger_kinds())
