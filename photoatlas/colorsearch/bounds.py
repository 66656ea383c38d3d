"""A proven lower bound of ΔE00 over a cell of CIELCh, and the grid of cells both backends use to
find candidates without losing any true match.

Why a bound and not a radius: ΔE00 forgives chroma differences between saturated colours
(chroma 80 vs 40 is only ~11 ΔE00) but not hue differences, so its balls are far from Lab
spheres. Cells are boxes in (L*, C*ab, h_ab) — hue bins never straddle a quadrant — because
ΔE00 is written in those terms. With the CIEDE2000 symbols (``u = ΔC'/S_C``, ``v = ΔH'/S_H``),
for every colour ``c`` of a cell and the query ``q``:

1. ``ΔE00² = (ΔL/S_L)² + u² + v² + R_T·u·v ≥ (ΔL/S_L)² + (1 - |R_T|/2)(u² + v²)``
   (``|u·v| ≤ (u² + v²)/2``).
2. ``G`` falls with the mean chroma ``C̄``, so the cell's chroma range bounds it; then
   ``C' = C·√((1+G)²cos²h + sin²h)`` and ``h' = atan2(b, (1+G)a)`` are monotone in ``h`` within a
   quadrant and in ``G``: their ranges come from the corners. That bounds ``|ΔC'|`` and the hue
   gap ``|Δh'|`` from below, and ``|ΔH'| = 2√(C1'C2')·sin(|Δh'|/2)`` with it.
3. ``S_L`` grows with ``|L̄ - 50|``; ``S_C = 1 + 0.045·C̄'`` and ``S_H = 1 + 0.015·C̄'·T`` with
   ``T ≤ T_MAX`` grow with ``C̄' ≤ (C'_q,max + C'_c,max)/2``.
4. ``|R_T| = R_C(C̄')·|sin 2Δθ|`` with ``Δθ = 30°·exp(-((h̄' - 275°)/25°)²)``; when the two hue
   ranges are less than 180° apart ``h̄'`` lies on the arc that joins them, which bounds its
   distance to 275°; otherwise ``Δθ ≤ 30°`` is all that is used.

Each step only loosens, so the result is a lower bound; ``tests/unit/test_colorsearch_bounds.py``
also checks it against exact ΔE00 on random cells and points.
"""

import math
import threading
from collections import OrderedDict

import numpy as np
from numba import njit

from photoatlas.colorsearch.scoring import ACHROMATIC, BLACK_L, GREY_CHROMA, HUE, HUE_CHROMA, MATCH_DELTA_E

L_STEP, C_STEP, H_STEP = 4.0, 4.0, 360.0 / 64  # cell sides: L*, C*ab, hue degrees (90 / H_STEP whole)
C_LIMIT = 184.0  # |a|, |b| ≤ 128 keeps C*ab ≤ 181
GRID_SHAPE = (int(np.ceil(100 / L_STEP)), int(np.ceil(C_LIMIT / C_STEP)), int(round(360 / H_STEP)))
T_MAX = 1.58  # max of CIEDE2000's hue weighting T(h) is 1.5725 (at h ≈ 234°)
EDGE_PAD = 1e-9  # cells are closed boxes, widened for float rounding of the cell assignment


def lch(lab: np.ndarray) -> np.ndarray:
    """CIELAB -> (L*, C*ab, h_ab in degrees [0, 360)), the coordinates cells and documents use."""
    lab = np.asarray(lab, dtype=np.float64)
    h = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    return np.stack([lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), h], axis=-1)


def cell_of(lab: np.ndarray) -> np.ndarray:
    """Flat cell id of each colour (``[..., 3]`` CIELAB)."""
    p = lch(lab)
    idx = tuple(np.clip((p[..., i] // step).astype(np.int64), 0, GRID_SHAPE[i] - 1)
                for i, step in enumerate((L_STEP, C_STEP, H_STEP)))
    return np.ravel_multi_index(idx, GRID_SHAPE)


def cell_boxes(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LCh boxes ``[lo, hi]`` of flat cell ids."""
    idx = np.stack(np.unravel_index(cells, GRID_SHAPE), axis=1).astype(np.float64)
    step = np.array([L_STEP, C_STEP, H_STEP])
    return idx * step, (idx + 1) * step


@njit(cache=True, nogil=True)
def _pow7(x):
    x = min(x, 1e6)
    x2 = x * x
    return x2 * x2 * x2 * x


@njit(cache=True, nogil=True)
def _g(c_bar):
    c7 = _pow7(c_bar)
    return 0.5 * (1.0 - math.sqrt(c7 / (c7 + 25.0**7)))


@njit(cache=True, nogil=True)
def _r_c(cp_bar):
    c7 = _pow7(cp_bar)
    return 2.0 * math.sqrt(c7 / (c7 + 25.0**7))


@njit(cache=True, nogil=True)
def _s_l(l_bar):
    d2 = (l_bar - 50.0) ** 2
    return 1.0 + 0.015 * d2 / math.sqrt(20.0 + d2)


@njit(cache=True, nogil=True)
def _gap(x_lo, x_hi, y_lo, y_hi):
    return max(0.0, y_lo - x_hi, x_lo - y_hi)


@njit(cache=True, nogil=True)
def _circular_gap(a_lo, a_hi, b_lo, b_hi):
    return min(_gap(a_lo, a_hi, b_lo - 360.0, b_hi - 360.0), _gap(a_lo, a_hi, b_lo, b_hi),
               _gap(a_lo, a_hi, b_lo + 360.0, b_hi + 360.0))


@njit(cache=True, nogil=True)
def _primed(base, sign, tan_phi, g):
    return base + sign * math.degrees(math.atan(tan_phi / (1.0 + g)))


_FIELDS = ("l_lo", "l_hi", "c_lo", "c_hi", "odd", "cos2_min", "cos2_max", "sign", "base", "tan_lo", "tan_hi")


class Cells:
    """The query-independent part of the bound for a set of LCh boxes, computed once
    (one ``[fields, M]`` array, so taking a subset is one gather).

    ``h'`` at a hue ``h`` is ``base ± atan(tan(φ)/(1+G))`` with ``φ`` the angle from the a axis;
    it rises with ``h`` everywhere, falls with ``G`` in even quadrants and rises in odd ones."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        lo = np.asarray(lo, dtype=np.float64) - EDGE_PAD
        hi = np.asarray(hi, dtype=np.float64) + EDGE_PAD
        h_lo, h_hi = np.maximum(lo[:, 2], 0.0), np.minimum(hi[:, 2], 360.0)
        quadrant = np.clip((lo[:, 2] + EDGE_PAD) // 90.0, 0, 3)
        if ((hi[:, 2] - EDGE_PAD - 1e-7) // 90.0 > quadrant).any():
            raise ValueError("every cell's hues must stay inside one quadrant")
        odd = quadrant % 2 == 1
        cos2 = np.cos(np.radians(np.stack([h_lo, h_hi]))) ** 2
        base = np.where(odd, 90.0 * (quadrant + 1), 90.0 * quadrant)
        from_axis = lambda h: np.clip(np.where(odd, base - h, h - base), 0.0, 90.0)  # noqa: E731
        self.data = np.stack([
            lo[:, 0], hi[:, 0], np.maximum(lo[:, 1], 0.0), hi[:, 1], odd.astype(np.float64),
            cos2.min(axis=0), cos2.max(axis=0), np.where(odd, -1.0, 1.0), base,
            np.tan(np.radians(from_axis(h_lo))), np.tan(np.radians(from_axis(h_hi))),
        ])

    def __getattr__(self, name):
        if name in _FIELDS:
            return self.data[_FIELDS.index(name)]
        raise AttributeError(name)

    def __len__(self):
        return self.data.shape[1]

    def take(self, idx: np.ndarray) -> "Cells":
        out = object.__new__(Cells)
        out.data = self.data.take(idx, axis=1)
        return out


def lower_bound(q: np.ndarray, cells: Cells) -> np.ndarray:
    """For query ``q`` (one CIELAB colour ``[3]``), ``b [M]`` with ``ΔE00(q, c) ≥ b`` for every
    colour ``c`` of each cell. See the module docstring."""
    lq, cq, hq = lch(q)
    return np.sqrt(_lightness_term(lq, cells.data) + _chroma_hue_term(cq, hq, cells.data))


@njit(cache=True, nogil=True)
def _lightness_term(lq, data):  # pragma: no cover - compiled
    """``(ΔL/S_L)²`` bounded from below: it depends on the cells' L* range only."""
    out = np.empty(data.shape[1])
    for m in range(data.shape[1]):
        l_lo, l_hi = data[0, m], data[1, m]
        s_l = max(_s_l((lq + l_lo) / 2), _s_l((lq + l_hi) / 2))
        out[m] = (_gap(lq, lq, l_lo, l_hi) / s_l) ** 2
    return out


@njit(cache=True, nogil=True)
def _chroma_hue_term(cq, hq, data):  # pragma: no cover - compiled
    """``(1 - |R_T|/2)(u² + v²)`` bounded from below: it depends on the cells' C*ab and hue
    ranges only, so a whole L* column of cells shares it."""
    cos2_q = math.cos(math.radians(hq)) ** 2
    q_quadrant = hq // 90.0
    q_odd = q_quadrant % 2 == 1
    q_base = 90.0 * (q_quadrant + q_odd)
    q_tan = math.tan(math.radians(abs(hq - q_base)))
    q_sign = -1.0 if q_odd else 1.0
    out = np.empty(data.shape[1])
    for m in range(data.shape[1]):
        c_lo, c_hi, odd, cos2_min, cos2_max, sign, base, tan_lo, tan_hi = data[2:, m]

        g_lo, g_hi = _g((cq + c_hi) / 2), _g((cq + c_lo) / 2)
        stretch_lo, stretch_hi = g_lo * (2.0 + g_lo), g_hi * (2.0 + g_hi)  # (1+G)² - 1
        cpq_lo = cq * math.sqrt(1.0 + stretch_lo * cos2_q)
        cpq_hi = cq * math.sqrt(1.0 + stretch_hi * cos2_q)
        cpc_lo = c_lo * math.sqrt(1.0 + stretch_lo * cos2_min)
        cpc_hi = c_hi * math.sqrt(1.0 + stretch_hi * cos2_max)
        dc = _gap(cpq_lo, cpq_hi, cpc_lo, cpc_hi)

        hq_a, hq_b = _primed(q_base, q_sign, q_tan, g_lo), _primed(q_base, q_sign, q_tan, g_hi)
        hpq_lo, hpq_hi = min(hq_a, hq_b), max(hq_a, hq_b)
        is_odd = odd > 0.5
        hpc_lo = _primed(base, sign, tan_lo, g_lo if is_odd else g_hi)
        hpc_hi = _primed(base, sign, tan_hi, g_hi if is_odd else g_lo)
        half_gap = math.radians(min(_circular_gap(hpq_lo, hpq_hi, hpc_lo, hpc_hi), 180.0) / 2)
        sin_lb = max(half_gap - half_gap**3 / 6.0, half_gap * (2.0 / math.pi))  # ≤ sin on [0, π/2]
        dH = 2.0 * math.sqrt(cpq_lo * cpc_lo) * sin_lb

        cp_bar = (cpq_hi + cpc_hi) / 2
        s_c = 1.0 + 0.045 * cp_bar
        s_h = 1.0 + 0.015 * T_MAX * cp_bar

        # h̄' lies on the arc joining the two hue ranges when every pair is under 180° apart
        shift = -360.0 if hpc_hi - hpq_lo > 180.0 else (360.0 if hpq_hi - hpc_lo > 180.0 else 0.0)
        span_lo, span_hi = min(hpq_lo, hpc_lo + shift), max(hpq_hi, hpc_hi + shift)
        known = span_hi - span_lo < 180.0 and cpq_lo > 0 and cpc_lo > 0
        to_275 = _circular_gap(span_lo, span_hi, 275.0, 275.0) if known else 0.0
        two_dtheta = math.radians(60.0) * math.exp(-((to_275 / 25.0) ** 2))
        r_t = _r_c(cp_bar) * min(two_dtheta, math.sin(math.radians(60.0)))  # sin x ≤ x

        out[m] = (1.0 - r_t / 2.0) * ((dc / s_c) ** 2 + (dH / s_h) ** 2)
    return out


def delta_e_lower_bound(q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """:func:`lower_bound` for LCh boxes ``[lo, hi]`` (``[M, 3]``, hues inside one quadrant)."""
    return lower_bound(q, Cells(lo, hi))


_ALL_LO, _ALL_HI = cell_boxes(np.arange(np.prod(GRID_SHAPE)))
_L_ROWS = Cells(*cell_boxes(np.ravel_multi_index((np.arange(GRID_SHAPE[0]), np.zeros(GRID_SHAPE[0], int),
                                                  np.zeros(GRID_SHAPE[0], int)), GRID_SHAPE)))  # one per L* bin
_CH_PLANE = Cells(*cell_boxes(np.arange(GRID_SHAPE[1] * GRID_SHAPE[2])))  # the (C*ab, hue) cells of the first L* bin


def support_cells(q: np.ndarray, query_class: int, cutoff: float = MATCH_DELTA_E) -> tuple[np.ndarray, np.ndarray]:
    """Grid cells that may hold a colour within ``cutoff`` ΔE00 of ``q`` and compatible with it,
    with the lower bound of ΔE00 in each: ``(cells, bound)``. Every such colour is in one of them
    (a box is dropped only when its bound says no colour inside can match)."""
    return support_cells_many(np.atleast_2d(q), [query_class], cutoff)[0]


def support_cells_many(labs: np.ndarray, classes, cutoff: float = MATCH_DELTA_E) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`support_cells` of several query colours.

    The bound is ``√(A + B)`` with ``A`` depending on a cell's L* bin only and ``B`` on its
    (C*ab, hue) bins only, so every cell of the grid is bounded from 25 + 2,944 evaluations
    per colour and one sum per cell — the same bound as evaluating each cell on its own."""
    labs = np.atleast_2d(np.asarray(labs, dtype=np.float64))
    out = []
    for lab, query_class in zip(labs, np.atleast_1d(np.asarray(classes))):
        lq, cq, hq = lch(lab)
        out.append(_support(_lightness_term(lq, _L_ROWS.data), _chroma_hue_term(cq, hq, _CH_PLANE.data),
                            int(query_class), float(cutoff) ** 2))
    return out


_GREY_L = _L_ROWS.l_hi < BLACK_L  # every colour of the L* bin is near-black
_HUE_L = _L_ROWS.l_lo >= BLACK_L  # ... none is
_GREY_CH = _CH_PLANE.c_hi < GREY_CHROMA  # every colour of the (C*ab, hue) bin is near-grey
_HUE_CH = _CH_PLANE.c_lo >= HUE_CHROMA  # ... every one is a hue


@njit(cache=True, nogil=True)
def _support_cells(a, b, query_class, cutoff2, grey_l, hue_l, grey_ch, hue_ch):  # pragma: no cover - compiled
    cells, bound = np.empty(len(a) * len(b), dtype=np.int64), np.empty(len(a) * len(b))
    n = 0
    for row in range(len(a)):
        if a[row] >= cutoff2:
            continue
        for ch in range(len(b)):
            total = a[row] + b[ch]
            if total >= cutoff2:
                continue
            if query_class == HUE and (grey_ch[ch] or grey_l[row]):
                continue  # a hue never matches a near-grey
            if query_class == ACHROMATIC and hue_ch[ch] and hue_l[row]:
                continue  # ... nor a grey a hue
            cells[n], bound[n] = row * len(b) + ch, math.sqrt(total)
            n += 1
    return cells[:n], bound[:n]


def _support(a, b, query_class, cutoff2):
    """Cells (flat ids, ascending) whose bound ``√(a[L bin] + b[(C, hue) bin])`` is under the
    cutoff and whose colours can be compatible with the query's class, and that bound."""
    return _support_cells(a, b, query_class, cutoff2, _GREY_L, _HUE_L, _GREY_CH, _HUE_CH)


class SupportCache:
    """The last ``size`` query colours' supports: popular colours (CSS names, palette pickers)
    come back often, and their support takes a fraction of a millisecond to prove. Safe to share
    between threads."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, labs: np.ndarray, classes) -> list[tuple[np.ndarray, np.ndarray]]:
        labs, classes = np.atleast_2d(labs), np.atleast_1d(classes)
        keys = [(tuple(map(float, lab)), int(c)) for lab, c in zip(labs, classes)]  # exact colours
        with self._lock:
            known = [self._entries.get(key) for key in keys]
        missing = [i for i, support in enumerate(known) if support is None]
        found = dict(zip(missing, support_cells_many(labs[missing], classes[missing]))) if missing else {}
        out = [found.get(i, support) for i, support in enumerate(known)]
        if self.size:
            with self._lock:
                for key, support in zip(keys, out):
                    self._entries[key] = support
                    self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return out


def support_range(q: np.ndarray, query_class: int, cutoff: float = MATCH_DELTA_E):
    """One LCh range holding every colour that can match ``q``, or None when none can:
    ``(l_lo, l_hi, c_lo, c_hi, hue_arc)`` with ``hue_arc`` = ``(start, end)`` degrees going
    counter-clockwise (``start > end`` wraps through 0) or None for every hue."""
    cells, _ = support_cells(q, query_class, cutoff)
    if not len(cells):
        return None
    lo, hi = _ALL_LO[cells], _ALL_HI[cells]
    l_lo, c_lo = lo[:, 0].min(), lo[:, 1].min()
    l_hi, c_hi = hi[:, 0].max(), hi[:, 1].max()
    used = np.zeros(GRID_SHAPE[2], dtype=bool)
    used[np.unravel_index(cells, GRID_SHAPE)[2]] = True
    if used.all():
        return l_lo, l_hi, c_lo, c_hi, None
    # the arc is the complement of the longest circular run of unused hue bins
    free = np.concatenate([~used, ~used])
    best_len, best_end, run = 0, 0, 0
    for i, f in enumerate(free):
        run = run + 1 if f else 0
        if run > best_len:
            best_len, best_end = run, i
    best_len = min(best_len, GRID_SHAPE[2])
    start_bin = (best_end + 1) % GRID_SHAPE[2]
    end_bin = (best_end - best_len) % GRID_SHAPE[2]
    return l_lo, l_hi, c_lo, c_hi, (start_bin * H_STEP, (end_bin + 1) * H_STEP)
