"""Analysis of a score function's expressive power: ranks, width bounds, certificates.

``expressivity`` (matricization ranks, shallow width bounds, width conversions),
``certificates`` (certified lower bounds from submatrices), ``construction`` (the universality
construction of a generalized network) and the exact arithmetic below them (``_modular``,
``_exact``). The public names are exported from ``tensorexpr``.
"""
