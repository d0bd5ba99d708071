"""Images to sequences of patches, the inputs of tensor networks (docs/theory.md section 1)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

__all__ = ["ImagePatches"]


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in value
        )
    )
    if not ok:
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value!r}")
    return int(value[0]), int(value[1])


class ImagePatches(TransformerMixin, BaseEstimator):
    """Cut images into a sequence of patches, flattened for the network estimators.

    The output is 2-D, ``(n_samples, d * patch_dim)``: patch after patch in row-major
    order over the image, each patch flattened as ``(height, width, channels)``. It
    chains into the estimators with ``n_inputs = patch_dim`` (``patch_dim_`` after
    fit), which split each row back into d positions; 2-D output keeps every
    scikit-learn step in between working. Images whose size is not covered by the
    patches are zero-padded at the bottom and the right. Stateless: ``fit`` only checks.

    Parameters
    ----------
    patch_size : int or (int, int), default 2
        Patch height and width; an int p means (p, p), or (1, p) for one-row images.
    stride : int or (int, int), optional
        Step between patches; defaults to ``patch_size`` (non-overlapping patches).
    image_shape : (H, W) or (H, W, C), optional
        Shape of one image when X is flat ``(n_samples, H * W * C)``. Without it, flat
        rows are one-row images (1-D signals: windows of p values).

    Attributes
    ----------
    n_features_in_ : int
        Number of columns (or rows of pixels for 3-D and 4-D input) seen in fit.
    n_patches_ : int
        Number of patches d per image.
    patch_dim_ : int
        Values per patch (``n_inputs`` of the next estimator).

    See Also
    --------
    TTNetworkClassifier : Consumes the patch sequences (``n_inputs=patch_dim``).
    sklearn.feature_extraction.image.extract_patches_2d : Patches of one image.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators import ImagePatches
    >>> X = np.arange(2 * 16, dtype=float).reshape(2, 16)  # two 4 x 4 images, flat
    >>> patches = ImagePatches(patch_size=2, image_shape=(4, 4))
    >>> patches.fit_transform(X).shape  # 4 patches of 2 x 2 = 4 values each
    (2, 16)
    >>> patches.transform(X)[0, :4]
    array([0., 1., 4., 5.])
    """

    def __init__(self, patch_size=2, stride=None, image_shape=None):
        self.patch_size = patch_size
        self.stride = stride
        self.image_shape = image_shape

    def _images(self, X) -> np.ndarray:
        """(n, H, W, C) view of X."""
        if X.ndim == 2:
            if self.image_shape is None:
                return X.reshape(X.shape[0], 1, X.shape[1], 1)
            shape = tuple(self.image_shape)
            if len(shape) == 2:
                shape += (1,)
            if len(shape) != 3 or int(np.prod(shape)) != X.shape[1]:
                raise ValueError(
                    f"image_shape must be (H, W) or (H, W, C) with H * W * C = {X.shape[1]} "
                    f"(the number of features of X), got {self.image_shape!r}"
                )
            return X.reshape((X.shape[0],) + shape)
        if X.ndim == 3:
            return X[..., None]
        if X.ndim == 4:
            return X
        raise ValueError(
            "X must be (n_samples, H * W) with image_shape, (n_samples, H, W) or "
            f"(n_samples, H, W, C), got an array of shape {X.shape}"
        )

    def _geometry(self, height: int):
        ph, pw = _pair(self.patch_size, "patch_size")
        if height == 1 and isinstance(self.patch_size, numbers.Integral):
            ph = 1
        if self.stride is None:
            sh, sw = ph, pw
        else:
            sh, sw = _pair(self.stride, "stride")
            if height == 1 and isinstance(self.stride, numbers.Integral):
                sh = 1
        return ph, pw, sh, sw

    def fit(self, X, y=None):
        """Check the parameters and X; learns nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C), (n_samples, H, W) or (n_samples, H, W, C)
        y : ignored

        Returns
        -------
        self
        """
        X = validate_data(self, X, allow_nd=True)
        images = self._images(X)
        ph, pw, _, _, rows, cols = self._sizes(images)
        self.n_patches_ = rows * cols
        self.patch_dim_ = ph * pw * images.shape[3]
        return self

    def _sizes(self, images):
        _, H, W, _ = images.shape
        ph, pw, sh, sw = self._geometry(H)
        rows = -(-max(H - ph, 0) // sh) + 1
        cols = -(-max(W - pw, 0) // sw) + 1
        return ph, pw, sh, sw, rows, cols

    def transform(self, X):
        """Patch sequences, flattened: (n_samples, n_patches * patch_dim).

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C), (n_samples, H, W) or (n_samples, H, W, C)

        Returns
        -------
        ndarray of shape (n_samples, n_patches * patch_dim)
        """
        X = validate_data(self, X, allow_nd=True, reset=False)
        images = self._images(X)
        n, H, W, C = images.shape
        ph, pw, sh, sw, rows, cols = self._sizes(images)
        padded = np.zeros((n, (rows - 1) * sh + ph, (cols - 1) * sw + pw, C), dtype=X.dtype)
        h, w = min(H, padded.shape[1]), min(W, padded.shape[2])
        padded[:, :h, :w] = images[:, :h, :w]
        patches = [
            padded[:, i * sh : i * sh + ph, j * sw : j * sw + pw].reshape(n, -1)
            for i in range(rows)
            for j in range(cols)
        ]
        return np.concatenate(patches, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        return tags
