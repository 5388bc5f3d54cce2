"""Training: Partial FC (:mod:`.partial_fc`), configs (:mod:`.config`), the loop (:mod:`.loop`)."""
