"""The sweep's chunk sizing, driven by timings shaped like real devices: it climbs while
throughput keeps up, settles on the fastest size, keeps chunks within the time budget, and
never returns to a size that ran out of memory."""

from visualizer.core.attacks.chunking import TARGET_CHUNK_SECONDS, ChunkSizer, first_chunk


def run(sizer: ChunkSizer, seconds_for, total: int) -> list[int]:
    """Feed ``total`` transforms through the sizer; return the chunk sizes it chose."""
    sizes, pos = [], 0
    while pos < total:
        n = min(sizer.size, total - pos)
        sizes.append(n)
        sizer.record(n, seconds_for(n))
        pos += n
    return sizes


def test_first_chunk_is_small_for_large_inputs_and_larger_for_small_ones():
    assert first_chunk(224, 224) == 4
    assert first_chunk(28, 28) == 64
    assert first_chunk(4000, 4000) == 1


def test_gpu_like_device_climbs_to_the_ceiling():
    # Launch overhead dominates: throughput grows with the batch, every chunk is fast.
    sizer = ChunkSizer(4, ceiling=1024)
    sizes = run(sizer, lambda n: 0.002 + n * 2e-5, 10_000)
    assert sizes[:5] == [4, 8, 16, 32, 64]
    assert sizer.size == 1024 and not sizer.exploring


def test_cpu_like_device_settles_on_the_fastest_small_size():
    # Per-image cost grows with the batch (cache misses), as measured for Lite0 on 2 cores.
    sizer = ChunkSizer(1)
    sizes = run(sizer, lambda n: n * (0.013 + 0.0008 * n * n), 775)
    fastest = max((1, 2, 4, 8), key=lambda n: n / (n * (0.013 + 0.0008 * n * n)))
    assert sizer.size == sizer.best_size == fastest
    assert set(sizes[4:]) <= {fastest, 775 % fastest or fastest}, sizes[:10]


def test_chunks_stay_within_the_time_budget():
    # Constant throughput (no reason to stop growing) but 50 ms per transform.
    sizer = ChunkSizer(2)
    run(sizer, lambda n: 0.05 * n, 400)
    assert 0.05 * sizer.size <= TARGET_CHUNK_SECONDS
    assert 0.05 * sizer.size * 2 > TARGET_CHUNK_SECONDS    # and the climb went as far as it could


def test_a_chunk_far_over_budget_is_cut_back():
    sizer = ChunkSizer(16)
    run(sizer, lambda n: 0.01 * n, 64)                      # settles well within the budget
    settled = sizer.size
    sizer.record(settled, 3.0 * TARGET_CHUNK_SECONDS)       # then the machine gets busy
    assert sizer.size < settled
    assert sizer.size * (3.0 * TARGET_CHUNK_SECONDS / settled) <= TARGET_CHUNK_SECONDS


def test_out_of_memory_halves_and_caps_for_good():
    sizer = ChunkSizer(64)
    assert sizer.out_of_memory() and sizer.size == 32 and sizer.ceiling == 32
    run(sizer, lambda n: 1e-4 * n, 5_000)                   # fast: would climb without the cap
    assert sizer.size == 32
    sizer = ChunkSizer(1)
    assert not sizer.out_of_memory()


def test_fixed_size_is_kept():
    sizer = ChunkSizer(7, fixed=True)
    assert set(run(sizer, lambda n: 5.0, 50)) == {7, 50 % 7}
