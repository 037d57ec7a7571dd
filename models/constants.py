"""Numbers of the official model that several modules share, named once."""

from __future__ import annotations

# Flows are handled in units of 1/20 pixel: FlowNet2's `div_flow`, the multiplier of the generator's flow
# head (times 2**scale at finer scales), and the divisor of the reference flows the temporal D sees.
FLOW_SCALE = 20.0

# FlowNet2 takes frames whose sides are multiples of 64 (its encoders halve the size six times).
FLOWNET2_SIZE_MULTIPLE = 64

# The face discriminator judges a square of side fineSize // 32 * 8, a quarter of fineSize rounded down to
# a multiple of 8 (128 at fineSize 512).
FACE_BOX_GRID = 32
FACE_BOX_CELLS = 8


def face_box_side(fine_size: int) -> int:
    """Side in pixels of the face discriminator's crop for --fineSize `fine_size`."""
    return fine_size // FACE_BOX_GRID * FACE_BOX_CELLS
