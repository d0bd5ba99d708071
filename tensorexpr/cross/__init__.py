"""Black-box TT-cross: TT approximations of tensors too large to form.

:func:`tt_cross` samples entries of an order-d tensor given as a function (an index function
``fn(indices) -> values``, or a score function of a network on templates, so the tensor is the
grid tensor of docs/theory.md section 2) and returns a ``tensorly.tt_tensor.TTTensor`` built
from ``O(d n r^2)`` of its entries, never from all ``n^d``.

The algorithm is the alternating TT-cross of Oseledets & Tyrtyshnikov (2010): nested left and
right index sets are refined by sweeps over the cores; each step evaluates one core's fibre
``fn(I_left x [n_k] x J_right)``, reveals its numerical rank by an SVD, picks the new index set
by the maximal-volume rows of the kept singular vectors (Goreinov et al. 1997, square maxvol),
and grows the set by a few more rows chosen by the rectangular maxvol of Mikhalev & Oseledets
(2018), which is how the ranks adapt. Every step works on the current tensorly backend.

:func:`maxvol` and :func:`rect_maxvol` are public: their pivots are the index sets stored in
:class:`CrossResult` (``left_indices``, ``right_indices``).

References
----------
I. Oseledets, E. Tyrtyshnikov. TT-cross approximation for multidimensional arrays.
Linear Algebra Appl. 432(1):70-88, 2010.

S. A. Goreinov, E. E. Tyrtyshnikov, N. L. Zamarashkin. A theory of pseudoskeleton
approximations. Linear Algebra Appl. 261:1-21, 1997; S. A. Goreinov, I. V. Oseledets,
D. V. Savostyanov, E. E. Tyrtyshnikov, N. L. Zamarashkin. How to find a good submatrix.
In *Matrix Methods: Theory, Algorithms, Applications*, World Scientific, 2010, 247-256.

A. Mikhalev, I. Oseledets. Rectangular maximum-volume submatrices and their applications.
Linear Algebra Appl. 538:187-211, 2018.
"""

from ._cross import CrossResult, tt_cross, tt_entries
from ._maxvol import maxvol, rect_maxvol

__all__ = ["tt_cross", "CrossResult", "maxvol", "rect_maxvol", "tt_entries"]
