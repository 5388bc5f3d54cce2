"""ipywidgets front ends for the figures in :mod:`facelib.viz.warping`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..warp import SPACES
from .warping import SPACE_TITLES, figure_png, plot_sampling_grid, warp_image


class WarpExplorer:
    """Controls for space, RoI size and offset, angle, keep-aspect and output size, redrawing one figure.

    The figure (the sampling grid over the photo, and the warped face) is rendered to PNG and shown
    in an ``ipywidgets.Image``, so it updates the same way in JupyterLab, Voila and exported HTML.
    Display the explorer itself (it is the last expression of a cell) or ``explorer.widget``.

    Args:
        image: ``(H, W, 3)`` uint8 RGB photo.
        roi: the face box ``(x1, y1, x2, y2)`` the controls start from.
    """

    def __init__(self, image: np.ndarray, roi: Sequence[float], output_size: int = 112,
                 space: str = "roi_tanh_polar") -> None:
        import ipywidgets as widgets

        self.image = image
        self.base_roi = tuple(float(v) for v in roi)
        limit = max(image.shape[:2]) // 4
        self.space = widgets.Dropdown(options=[(SPACE_TITLES[s], s) for s in SPACES], value=space,
                                      description="space")
        self.scale = widgets.FloatSlider(value=1.0, min=0.4, max=2.0, step=0.05, description="RoI size")
        self.offset_x = widgets.IntSlider(value=0, min=-limit, max=limit, description="RoI x shift")
        self.offset_y = widgets.IntSlider(value=0, min=-limit, max=limit, description="RoI y shift")
        self.angle = widgets.IntSlider(value=0, min=-180, max=180, step=5, description="angle (deg)")
        self.keep_aspect_ratio = widgets.Checkbox(value=False, description="keep aspect ratio")
        self.output_size = widgets.IntSlider(value=output_size, min=16, max=224, step=8, description="output size")
        self.view = widgets.Image(format="png")
        self.redraws = 0
        for control in self.controls:
            control.observe(self._changed, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.space, self.keep_aspect_ratio]),
            widgets.HBox([self.scale, self.angle]),
            widgets.HBox([self.offset_x, self.offset_y]),
            self.output_size,
            self.view,
        ])
        self.redraw()

    @property
    def controls(self) -> tuple:
        return (self.space, self.scale, self.offset_x, self.offset_y, self.angle, self.keep_aspect_ratio,
                self.output_size)

    @property
    def roi(self) -> tuple[float, float, float, float]:
        """The box the controls describe: the starting box scaled about its centre, then shifted."""
        x1, y1, x2, y2 = self.base_roi
        cx, cy = (x1 + x2) / 2 + self.offset_x.value, (y1 + y2) / 2 + self.offset_y.value
        half_w, half_h = (x2 - x1) / 2 * self.scale.value, (y2 - y1) / 2 * self.scale.value
        return cx - half_w, cy - half_h, cx + half_w, cy + half_h

    def figure(self) -> Figure:
        """The sampling grid over the photo and the warped face, for the current settings."""
        angle = math.radians(self.angle.value)
        fig = Figure(figsize=(8, 4), layout="constrained")
        left, right = fig.subplots(1, 2)
        plot_sampling_grid(self.image, self.roi, self.space.value, self.output_size.value, angle,
                           self.keep_aspect_ratio.value, ax=left)
        right.imshow(warp_image(self.image, self.roi, self.space.value, self.output_size.value, angle,
                                self.keep_aspect_ratio.value))
        right.set_title(f"{SPACE_TITLES[self.space.value]}, {self.output_size.value} px", fontsize=9)
        right.axis("off")
        return fig

    def redraw(self) -> None:
        self.view.value = figure_png(self.figure())
        self.redraws += 1

    def snapshot(self):
        """The current figure as a static PNG (an ``IPython.display.Image``): displayed beside the explorer, it
        shows in exported HTML opened without network, where drawing the widget needs its JavaScript from a CDN."""
        from IPython.display import Image

        return Image(data=self.view.value, format="png")

    def _changed(self, change) -> None:
        self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class ThresholdExplorer:
    """A threshold slider and a model dropdown over genuine/impostor distance histograms.

    Moving the slider redraws the histograms and updates accuracy, TAR and FAR at that threshold.

    Args:
        distances: ``{label: (distances (N,), same (N,) bool)}``.
        threshold: starting squared-L2 threshold.
    """

    def __init__(self, distances: dict[str, tuple[np.ndarray, np.ndarray]], threshold: float = 1.0) -> None:
        import ipywidgets as widgets

        from .verification import rates_at

        self._rates_at = rates_at
        self.distances = distances
        self.model = widgets.Dropdown(options=list(distances), description="model")
        self.threshold = widgets.FloatSlider(value=threshold, min=0.0, max=4.0, step=0.01, description="threshold",
                                             readout_format=".2f")
        self.rates = widgets.HTML()
        self.view = widgets.Image(format="png")
        self.redraws = 0
        for control in (self.model, self.threshold):
            control.observe(self._changed, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.model, self.threshold]), self.rates, self.view])
        self.redraw()

    def current_rates(self) -> dict[str, float]:
        distances, same = self.distances[self.model.value]
        return self._rates_at(distances, same, self.threshold.value)

    def redraw(self) -> None:
        from .verification import plot_distances

        distances, same = self.distances[self.model.value]
        rates = self.current_rates()
        threshold = self.threshold.value
        cosine = 1 - threshold / 2
        self.rates.value = (f"<b>{self.model.value}</b> at d &lt; {threshold:.2f} (cosine &gt; {cosine:.3f}): "
                            f"accuracy {100 * rates['accuracy']:.1f}%, TAR {100 * rates['tar']:.1f}%, "
                            f"FAR {100 * rates['far']:.1f}%")
        self.view.value = figure_png(plot_distances(distances, same, self.threshold.value, title=self.model.value))
        self.redraws += 1

    def _changed(self, change) -> None:
        self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class RocExplorer:
    """Pick which models' ROC curves to compare; the figure redraws with the selection.

    Args:
        results: ``{label: VerificationResult}``.
    """

    def __init__(self, results: dict) -> None:
        import ipywidgets as widgets

        self.results = results
        self.select = widgets.SelectMultiple(options=list(results), value=tuple(results), description="models",
                                             rows=min(6, len(results)))
        self.view = widgets.Image(format="png")
        self.redraws = 0
        self.select.observe(self._changed, names="value")
        self.widget = widgets.VBox([self.select, self.view])
        self.redraw()

    def redraw(self) -> None:
        from .verification import plot_roc

        chosen = list(self.select.value)
        self.view.value = figure_png(plot_roc([self.results[k] for k in chosen], chosen))
        self.redraws += 1

    def _changed(self, change) -> None:
        self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
