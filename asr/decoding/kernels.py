"""The numeric half of one prefix-beam-search frame, and CTC forced alignment: loops over small arrays, compiled
with numba (nopython, cached on disk) once a process has work enough to pay for it.

A frame touches a few dozen small arrays; as numpy calls that is ~80 dispatches of ~1-2 us each, which at
beam 8 costs more than the search itself. These two kernels do the same work in two calls. The word-level half
(making prefixes, LM look-ups) stays in Python: `ctc.CTCDecoder.decode` calls `extend`, expands the candidates it
returns, then calls `select`.

Compiling costs more than a short job: importing numba and loading the cached machine code is ~1 s, the whole of
what transcribing one short file may take. So the kernels start as the plain Python functions below, the same
code, and `count_frames` swaps in their compiled versions once the process has searched COMPILE_AFTER_FRAMES
frames (callers look them up as `kernels.extend`, so they pick up the swap). Both give the same results.
"""

from __future__ import annotations

import math

import numpy as np

NEG_INF = -math.inf
# Frames a process searches in plain Python before it compiles the kernels: the break-even, where the time plain
# Python has lost equals what compiling costs (numba's import and its disk cache, ~0.7 s); bench/kernels.py measured
# 4,419 on the demo model (beam 16 + LM: 0.192 against 0.035 ms a frame)
COMPILE_AFTER_FRAMES = 4000


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def _kth_largest(values: np.ndarray, k: int) -> float:
    """Quickselect (numba compiles np.sort/argsort/partition slowly: seconds per call site)."""
    a = values.copy()
    target = a.size - k  # position in ascending order
    lo, hi = 0, a.size - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    return a[target]


def _top(values: np.ndarray, floor: float, k: int) -> np.ndarray:
    """Indices of the (at most) k largest values that are >= floor and finite-or-above -inf, in index order."""
    keep = np.empty(values.size, dtype=np.int64)
    n = 0
    for i in range(values.size):
        if values[i] >= floor and values[i] > NEG_INF:
            keep[n] = i
            n += 1
    keep = keep[:n]
    if n <= k:
        return keep
    kth = _kth_largest(values[keep], k)
    out = np.empty(k, dtype=np.int64)
    n = 0
    for i in keep:  # strictly better first, then ties with the k-th, in index order
        if values[i] > kth:
            out[n] = i
            n += 1
    for i in keep:
        if n == k:
            break
        if values[i] == kth:
            out[n] = i
            n += 1
    return out


def extend(lp, live, nodes, par, pb, pnb, last, fus, row_ids, row_table, pos, units, sep, blank, beam_size,
           prune):
    """Advance the beam by one frame without new prefixes, and list the extensions that could enter it.

    lp: (V+1,) log-probs of the frame (lp[V] = -inf: the root's "no unit"); live: (V+1,) units proposed this
    frame; nodes/par/pb/pnb/last/fus/row_ids: the beam (node, parent node, blank/non-blank log-probs, last unit,
    LM/bonus terms, bound row); pos[node + 1]: beam position or -1; units: proposed non-blank units; sep: the
    word-separator unit or -1. Returns (new_pb, new_pnb, scores, kth, cand_entry, cand_unit, cand_e,
    cand_bound): the candidates sorted by their score bound, best first, all above `kth` (a lower bound of the
    beam_size-th score after this frame).
    """
    n = pb.size
    ptot = np.empty(n)
    new_pb = np.empty(n)
    new_pnb = np.empty(n)
    lp_blank = lp[blank]
    sep_live = sep >= 0 and live[sep]
    for b in range(n):
        ptot[b] = _logaddexp(pb[b], pnb[b])
        new_pb[b] = ptot[b] + lp_blank
        new_pnb[b] = pnb[b] + lp[last[b]]
        if sep_live:  # `|` where no word can end (at the start, right after `|`) acts as blank
            if last[b] == sep:
                new_pb[b] = _logaddexp(new_pb[b], pb[b] + lp[sep])
            elif nodes[b] == 0:
                new_pb[b] = _logaddexp(new_pb[b], ptot[b] + lp[sep])
    scores = np.empty(n)
    for b in range(n):
        u = last[b]
        if live[u]:  # a child already in the beam absorbs its parent's extension by the child's unit
            p = pos[par[b] + 1]
            if p >= 0:
                src = (pb[p] if last[p] == u else ptot[p]) + lp[u]
                new_pnb[b] = _logaddexp(new_pnb[b], src)
        scores[b] = _logaddexp(new_pb[b], new_pnb[b]) + fus[b]
    nc = units.size
    if nc == 0:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0)
        return new_pb, new_pnb, scores, NEG_INF, empty_i, empty_i, empty_f, empty_f
    kth = NEG_INF
    for b in range(n):
        kth = max(kth, scores[b])
    kth += prune
    if n >= beam_size:
        kth = max(kth, _kth_largest(scores, beam_size))
    cand_entry = np.empty(n * nc, dtype=np.int64)
    cand_unit = np.empty(n * nc, dtype=np.int64)
    cand_e = np.empty(n * nc)
    cand_bound = np.empty(n * nc)
    m = 0
    for b in range(n):
        at_boundary = last[b] == sep or nodes[b] == 0
        base = fus[b]
        row = row_ids[b]
        for j in range(nc):
            c = units[j]
            if c == sep and at_boundary:
                continue
            e = (pb[b] if last[b] == c else ptot[b]) + lp[c]
            bound = e + base + row_table[row, c]
            if bound > kth:
                cand_entry[m] = b
                cand_unit[m] = c
                cand_e[m] = e
                cand_bound[m] = bound
                m += 1
    return new_pb, new_pnb, scores, kth, cand_entry[:m], cand_unit[:m], cand_e[:m], cand_bound[:m]


def select(nodes, par, new_pb, new_pnb, last, fus, row_ids, scores, new_entries, pos, beam_size, prune):
    """The next beam: the beam_size best of the old entries (advanced by `extend`) and the new prefixes, none
    more than `prune` below the best. new_entries: (M, 6) float rows (node, parent, unit, e, fus, row id), e
    being the new prefix's log P(alignments ending in its unit). Updates `pos`. Returns the new (nodes, par,
    pb, pnb, last, fus, row_ids)."""
    n = nodes.size
    m = new_entries.shape[0]
    total = np.empty(n + m)
    total[:n] = scores
    for i in range(m):
        total[n + i] = new_entries[i, 3] + new_entries[i, 4]
    best = 0
    for i in range(total.size):
        if total[i] > total[best]:
            best = i
    keep = _top(total, total[best] + prune, beam_size)
    if keep.size == 0:  # every path is impossible: carry on with the least impossible
        keep = np.full(1, best, dtype=np.int64)
    k = keep.size
    out_nodes = np.empty(k, dtype=np.int64)
    out_par = np.empty(k, dtype=np.int64)
    out_pb = np.empty(k)
    out_pnb = np.empty(k)
    out_last = np.empty(k, dtype=np.int64)
    out_fus = np.empty(k)
    out_rows = np.empty(k, dtype=np.int64)
    for b in range(n):
        pos[nodes[b] + 1] = -1
    for i in range(k):
        j = keep[i]
        if j < n:
            out_nodes[i] = nodes[j]
            out_par[i] = par[j]
            out_pb[i] = new_pb[j]
            out_pnb[i] = new_pnb[j]
            out_last[i] = last[j]
            out_fus[i] = fus[j]
            out_rows[i] = row_ids[j]
        else:
            r = new_entries[j - n]
            node = int(r[0])
            out_nodes[i] = node
            out_par[i] = int(r[1])
            out_pb[i] = NEG_INF
            out_pnb[i] = r[3]
            out_last[i] = int(r[2])
            out_fus[i] = r[4]
            out_rows[i] = int(r[5])
        pos[out_nodes[i] + 1] = i
    return out_nodes, out_par, out_pb, out_pnb, out_last, out_fus, out_rows


def align(lp, labels, blank):
    """CTC forced alignment (Viterbi): the most probable single alignment of `labels` to the (T, V) log-probs.
    Returns (start, end) frame arrays, one entry per label: the frames [start, end) it is emitted on. Word times
    come from here rather than from the search, whose prefixes are shared by alignments of different timing."""
    T = lp.shape[0]
    L = labels.size
    start = np.full(L, -1, dtype=np.int64)
    end = np.full(L, -1, dtype=np.int64)
    if L == 0 or T == 0:  # nothing to align (no frame to read)
        return start, end
    S = 2 * L + 1
    score = np.full((T, S), NEG_INF)
    back = np.zeros((T, S), dtype=np.int8)  # how many states back the best predecessor is
    score[0, 0] = lp[0, blank]
    score[0, 1] = lp[0, labels[0]]
    for t in range(1, T):
        for s in range(S):
            unit = blank if s % 2 == 0 else labels[s // 2]
            best = score[t - 1, s]
            step = 0
            if s >= 1 and score[t - 1, s - 1] > best:
                best = score[t - 1, s - 1]
                step = 1
            if s >= 2 and s % 2 == 1 and labels[s // 2] != labels[s // 2 - 1] and score[t - 1, s - 2] > best:
                best = score[t - 1, s - 2]
                step = 2
            score[t, s] = best + lp[t, unit]
            back[t, s] = step
    s = S - 1 if score[T - 1, S - 1] >= score[T - 1, S - 2] else S - 2
    for t in range(T - 1, -1, -1):
        if s % 2 == 1:
            i = s // 2
            if end[i] < 0:
                end[i] = t + 1
            start[i] = t
        s -= int(back[t, s])
    return start, end


KERNELS = ("_logaddexp", "_kth_largest", "_top", "extend", "select", "align")  # callees before their callers
_searched = 0


def count_frames(frames: int) -> None:
    """Note `frames` more frames searched; compile the kernels once the process has searched COMPILE_AFTER_FRAMES."""
    global _searched
    _searched += frames
    if _searched >= COMPILE_AFTER_FRAMES and not is_compiled():
        compile_kernels()


def is_compiled() -> bool:
    return hasattr(extend, "py_func")


def compile_kernels() -> None:
    """Replace every kernel by its numba-compiled version (from numba's disk cache after the first time); the
    compiled callers call the compiled callees, which numba finds in this module's namespace."""
    import numba

    namespace = globals()
    for name in KERNELS:
        if not hasattr(namespace[name], "py_func"):
            namespace[name] = numba.njit(cache=True)(namespace[name])
