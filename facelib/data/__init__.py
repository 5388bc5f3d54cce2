"""Data sets and files: fetching (:mod:`.fetch`), images (:mod:`.images`), LFW (:mod:`.lfw`)."""
