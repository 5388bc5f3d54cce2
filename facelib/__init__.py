"""facelib: face embeddings in RoI-tanh warping spaces.

The package is imported piece by piece (``facelib.warp``, ``facelib.data``, ...); this module only
names the version, so that ``import facelib`` stays cheap.
"""

__version__ = "0.1.0"
