"""A separate row, not part of the equal-recipe comparison of spaces: SFace's own architecture and weights
(``model="sfacenet"``, ``init_weights="sface"``: converted from the teacher's ONNX file, see
``facelib.models.sfacenet``) fine-tuned in the RoI-tanh space by the distillation recipe. Before any step the
teacher's network reads RoI-tanh warps at LFW 98.67 % (600-pair subset) against 99.67 % on the Cartesian faces it was
trained on; this run teaches it the warp. Its weights start from SFace's training on MS-Celeb-1M (which shares
people with LFW), so unlike the MobileFaceNets it is not LFW-disjoint: the model card says so.

1,500 steps of batch 64 from 2.5e-4 (AdamW, cosine; ~10x fewer than a MobileFaceNet chain and a rate that keeps the
teacher's features), bf16 autocast, compiled (``compile=True``), ``mixup_faces=10000`` with the 30th draw
(``mixup_draw=29``, cached once labelled). ~2.5-3.5 s a step on a 2-core CPU with native bf16 (~10M parameters, ~0.6
GMACs a face, twice a MobileFaceNet step); elsewhere add ``--set amp=none``. Checkpoints every 300 steps:
``--resume`` continues.

    facelib pack pool data/pool
    facelib train --config configs/distill_sfacenet_roi_tanh_sface_init.py [--set amp=none] [--resume]
"""
from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="sfacenet_roi_tanh_sface_init", model="sfacenet", init_weights="sface",
                        total_steps=1500, lr=2.5e-4, compile=True, mixup_faces=10000, mixup_draw=29,
                        checkpoint_every=300, verify_every=300)
