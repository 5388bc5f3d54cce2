"""The plotting functions and the widget callbacks behind notebook 01 (tested directly: a plot drawn
inside a widget does not appear in executed cell outputs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from facelib.viz import warping as V
from facelib.viz.widgets import WarpExplorer
from facelib.warp import functional as W


@pytest.fixture(scope="module")
def photo():
    # A synthetic photo keeps these tests independent of the data mirror.
    y, x = np.mgrid[0:120, 0:100]
    image = np.stack([(x * 2) % 256, (y * 2) % 256, ((x + y) * 3) % 256], axis=-1).astype(np.uint8)
    return image, (30.0, 35.0, 70.0, 85.0)


def test_plot_spaces_shows_the_warp_of_every_space(photo):
    image, box = photo
    fig = V.plot_spaces(image, box, 48)
    panels = [ax.images[0].get_array() for ax in fig.axes]
    assert len(panels) == 5 and np.array_equal(panels[0], image)
    for panel, space in zip(panels[1:], V.SPACE_TITLES, strict=True):
        assert np.array_equal(panel, V.warp_image(image, box, space, 48))
    assert len(V.figure_png(fig)) > 1000


@pytest.mark.parametrize("space", ["roi_tanh", "roi_tanh_polar"])
def test_sampling_grid_lines_lie_where_the_warp_samples(photo, space):
    """Warp an image whose pixels hold their own (x, y): each output pixel then shows the image position it
    sampled (bilinear sampling of a linear ramp is exact), and the drawn lines must pass through exactly
    those positions, in x and in y."""
    image, box = photo
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    coordinates = torch.from_numpy(np.stack([xs, ys]))[None]  # (1, 2, H, W): channel 0 = x, 1 = y
    size, lines = 16, 4  # lines on output rows/columns 0, 5, 10, 15
    sampled = W.warp(coordinates, torch.tensor([box], dtype=torch.float64), size, space)[0]  # (2, 16, 16)
    rows, cols = V.sampling_lines(box, space, size, lines=lines)
    assert rows.shape == (lines, size, 2) and cols.shape == (lines, size, 2)
    for line, (drawn_rows, drawn_cols) in enumerate(zip(rows, cols, strict=True)):
        k = 5 * line
        for drawn, seen in ((drawn_rows, sampled[:, k, :].T.numpy()), (drawn_cols, sampled[:, :, k].T.numpy())):
            inside = (drawn[:, 0] > 0) & (drawn[:, 0] < width - 1) & (drawn[:, 1] > 0) & (drawn[:, 1] < height - 1)
            assert inside.sum() >= 4
            np.testing.assert_allclose(drawn[inside], seen[inside], atol=1e-6)
    # And the lines do spread: a middle row of roi_tanh runs beyond the box on both sides.
    if space == "roi_tanh":
        assert rows[1, :, 0].min() < box[0] and rows[1, :, 0].max() > box[2]


def test_round_trip_figure_and_error(photo):
    image, box = photo
    error = V.round_trip_error(image, box, "roi_tanh_polar", 96)
    assert error.shape == image.shape[:2]
    inside = error[40:80, 35:65].mean()
    assert inside < error.mean()  # the RoI comes back better than the rest
    assert len(V.plot_round_trip(image, box, "roi_tanh_polar", 64).axes) == 5


def test_rotation_figure_shows_equal_shifted_panels(photo):
    image, box = photo
    fig = V.plot_rotation_equivariance(image, box, 64, rows_shifted=8)
    rotated, rolled = fig.axes[3].images[0].get_array(), fig.axes[4].images[0].get_array()
    assert np.abs(rotated.astype(int) - rolled.astype(int))[:, :40].mean() < 20


def test_explorer_redraws_when_any_control_changes(photo):
    image, box = photo
    explorer = WarpExplorer(image, box, 48)
    assert explorer.redraws == 1 and explorer.view.value[:4] == b"\x89PNG"
    # keep_aspect_ratio first: the Cartesian spaces ignore it, so it would change nothing there.
    changes = [(explorer.keep_aspect_ratio, True), (explorer.space, "roi_tanh"), (explorer.scale, 1.5),
               (explorer.offset_x, 5), (explorer.offset_y, -5), (explorer.angle, 45), (explorer.output_size, 64)]
    for count, (control, value) in enumerate(changes, start=2):
        before = explorer.view.value
        control.value = value
        assert explorer.redraws == count
        assert explorer.view.value != before, control.description
    x1, y1, x2, y2 = explorer.roi
    assert (x2 - x1, y2 - y1) == pytest.approx((60.0, 75.0))
    assert ((x1 + x2) / 2, (y1 + y2) / 2) == pytest.approx((55.0, 55.0))
    warped = explorer.figure().axes[1].images[0].get_array()
    assert warped.shape == (64, 64, 3)
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def _verification_fixture():
    from facelib.evaluation import evaluate

    rng = np.random.default_rng(0)
    same = np.tile(np.r_[np.ones(20, bool), np.zeros(20, bool)], 10)
    good = np.where(same, rng.normal(0.8, 0.2, 400), rng.normal(1.6, 0.2, 400)).clip(0, 4)
    poor = np.where(same, rng.normal(1.2, 0.4, 400), rng.normal(1.5, 0.4, 400)).clip(0, 4)
    return same, {"good": (good, same), "poor": (poor, same)}, {"good": evaluate(good, same),
                                                                "poor": evaluate(poor, same)}


def test_threshold_explorer_updates_rates_and_figure():
    from facelib.viz.widgets import ThresholdExplorer

    same, distances, _ = _verification_fixture()
    explorer = ThresholdExplorer(distances, threshold=1.2)
    before_png, before_rates = explorer.view.value, explorer.current_rates()
    explorer.threshold.value = 0.5
    after = explorer.current_rates()
    assert explorer.redraws == 2 and explorer.view.value != before_png
    assert after["far"] <= before_rates["far"] and after["tar"] < before_rates["tar"]
    good, _ = distances["good"]
    assert after["tar"] == pytest.approx(float((good[same] < 0.5).mean()))
    assert "TAR" in explorer.rates.value and "0.50" in explorer.rates.value
    explorer.model.value = "poor"
    assert explorer.redraws == 3 and "poor" in explorer.rates.value


def test_roc_explorer_redraws_with_the_selection():
    from facelib.viz.widgets import RocExplorer

    _, _, results = _verification_fixture()
    explorer = RocExplorer(results)
    both = explorer.view.value
    explorer.select.value = ("poor",)
    assert explorer.redraws == 2 and explorer.view.value != both


def test_worst_pairs_and_gallery():
    from facelib.viz.verification import plot_pair_gallery, worst_pairs

    distances = np.array([0.2, 1.9, 0.3, 1.5, 0.9, 2.5])
    same = np.array([True, True, False, False, True, False])
    worst = worst_pairs(distances, same, threshold=1.0, count=2)
    assert worst == {"false accepts": [2], "false rejects": [1]}
    faces = np.zeros((2, 112, 112, 3), np.uint8)
    assert len(plot_pair_gallery(faces, faces, ["a", "b"]).axes) == 4


def test_augmented_gallery_titles_each_view_with_its_rotation():
    from facelib.warp import WarpedBatch

    angles = torch.tensor([0.0, math.radians(20), -math.radians(45)])
    batch = WarpedBatch(torch.rand(3, 3, 16, 16), torch.zeros(3, 4), angles)
    fig = V.plot_augmented(batch)
    assert [ax.get_title() for ax in fig.axes] == ["+0 deg", "+20 deg", "-45 deg"]
