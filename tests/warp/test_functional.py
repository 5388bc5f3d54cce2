"""facelib.warp.functional: agreement with the NumPy reference, round trips, closed forms, gradients, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from facelib.warp import functional as W
from facelib.warp import reference as R

SPACES = W.SPACES
POLAR_LIKE = ("roi_tanh_polar", "roi_tanh_circular")

# Square, wide, tall, partly outside the image (left/top and right/bottom).
ROIS = [
    (30.0, 20.0, 80.0, 70.0),
    (12.5, 30.25, 100.0, 62.0),
    (40.0, 5.0, 70.0, 85.0),
    (-20.0, -15.0, 45.0, 50.0),
    (90.0, 60.0, 150.0, 110.0),
]
IMAGE_SIZE = (90, 120)
OUTPUT_SIZE = (48, 64)


def _random_case(seed: int, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(len(ROIS), 3, *IMAGE_SIZE, generator=generator, dtype=dtype)
    rois = torch.tensor(ROIS, dtype=dtype)
    angles = (torch.rand(len(ROIS), generator=generator, dtype=dtype) * 2 - 1) * math.pi
    return images, rois, angles


def _hwc(tensor: torch.Tensor) -> np.ndarray:
    return tensor.permute(1, 2, 0).double().numpy()


def _seams(space: str, dtype: torch.dtype) -> np.ndarray:
    """Output pixels on a sampling seam, where float32 cannot agree with float64: the rim of the
    circular space's disc, where atanh amplifies the last bit (at radius 0.998 by 500x)."""
    seams = np.zeros(OUTPUT_SIZE, dtype=bool)
    if space == "roi_tanh_circular" and dtype == torch.float32:
        v, u = np.meshgrid((2 * np.arange(OUTPUT_SIZE[0]) + 1) / OUTPUT_SIZE[0] - 1,
                           (2 * np.arange(OUTPUT_SIZE[1]) + 1) / OUTPUT_SIZE[1] - 1, indexing="ij")
        seams = np.hypot(u, v) > 0.99
    return seams


def _near_half(maps: tuple[np.ndarray, np.ndarray], tol: float = 1e-6) -> np.ndarray:
    """Output pixels whose nearest-neighbour rounding is a tie (differs with the last bit)."""
    return np.any([np.abs(np.abs(m - np.floor(m)) - 0.5) < tol for m in maps], axis=0)


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_warp_and_restore_agree_with_numpy_reference_bilinear(space, keep_aspect_ratio, dtype):
    images, rois, angles = _random_case(1, dtype)
    away = ~_seams(space, dtype)
    for padding in ("zeros", "border"):
        warped = W.warp(images, rois, OUTPUT_SIZE, space, angles, "bilinear", padding, keep_aspect_ratio)
        restored = W.restore(warped, rois, IMAGE_SIZE, space, angles, "bilinear", padding, keep_aspect_ratio)
        for b in range(len(ROIS)):
            args = (space, angles[b].item(), "bilinear", padding, keep_aspect_ratio)
            expected = R.warp(_hwc(images[b]), rois[b].numpy(), OUTPUT_SIZE, *args)
            assert np.abs(_hwc(warped[b]) - expected)[away].max() < 1e-4, (space, padding, b)
            expected = R.restore(_hwc(warped[b]), rois[b].numpy(), IMAGE_SIZE, *args)
            assert np.abs(_hwc(restored[b]) - expected).max() < 1e-4, (space, padding, b)


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_warp_agrees_with_numpy_reference_nearest(space, keep_aspect_ratio):
    images, rois, angles = _random_case(2)
    warped = W.warp(images, rois, OUTPUT_SIZE, space, angles, "nearest", "zeros", keep_aspect_ratio)
    for b in range(len(ROIS)):
        maps = R.warp_maps(rois[b].numpy(), OUTPUT_SIZE, space, angles[b].item(), keep_aspect_ratio)
        expected = R.sample(_hwc(images[b]), *maps, "nearest", "zeros")
        ties = _near_half(maps)
        assert ties.mean() < 0.05  # e.g. the radius-0 column when the RoI centre is at a half pixel
        assert np.abs(_hwc(warped[b]) - expected)[~ties].max() == 0.0


def test_opencv_backend_is_close_but_quantised():
    images, rois, angles = _random_case(3)
    image = (_hwc(images[0]) * 255).astype(np.uint8)
    exact = R.warp(image, rois[0].numpy(), OUTPUT_SIZE, "roi_tanh_polar", angles[0].item())
    fast = R.warp(image, rois[0].numpy(), OUTPUT_SIZE, "roi_tanh_polar", angles[0].item(), backend="opencv")
    error = np.abs(fast.astype(np.float64) - exact)
    # cv2.remap rounds positions to 1/32 px: close to, but not at, float precision.
    assert error.mean() < 2.0 and error.max() < 16.0


def _smooth_image(size=IMAGE_SIZE, dtype=torch.float64) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(size[0], dtype=dtype), torch.arange(size[1], dtype=dtype), indexing="ij")
    channels = [0.5 + 0.4 * torch.sin(x / 9.0 + k) * torch.cos(y / 11.0 - k) for k in range(3)]
    return torch.stack(channels)[None]


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_restore_of_warp_reproduces_the_image_inside_the_roi(space, keep_aspect_ratio):
    image = _smooth_image()
    roi = torch.tensor([[35.0, 20.0, 85.0, 75.0]], dtype=torch.float64)
    warped = W.warp(image, roi, (112, 112), space, 0.3, keep_aspect_ratio=keep_aspect_ratio)
    restored = W.restore(warped, roi, IMAGE_SIZE, space, 0.3, keep_aspect_ratio=keep_aspect_ratio)
    y, x = torch.meshgrid(torch.arange(IMAGE_SIZE[0]), torch.arange(IMAGE_SIZE[1]), indexing="ij")
    inside = ((x - 60.0) / 25.0) ** 2 + ((y - 47.5) / 27.5) ** 2 <= 0.8  # inside the box, off its edges
    error = (restored - image).abs()[0][:, inside]
    # Measured: max 0.9e-3 (cartesian) to 1.9e-3 (polar), mean 2.6e-4 to 3.8e-4: bilinear resampling, twice.
    assert error.max() < 1e-2 and error.mean() < 1e-3


def test_restore_of_warp_on_a_real_photo(lfw_photo):
    from facelib.data.images import to_tensor
    from facelib.viz.warping import round_trip_error

    image, box = lfw_photo
    for space in SPACES:
        error = round_trip_error(image, box, space, 112)
        x1, y1, x2, y2 = box
        inner = error[int(y1) + 5:int(y2) - 5, int(x1) + 5:int(x2) - 5]
        # Measured on this photo: mean 0.005-0.007, i.e. under 2 grey levels (JPEG detail at full
        # resolution is partly lost in 112 px).
        assert inner.mean() < 0.015, space
    assert to_tensor(image).shape == (1, 3, 250, 250)


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_point_mapping_round_trips(space, keep_aspect_ratio):
    generator = torch.Generator().manual_seed(4)
    rois = torch.tensor(ROIS, dtype=torch.float64)
    centre = (rois[:, None, :2] + rois[:, None, 2:]) / 2
    size = rois[:, None, 2:] - rois[:, None, :2]
    points = centre + (torch.rand(len(ROIS), 50, 2, generator=generator, dtype=torch.float64) - 0.5) * 2 * size
    angles = (torch.rand(len(ROIS), generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    warped = W.points_to_space(points, rois, OUTPUT_SIZE, space, angles, keep_aspect_ratio)
    back = W.points_from_space(warped, rois, OUTPUT_SIZE, space, angles, keep_aspect_ratio)
    assert (back - points).abs().max() < 1e-4
    again = W.points_to_space(back, rois, OUTPUT_SIZE, space, angles, keep_aspect_ratio)
    assert (again - warped).abs().max() < 1e-4


@pytest.mark.parametrize("space", SPACES)
def test_point_mapping_matches_what_the_warp_samples(space):
    # The image position an output pixel samples maps back onto that very output pixel.
    rois = torch.tensor(ROIS[:2], dtype=torch.float64)
    grid = W.warp_grid(rois, IMAGE_SIZE, OUTPUT_SIZE, space, 0.4, True)
    sampled = (grid + 1) * torch.tensor([IMAGE_SIZE[1], IMAGE_SIZE[0]], dtype=torch.float64) / 2 - 0.5
    ys, xs = torch.meshgrid(torch.arange(OUTPUT_SIZE[0]), torch.arange(OUTPUT_SIZE[1]), indexing="ij")
    pixels = torch.stack((xs, ys), -1).double().reshape(1, -1, 2).expand(2, -1, -1)
    mapped = W.points_to_space(sampled.reshape(2, -1, 2), rois, OUTPUT_SIZE, space, 0.4, True)
    # Circular corners (outside the unit disc) are not invertible; compare the rest.
    u = (2 * pixels + 1) / torch.tensor([OUTPUT_SIZE[1], OUTPUT_SIZE[0]]) - 1
    valid = u.norm(dim=-1) < 0.98 if space == "roi_tanh_circular" else torch.ones(pixels.shape[:2], dtype=bool)
    difference = mapped - pixels
    if space == "roi_tanh_polar":
        # Rows are angles: compare modulo H, and not on the radius-0 column, where every angle is the centre.
        half = OUTPUT_SIZE[0] / 2
        difference[..., 1] = torch.remainder(difference[..., 1] + half, OUTPUT_SIZE[0]) - half
        valid &= pixels[..., 0] > 0
    assert difference[valid].abs().max() < 1e-6


@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_roi_centre_maps_to_radius_zero_column(keep_aspect_ratio):
    rois = torch.tensor(ROIS, dtype=torch.float64)
    centre = ((rois[:, :2] + rois[:, 2:]) / 2)[:, None]
    mapped = W.points_to_space(centre, rois, OUTPUT_SIZE, "roi_tanh_polar", 0.7, keep_aspect_ratio)
    assert mapped[..., 0].abs().max() < 1e-9


@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_point_on_the_roi_ellipse_maps_to_radius_tanh_one(keep_aspect_ratio):
    rois = torch.tensor(ROIS, dtype=torch.float64)
    centre = (rois[:, :2] + rois[:, 2:]) / 2
    axes = (rois[:, 2:] - rois[:, :2]) / math.sqrt(math.pi)  # the ellipse with the box's area
    phi = torch.linspace(0, 2 * math.pi, 17, dtype=torch.float64)[:-1]
    points = centre[:, None] + axes[:, None] * torch.stack((phi.cos(), phi.sin()), -1)
    mapped = W.points_to_space(points, rois, OUTPUT_SIZE, "roi_tanh_polar", 0.0, keep_aspect_ratio)
    assert (mapped[..., 0] / OUTPUT_SIZE[1] - math.tanh(1.0)).abs().max() < 1e-12
    circular = W.points_to_space(points, rois, OUTPUT_SIZE, "roi_tanh_circular", 0.0, keep_aspect_ratio)
    u = (2 * circular + 1) / torch.tensor([OUTPUT_SIZE[1], OUTPUT_SIZE[0]]) - 1
    assert (u.norm(dim=-1) - math.tanh(1.0)).abs().max() < 1e-12


def test_roi_box_edge_maps_to_tanh_one_in_roi_tanh():
    roi = torch.tensor([[10.0, 20.0, 50.0, 80.0]], dtype=torch.float64)
    points = torch.tensor([[[50.0, 50.0], [30.0, 20.0]]], dtype=torch.float64)
    mapped = W.points_to_space(points, roi, (100, 200), "roi_tanh")
    u = (2 * mapped + 1) / torch.tensor([200, 100]) - 1
    assert torch.allclose(u, torch.tensor([[[math.tanh(1.0), 0.0], [0.0, -math.tanh(1.0)]]], dtype=torch.float64))


@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_angular_offset_of_one_row_is_a_circular_shift(keep_aspect_ratio):
    # Holds for a circular RoI (a square box): turning the frame then equals moving along the circle.
    images, _, _ = _random_case(5)
    rois = torch.tensor([[30.0, 20.0, 80.0, 70.0], [-20.0, -15.0, 45.0, 50.0], [50.5, 40.25, 90.5, 80.25]] * 2
                        )[:len(ROIS)].double()
    step = 2 * math.pi / OUTPUT_SIZE[0]
    base = W.warp(images, rois, OUTPUT_SIZE, "roi_tanh_polar", 0.3, keep_aspect_ratio=keep_aspect_ratio)
    shifted = W.warp(images, rois, OUTPUT_SIZE, "roi_tanh_polar", 0.3 + step, keep_aspect_ratio=keep_aspect_ratio)
    assert (shifted - torch.roll(base, -1, dims=2)).abs().max() < 1e-9


def test_rotating_the_input_about_the_roi_centre_by_one_row_shifts_one_row():
    # An analytic image and its exact rotation by one row's angle (sampled, not interpolated).
    height = 56
    step = 2 * math.pi / height
    centre = torch.tensor([60.3, 44.8], dtype=torch.float64)
    y, x = torch.meshgrid(torch.arange(90, dtype=torch.float64), torch.arange(120, dtype=torch.float64),
                          indexing="ij")

    def f(px, py):
        return 0.5 + 0.4 * torch.sin(px / 7.0) * torch.cos(py / 5.0) + 0.05 * torch.sin((px + py) / 3.0)

    dx, dy = x - centre[0], y - centre[1]
    rotated = f(centre[0] + math.cos(step) * dx + math.sin(step) * dy,
                centre[1] - math.sin(step) * dx + math.cos(step) * dy)
    original = f(x, y)
    roi = torch.cat((centre - 25.0, centre + 25.0))[None]
    images = torch.stack((original, rotated))[:, None]
    warped = W.warp(images, roi.expand(2, 4), (height, 64), "roi_tanh_polar")
    # Compare within the RoI (columns up to radius tanh(1.5)): the bilinear error of two differently
    # sampled images, measured 4e-3, against 0.1 for a shift of zero rows.
    columns = int(64 * math.tanh(1.5))
    difference = (warped[1] - torch.roll(warped[0], 1, dims=1))[..., :columns].abs().max()
    assert difference < 1e-2
    assert (warped[1] - warped[0])[..., :columns].abs().max() > 5e-2


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13, 29, 100, 113, (5, 17), (112, 1)])
@pytest.mark.parametrize("space", SPACES)
def test_every_output_size_works(size, space):
    images, rois, angles = _random_case(6)
    warped = W.warp(images, rois, size, space, angles, keep_aspect_ratio=True)
    expected = (size, size) if isinstance(size, int) else size
    assert warped.shape == (len(ROIS), 3, *expected)
    assert torch.isfinite(warped).all()
    restored = W.restore(warped, rois, IMAGE_SIZE, space, angles, keep_aspect_ratio=True)
    assert restored.shape == (len(ROIS), 3, *IMAGE_SIZE) and torch.isfinite(restored).all()


def test_output_size_is_independent_of_input_size():
    rois = torch.tensor([[10.0, 10.0, 30.0, 30.0]])
    for image_size in ((40, 40), (41, 77), (300, 200)):
        assert W.warp(torch.rand(1, 1, *image_size), rois, (33, 21)).shape == (1, 1, 33, 21)


def test_one_pixel_images_work():
    out = W.warp(torch.ones(1, 1, 1, 1), torch.tensor([[-0.5, -0.5, 0.5, 0.5]]), 8, "cartesian", padding="border")
    assert torch.allclose(out, torch.ones(1, 1, 8, 8))


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_gradcheck_images_rois_and_angles(space, keep_aspect_ratio):
    generator = torch.Generator().manual_seed(7)
    images = torch.rand(2, 2, 9, 11, generator=generator, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[2.3, 1.7, 7.9, 6.2], [1.1, 2.4, 9.3, 7.7]], dtype=torch.float64, requires_grad=True)
    angles = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)

    def forward(images, rois, angles):
        return W.warp(images, rois, (5, 6), space, angles, keep_aspect_ratio=keep_aspect_ratio)

    def backward(images, rois, angles):
        return W.restore(images, rois, (6, 7), space, angles, keep_aspect_ratio=keep_aspect_ratio)

    assert torch.autograd.gradcheck(forward, (images, rois, angles))
    assert torch.autograd.gradcheck(backward, (images, rois, angles))


def test_gradcheck_space_conversion():
    features = torch.rand(1, 2, 8, 10, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[2.3, 1.7, 9.9, 8.2]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f, r: W.roi_tanh_polar_to_roi_tanh(f, r, (6, 7)), (features, rois))
    assert torch.autograd.gradcheck(lambda f, r: W.roi_tanh_to_roi_tanh_polar(f, r, (6, 7), keep_aspect_ratio=True),
                                    (features, rois))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_dtypes_are_kept_and_low_precision_is_sampled_in_float32(dtype):
    images, rois, angles = _random_case(8, torch.float32)
    expected = W.warp(images, rois, OUTPUT_SIZE, "roi_tanh_polar", angles, keep_aspect_ratio=True)
    out = W.warp(images.to(dtype), rois.to(dtype), OUTPUT_SIZE, "roi_tanh_polar", angles.to(dtype),
                 keep_aspect_ratio=True)
    assert out.dtype == dtype
    tolerance = {torch.float32: 1e-6, torch.float64: 1e-5, torch.bfloat16: 0.05, torch.float16: 0.01}[dtype]
    # Low precision rounds the RoIs and angles too: compare on average, not pixel by pixel.
    assert (out.float() - expected).abs().mean() < tolerance


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu():
    images, rois, angles = _random_case(9, torch.float32)
    cpu = W.warp(images, rois, OUTPUT_SIZE, "roi_tanh_polar", angles, keep_aspect_ratio=True)
    gpu = W.warp(images.cuda(), rois.cuda(), OUTPUT_SIZE, "roi_tanh_polar", angles.cuda(), keep_aspect_ratio=True)
    assert (gpu.cpu() - cpu).abs().max() < 1e-4


@pytest.mark.parametrize("source,target", [("roi_tanh_polar", "roi_tanh"), ("roi_tanh", "roi_tanh_polar"),
                                           ("roi_tanh_circular", "roi_tanh"), ("cartesian", "roi_tanh_polar")])
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_space_conversion_reads_the_points_that_point_mapping_gives(source, target, keep_aspect_ratio):
    # Bilinear sampling of a linear ramp is exact, so a "column index" image converted to the target
    # space tells which source column every target pixel read.
    rois = torch.tensor(ROIS[:3], dtype=torch.float64)
    size = (40, 50)
    ramp = torch.arange(size[1], dtype=torch.float64).expand(3, 1, *size).clone()
    converted = W.convert_space(ramp, rois, source, target, (30, 36), keep_aspect_ratio=keep_aspect_ratio)
    ys, xs = torch.meshgrid(torch.arange(30), torch.arange(36), indexing="ij")
    pixels = torch.stack((xs, ys), -1).double().reshape(1, -1, 2).expand(3, -1, -1)
    image_points = W.points_from_space(pixels, rois, (30, 36), target, 0.0, keep_aspect_ratio)
    read = W.points_to_space(image_points, rois, size, source, 0.0, keep_aspect_ratio)
    inside = (read[..., 0] >= 0) & (read[..., 0] <= size[1] - 1)
    if source != "roi_tanh_polar":  # polar rows wrap, others are padded outside the image
        inside &= (read[..., 1] >= 0) & (read[..., 1] <= size[0] - 1)
    assert inside.float().mean() > 0.5
    assert (converted.reshape(3, -1) - read[..., 0])[inside].abs().max() < 1e-6


def test_polar_then_conversion_approximates_the_direct_warp():
    image = _smooth_image()
    roi = torch.tensor([[35.0, 20.0, 85.0, 75.0]], dtype=torch.float64)
    direct = W.warp(image, roi, 64, "roi_tanh")
    via_polar = W.roi_tanh_polar_to_roi_tanh(W.warp(image, roi, 128, "roi_tanh_polar"), roi, 64)
    centre = (slice(None), slice(None), slice(16, 48), slice(16, 48))
    assert (direct - via_polar)[centre].abs().max() < 0.02


@pytest.mark.parametrize("call,message", [
    (lambda: W.warp(torch.rand(3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 8), "4-D tensor"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[9.0, 1, 9, 9]]), 8), "x2 > x1"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 9, 9, 2]]), 8), "y2 > y1"),
    (lambda: W.warp(torch.rand(2, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 8), "batch sizes differ"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 8, "polar"), "unknown warping space"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([1.0, 1, 9, 9]), 8), "shape (B, 4)"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 1, float("nan"), 9]]), 8), "not finite"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 0), "positive"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 8, interpolation="cubic"),
     "unknown interpolation"),
    (lambda: W.warp(torch.rand(1, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]]), 8, padding="reflect"),
     "unknown padding"),
    (lambda: W.warp(torch.rand(2, 3, 32, 32), torch.tensor([[1.0, 1, 9, 9]] * 2), 8,
                    angular_offsets=torch.zeros(3)), "angular_offsets"),
    (lambda: W.warp(torch.randint(0, 255, (1, 3, 32, 32)), torch.tensor([[1.0, 1, 9, 9]]), 8), "floating-point"),
    (lambda: W.restore(torch.rand(1, 3, 8, 8), torch.tensor([[1.0, 1, 9, 9]] * 2), 32), "batch sizes differ"),
    (lambda: W.points_to_space(torch.rand(1, 5), torch.tensor([[1.0, 1, 9, 9]]), 8, "roi_tanh"), "(B, N, 2)"),
    (lambda: W.convert_space(torch.rand(1, 3, 8, 8), torch.tensor([[1.0, 1, 9, 9]]), "roi_tanh", "tanh"),
     "unknown warping space"),
])
def test_bad_input_raises_a_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_rois_may_be_integers_and_angles_scalars():
    images = torch.rand(2, 1, 20, 20)
    a = W.warp(images, torch.tensor([[2, 3, 15, 17]] * 2), 10, "roi_tanh", torch.tensor(0.5))
    b = W.warp(images, torch.tensor([[2.0, 3, 15, 17]] * 2), 10, "roi_tanh", 0.5)
    assert torch.equal(a, b)


@pytest.mark.parametrize("space", ["cartesian", "roi_tanh_polar"])
@pytest.mark.parametrize("degrees", [30.0, -75.0, 135.0])
def test_rotating_the_image_and_offsetting_the_warp_by_the_named_conversion_cancel(space, degrees):
    """The image rotation (degrees, counter-clockwise) and the warps' angular offsets (radians, clockwise)
    are opposite conventions; ``offset_for_rotation`` converts, and a wrong sign would not cancel."""
    from facelib.data.images import rotate_image
    from facelib.warp.functional import offset_for_rotation

    y, x = np.mgrid[0:120, 0:120].astype(np.float32)
    image = np.stack([np.exp(-((x - 45) ** 2 + (y - 50) ** 2) / 300), np.exp(-((x - 72) ** 2 + (y - 66) ** 2) / 200),
                      0.5 + 0.4 * np.sin(x / 9) * np.cos(y / 13)], axis=-1)
    image = (255 * image).astype(np.uint8)
    centre = (59.5, 59.5)
    rotated, _ = rotate_image(image, degrees, centre)
    rois = torch.tensor([[39.5, 39.5, 79.5, 79.5]], dtype=torch.float64)
    as_tensor = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].double()  # noqa: E731
    upright = W.warp(as_tensor(image), rois, 48, space)
    undone = W.warp(as_tensor(rotated), rois, 48, space, angular_offsets=offset_for_rotation(degrees))
    wrong = W.warp(as_tensor(rotated), rois, 48, space, angular_offsets=-offset_for_rotation(degrees))
    core = (slice(None), slice(None), slice(8, 40), slice(8, 40)) if space == "cartesian" else (..., slice(0, 30))
    assert (undone - upright)[core].abs().mean() < 3.0
    assert (wrong - upright)[core].abs().mean() > 10.0
