"""Peak memory is read without disturbing it: a chunk's window is sampled, the process's high-water mark
(what ``/usr/bin/time -v`` reports for the run) is never reset, and the summary names the case that reached it."""

import numpy as np
import torch

from harness.compute.chunks import explain_chunk, peak_window
from harness.core.memory import PeakSampler, peak_rss_bytes, rss_bytes
from harness.explainers import create_explainer
from harness.models import load_model
from harness.report.records import CaseRecord
from harness.report.summary import memory_lines

MB = 2**20


def _touch(n_bytes: int) -> np.ndarray:
    a = np.empty(n_bytes, np.uint8)
    a[::4096] = 1  # resident: one write per page
    return a


def test_sampler_sees_memory_held_within_the_window():
    with PeakSampler(every=0.005) as window:
        held = _touch(300 * MB)
        base = rss_bytes()
        import time

        time.sleep(0.05)  # several samples while it is held
        del held
    assert window.kind == "rss_peak_sampled"
    assert window.peak >= base - 16 * MB and window.peak >= 300 * MB


def test_a_chunk_leaves_the_process_high_water_mark_alone():
    held = _touch(400 * MB)
    mark = peak_rss_bytes()
    del held
    model = load_model("toy_resnet", device="cpu")
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    out = explain_chunk(model, create_explainer("saliency"), x, torch.zeros(2, dtype=torch.long))
    # the chunk's own peak is measured, and the run's peak (set before it) is still there afterwards
    assert out.memory_kind == "rss_peak_sampled" and 0 < out.peak_memory_bytes
    # (the kernel's counters are approximate by a few pages across threads; a reset would drop ~400 MB)
    assert peak_rss_bytes() >= mark - 16 * MB


def test_cpu_window_yields_a_reading():
    with peak_window(torch.device("cpu")) as reading:
        _touch(50 * MB)
    assert reading.kind == "rss_peak_sampled" and reading.bytes >= 50 * MB


def test_memory_line_names_the_first_case_at_the_peak():
    cases = [
        CaseRecord(id="a", model="m", explainer="e", check="c", peak_rss_mb=900.0),
        CaseRecord(id="b", model="m", explainer="e", check="c", peak_rss_mb=3072.0),
        CaseRecord(id="c", model="m", explainer="e", check="c", peak_rss_mb=3072.0),
        CaseRecord(id="d", model="m", explainer="e", check="c"),
    ]
    assert memory_lines(cases) == [
        "memory: peak resident set 3.00 GiB (high-water mark of a test process), first reached during b"
    ]
    assert memory_lines(cases[3:]) == []
