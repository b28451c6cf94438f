"""LeNet-5 as the 1998 paper built it (section II-B and Appendix A of LeCun et al.).

This module starts with the data that defines the paper's C3 layer: which S2 maps each of the
sixteen C3 maps reads (the paper's Table I). Introduced in the C3 chapter; the 1998 chapter
builds the whole classic network on it.
"""

from __future__ import annotations

import torch

# C3 map -> the S2 maps it takes as input, read off Table I of the paper.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def c3_connection_mask(table: tuple[tuple[int, ...], ...] = C3_TABLE, in_maps: int = 6) -> torch.Tensor:
    """The table as a (16, 6) 0/1 matrix: ``mask[o, i] == 1`` when C3 map ``o`` reads S2 map ``i``."""
    mask = torch.zeros(len(table), in_maps)
    for out_map, inputs in enumerate(table):
        mask[out_map, list(inputs)] = 1.0
    return mask
