"""Templates, feature matrices and black-box grid tensors (tensorexpr/grid.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te


def test_black_box_grid_against_loops(backend):
    templates = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])

    def score(X):
        return X[:, 0, 0] * X[:, 1, 1] + X[:, 2, 0]

    G = tl.to_numpy(te.grid_tensor(score, templates, d=3, batch_size=4))
    for i, j, k in itertools.product(range(3), repeat=3):
        assert G[i, j, k] == pytest.approx(templates[i, 0] * templates[j, 1] + templates[k, 0])


def test_black_box_grid_multi_output():
    G = te.grid_tensor(lambda X: np.stack([X[:, 0, 0], -X[:, 1, 0]], axis=1), [1.0, 2.0], d=2)
    assert G.shape == (2, 2, 2)
    assert G[1, 0, 0] == 2.0 and G[1, 0, 1] == -1.0


def test_feature_matrix_and_template_helpers():
    f = te.ReLUFeatures(2, 3, random_state=0)
    pts = np.random.default_rng(1).standard_normal((4, 2))
    np.testing.assert_allclose(te.feature_matrix(f, pts), np.maximum(pts @ f.A.T + f.b, 0))
    data = np.random.default_rng(2).standard_normal((50, 5, 2))
    chosen = te.random_templates(data, 6, random_state=0)
    pooled = data.reshape(-1, 2)
    assert chosen.shape == (6, 2)
    assert all(any(np.array_equal(c, p) for p in pooled) for c in chosen)
    np.testing.assert_array_equal(chosen, te.random_templates(data, 6, random_state=0))
    blobs = np.r_[np.zeros((20, 2)), np.full((20, 2), 5.0)] + 0.01
    centres = te.kmeans_templates(blobs, 2, random_state=0)
    np.testing.assert_allclose(np.sort(centres[:, 0]), [0.01, 5.01])
    assert te.templates_from_points([1.0, 2.0]).shape == (2, 1)


def test_grid_errors():
    with pytest.raises(TypeError, match="score_fn must be callable"):
        te.grid_tensor(3, [1.0], d=2)
    with pytest.raises(ValueError, match="d must be an int >= 1"):
        te.grid_tensor(lambda X: X[:, 0, 0], [1.0], d=0)
    with pytest.raises(ValueError, match="memory_limit"):
        te.grid_tensor(lambda X: X[:, 0, 0], np.zeros(10), d=9, memory_limit=2**20)
    with pytest.raises(ValueError, match="score_fn .* must return shape"):
        te.grid_tensor(lambda X: X, [1.0, 2.0], d=2)
    with pytest.raises(ValueError, match="templates must be 1 or 2-dimensional"):
        te.grid_tensor(lambda X: X[:, 0, 0], np.zeros((2, 2, 2)), d=2)
    with pytest.raises(ValueError, match="n_templates=9 exceeds"):
        te.random_templates(np.zeros((4, 2)), 9)
    with pytest.raises(ValueError, match="X must contain only finite"):
        te.kmeans_templates(np.full((4, 2), np.nan), 2)


def test_the_block_evaluator_matches_one_call_per_tuple():
    # the one block-wise evaluator of grid_tensor, the certificates and tt_cross
    from tensorexpr.grid import OnTemplates, check_scores, evaluate_in_blocks

    pts = np.array([[0.0], [1.0], [2.0]])

    def score(X):
        return X[:, 0, 0] * 10 + X[:, 1, 0]

    tuples = np.array([[i, j] for i in range(3) for j in range(3)])
    on = OnTemplates(score, pts)
    blocks = evaluate_in_blocks(lambda t: np.asarray(on(t)), len(tuples), lambda b: tuples[b], 4)
    assert [len(b) for b in blocks] == [4, 4, 1]
    expected = [10 * pts[i, 0] + pts[j, 0] for i, j in tuples]
    np.testing.assert_array_equal(np.concatenate(blocks), expected)
    with pytest.raises(ValueError, match=r"fn 'f' must return shape \(batch,\); got \(2, 2\)"):
        check_scores(np.ones((2, 2)), 2, "fn 'f'")
    assert check_scores(np.ones((2, 3)), 2, "fn 'f'", multi_output=True).shape == (2, 3)
