"""CP, TT and Hierarchical Tucker decompositions with ranks or error tolerances."""

__all__: list[str] = []
