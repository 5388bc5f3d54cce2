"""sfacenet_roi_tanh.sface_init_pool: SFace's own network (``sfacenet``) started from SFace's weights and fine-tuned in
the RoI-tanh space on the LFW-disjoint pool: the shipped model's recipe exactly (1,500 steps in one run, cosine from
2.5e-4, 10,000 mixed faces of draw 29). Its features come from SFace's MS-Celeb-1M training, so it is not known to
be LFW-disjoint. On two CPU cores with native bf16 it took 53 min; elsewhere add ``--set amp=none``.

    facelib pack pool data/pool
    facelib train --config "configs/sfacenet_roi_tanh.sface_init_pool.py" [--set amp=none] [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="sfacenet_roi_tanh.sface_init_pool", model="sfacenet", init_weights="sface",
                        total_steps=1500, lr=2.5e-4, compile=True, mixup_faces=10000, mixup_draw=29,
                        checkpoint_every=300, verify_every=300)
