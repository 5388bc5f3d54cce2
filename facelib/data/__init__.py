"""Data sets and files: fetching with checksums (:mod:`.fetch`), images (:mod:`.images`), LFW
(:mod:`.lfw`), CFP (:mod:`.cfp`), identity folders and the LFW-disjoint training pool (:mod:`.folders`),
aligned packs (:mod:`.pack`), MXNet RecordIO (:mod:`.recordio`), insightface ``.bin`` files
(:mod:`.verification_bin`)."""

# The verification benchmarks (facelib.verification runs them); named here so that the CLI can offer them
# without importing torch.
BENCHMARKS = ("lfw", "cfp-ff", "cfp-fp")
