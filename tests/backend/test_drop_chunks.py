"""A drop's serials go to the render processes in chunks that cover them once, in order, and shrink towards the
end so the processes finish together."""
import pytest

from hallmark.art.batch import chunk_size, chunks


@pytest.mark.parametrize("first, last, processes", [(1, 3000, 2), (1, 100_000, 4), (1201, 3000, 2), (5, 7, 2)])
def test_chunks_cover_every_serial_once_in_order(first, last, processes):
    got = list(chunks(first, last, processes))
    assert got[0][0] == first and got[-1][1] == last
    assert [start for start, _ in got[1:]] == [end + 1 for _, end in got[:-1]]  # no gap, no overlap
    assert all(start <= end for start, end in got)


def test_chunks_shrink_towards_the_end_but_not_below_the_minimum():
    sizes = [end - start + 1 for start, end in chunks(1, 3000, 2)]
    assert sizes[0] == chunk_size(3000, 2) == 93
    assert sizes == sorted(sizes, reverse=True)  # never larger than the one before
    assert min(sizes[:-1]) == 20 and sizes[-1] <= 20  # the last one takes what is left
