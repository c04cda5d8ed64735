"""Independent numpy evaluations of the paper's equations, used as references by the tests."""

import numpy as np


def same_padding(size, kernel, stride, dilation):
    """TensorFlow's 'SAME' padding: (pad_before, pad_after, output_size)."""
    effective = (kernel - 1) * dilation + 1
    output = -(-size // stride)
    total = max((output - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2, output


def conv2d(inputs, kernel, bias=None, stride=1, dilation=1):
    """Direct 'SAME' convolution. inputs [B, H, W, Ci], kernel [kh, kw, Ci, Co]."""
    kh, kw, _, _ = kernel.shape
    top, bottom, out_h = same_padding(inputs.shape[1], kh, stride, dilation)
    left, right, out_w = same_padding(inputs.shape[2], kw, stride, dilation)
    padded = np.pad(inputs, [(0, 0), (top, bottom), (left, right), (0, 0)])
    output = np.zeros(inputs.shape[:1] + (out_h, out_w, kernel.shape[3]), np.float64)
    for row in range(kh):
        for col in range(kw):
            window = padded[:, row * dilation::stride, col * dilation::stride][:, :out_h, :out_w]
            output += window @ kernel[row, col]
    return output if bias is None else output + bias


def depthwise_conv2d(inputs, kernel, stride=1, dilation=1):
    """Depthwise 'SAME' convolution. kernel [kh, kw, C, 1]."""
    kh, kw = kernel.shape[:2]
    top, bottom, out_h = same_padding(inputs.shape[1], kh, stride, dilation)
    left, right, out_w = same_padding(inputs.shape[2], kw, stride, dilation)
    padded = np.pad(inputs, [(0, 0), (top, bottom), (left, right), (0, 0)])
    output = np.zeros(inputs.shape[:1] + (out_h, out_w, inputs.shape[3]), np.float64)
    for row in range(kh):
        for col in range(kw):
            window = padded[:, row * dilation::stride, col * dilation::stride][:, :out_h, :out_w]
            output += window * kernel[row, col, :, 0]
    return output


def elu(values):
    return np.where(values > 0, values, np.expm1(np.minimum(values, 0)))


def sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


def patches_3x3(grid):
    """[gh, gw, C] → [gh·gw, 9·C] zero-padded 3×3 patches, rows in row-major cell order."""
    gh, gw, channels = grid.shape
    padded = np.pad(grid, [(1, 1), (1, 1), (0, 0)])
    rows = []
    for y in range(gh):
        for x in range(gw):
            rows.append(padded[y:y + 3, x:x + 3].reshape(-1))
    return np.asarray(rows)


def fuse(scores, gh, gw):
    """The 3×3 identity-kernel fuse: horizontal neighbours in row-major order, then vertical."""
    cells = gh * gw
    first = np.zeros_like(scores)
    for target in range(cells):
        for source in range(cells):
            for offset in (-1, 0, 1):
                t, s = target + offset, source + offset
                if 0 <= t < cells and 0 <= s < cells:
                    first[target, source] += scores[t, s]

    def column_major(index):  # row-major cell index → its index in column-major order
        return (index % gw) * gh + index // gw

    second = np.zeros_like(scores)
    order = [column_major(i) for i in range(cells)]
    inverse = np.argsort(order)  # column-major position → row-major index
    for target in range(cells):
        for source in range(cells):
            for offset in (-1, 0, 1):
                t, s = order[target] + offset, order[source] + offset
                if 0 <= t < cells and 0 <= s < cells:
                    second[target, source] += first[inverse[t], inverse[s]]
    return second


def harmonic_fill(free, values):
    """Exact solution of Laplace's equation on the ``free`` pixels (5-point stencil): each free
    pixel is the mean of its 4 neighbours, the other pixels keep ``values`` (Dirichlet), and
    neighbours beyond the border are left out (Neumann). free [H, W] bool, values [H, W, C]."""
    import scipy.sparse
    import scipy.sparse.linalg

    height, width = free.shape
    ys, xs = np.nonzero(free)
    index = -np.ones(free.shape, np.int64)
    index[ys, xs] = np.arange(len(ys))
    rows, cols, entries = [], [], []
    diagonal = np.zeros(len(ys))
    rhs = np.zeros((len(ys), values.shape[-1]))
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        diagonal += inside
        unknown = np.zeros_like(inside)
        unknown[inside] = index[ny[inside], nx[inside]] >= 0
        rows.append(np.nonzero(unknown)[0])
        cols.append(index[ny[unknown], nx[unknown]])
        entries.append(-np.ones(unknown.sum()))
        pinned = inside & ~unknown
        rhs[pinned] += values[ny[pinned], nx[pinned]]
    rows.append(np.arange(len(ys)))
    cols.append(np.arange(len(ys)))
    entries.append(diagonal)
    matrix = scipy.sparse.csc_matrix((np.concatenate(entries),
                                      (np.concatenate(rows), np.concatenate(cols))),
                                     shape=(len(ys), len(ys)))
    solution = scipy.sparse.linalg.spsolve(matrix, rhs).reshape(len(ys), -1)
    result = np.array(values, np.float64)
    result[ys, xs] = solution
    return result
