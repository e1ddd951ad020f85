"""Natural layouts: a landscape built like a photograph.

A horizon, a ground plane seen in perspective (lakes, rivers, paths and meadows are drawn
in world coordinates, so they foreshorten and narrow into the distance by themselves),
clouds above it, and standing objects (mountain ridges, hills, trees, bushes, boulders)
drawn far to near so that near things occlude far ones. :func:`natural_layout` builds one.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from engine.data.landscapes.canvas import DEPTH_EXP, Canvas, Layout, depth_at, plane_depth
from engine.data.landscapes.classes import (
    BUSH,
    DIRT,
    FLOWERS,
    GRASS,
    HILL,
    MOUNTAIN,
    NUM_CLASSES,
    ROCK,
    SAND,
    SNOW,
    TREE,
    WATER,
)
from engine.data.landscapes.clouds import draw_clouds
from engine.data.landscapes.noise import curve, lookup, random_tile, ridge_curve, smooth_field
from engine.data.landscapes.shapes import Ground, boulder, broadleaf, bush, conifer

# Standing objects are polygons in fixed point (cv2 ``shift``) so small ones keep their shape.
_SHIFT = 2
_SUB = 1 << _SHIFT


class _Natural:
    """Builds one natural scene; the methods are the stages, called far to near."""

    def __init__(self, rng: np.random.Generator, h: int, w: int) -> None:
        self.rng = rng
        self.h, self.w = h, w
        self.aspect = w / h
        style = rng.random()
        if style < 0.2:  # looking up at mountains
            horizon = rng.uniform(0.55, 0.72)
        elif style < 0.35:  # big sky
            horizon = rng.uniform(0.62, 0.78)
        else:
            horizon = rng.uniform(0.33, 0.62)
        self.hr = int(np.clip(round(horizon * h), 2, h - 2))
        self.horizon = self.hr / h
        self.c = Canvas(h, w)
        self.g = Ground(h, w, self.hr)
        self.tile = random_tile(rng)
        self.plane_cls = np.full((self.g.gh, w), GRASS, np.uint8)
        # standing objects: (-z, order, a draw callable or a fixed-point polygon, object id);
        # plain tuple order is then far to near, ties in the order queued
        self.items: list[tuple[float, int, Callable[[], None] | np.ndarray, int]] = []

    # -- scheduling -------------------------------------------------------------

    def stand(self, z: float, draw: Callable[[], None]) -> None:
        """Queue a standing object at distance z; :meth:`draw_standing` paints far to near."""
        self.items.append((-z, len(self.items), draw, 0))

    def stand_sprites(self, cls: int, zs: np.ndarray, outline: np.ndarray, radius: np.ndarray) -> None:
        """Queue one polygon object per row of ``outline`` (pixel coordinates, n×k×2)."""
        ids = self.c.add_many(cls, depth=1.0 - np.maximum(zs, 1e-3) ** -DEPTH_EXP, radius=radius)
        pts = np.round(outline * _SUB).astype(np.int32)
        for z, p, i in zip(zs.tolist(), pts, ids.tolist()):
            self.items.append((-z, len(self.items), p, i))

    def draw_standing(self) -> None:
        oid = self.c.oid
        for _, _, draw, obj in sorted(self.items):
            if isinstance(draw, np.ndarray):
                cv2.fillPoly(oid, [draw], obj, cv2.LINE_8, _SHIFT)
            else:
                draw()

    def land_mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which ground points (pixel coordinates) are not water; below the frame counts as land."""
        xi = np.clip(x.astype(np.int64), 0, self.w - 1)
        yi = y.astype(np.int64)
        inside = (yi >= self.hr) & (yi < self.h)
        cls = self.plane_cls[np.clip(yi - self.hr, 0, self.g.gh - 1), xi]
        return (yi >= self.h) | (inside & (cls != WATER))

    def visible(self, x: np.ndarray, y: np.ndarray, size: np.ndarray) -> np.ndarray:
        return (size >= 1.2) & (x > -size) & (x < self.w + size) & (y - size < self.h)

    # -- ground plane ------------------------------------------------------------

    def ground(self) -> None:
        """Decide the ground's surface classes (drawn flat; standing things come later)."""
        rng, g = self.rng, self.g
        X, Z = g.X, g.Z
        pc = self.plane_cls
        mood = rng.random()
        self.winter = mood < 0.06
        self.desert = 0.06 <= mood < 0.11
        self.base = SNOW if self.winter else SAND if self.desert else DIRT if mood < 0.16 else GRASS
        pc[:] = self.base

        near = g.d_col < 12
        if not self.winter and rng.random() < 0.25:  # patches of bare earth or grass
            patch = lookup(self.tile, X * 9 + 17, Z * 9 + 5) > rng.uniform(0.9, 1.6)
            pc[patch & near] = GRASS if self.base in (DIRT, SAND) else DIRT
        if not (self.winter or self.desert) and rng.random() < 0.45:
            s = rng.uniform(10.0, 30.0)
            blooms = lookup(self.tile, X * s + 31, Z * s * 0.8) > rng.uniform(0.7, 1.6)
            pc[blooms & (g.d_col < 14) & (pc == GRASS)] = FLOWERS

        self.water_mode = "none"
        self.land_z: list[tuple[float, float]] = [(1.0, 1e9)]  # where hills may stand
        if rng.random() < 0.25 and not self.desert:
            self._path()
        r = rng.random()
        if self.desert:
            r = 1.0 if rng.random() < 0.7 else r
        if r < 0.22:
            self._lake()
        elif r < 0.37:
            self._sea()
        elif r < 0.5:
            self._near_water()
        if rng.random() < (0.25 if self.water_mode != "near" else 0.0):
            self._river()

        # ground objects: one per class present
        ids = np.zeros(256, np.int32)
        for k in np.flatnonzero(np.bincount(pc.ravel(), minlength=NUM_CLASSES)):
            ids[k] = self.c.add(int(k), plane=True)
        self.c.oid[self.hr :] = cv2.LUT(pc, ids)

    def _lake(self) -> None:
        """A lake: a noisy ellipse on the ground, in world coordinates around its own bearing."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        zc = rng.uniform(2.5, 14.0)
        rz = zc * rng.uniform(0.25, 0.55)
        pc_ = rng.uniform(-0.8, 0.8) * min(g.phi_max, 1.2)
        rx = zc * rng.uniform(0.3, 1.4)
        dphi = g.phi - pc_
        du = g.d_col * (np.sin(dphi) / rx)[None, :]
        dz = (g.d_col * np.cos(dphi)[None, :] - zc) / rz
        rho = du * du + dz * dz
        rho = rho + 0.3 * lookup(self.tile, du * 6 + 13 * rng.random(), dz * 6 + 7 * rng.random())
        if rng.random() < 0.55:
            bw = rng.uniform(0.12, 0.5)
            beach = rho < 1 + bw
            if rng.random() < 0.6:
                beach &= dz < 0.3
            pc[beach] = SAND
        pc[rho < 1] = WATER
        self.water_mode = "lake"
        self.land_z = [(1.0, max(zc - rz * 1.1, 1.0)), (zc + rz, 1e9)]
        self.lake_z = zc

    def _shore(self, d0: float, spacing: float, amount: float) -> np.ndarray:
        """Distance of a shore line per column: ``d0`` give or take ``amount`` (log scale)."""
        wave = curve(self.rng, self.w, spacing * self.g.gh) + 0.25 * curve(self.rng, self.w, 0.1 * self.g.gh)
        return (d0 * np.exp(amount * wave))[None, :]

    def _sea(self) -> None:
        """Water from a shore (often with a beach) to the horizon."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        z0 = rng.uniform(1.4, 7.0)
        zs = self._shore(z0, rng.uniform(0.6, 2.5), 0.2)
        if rng.random() < 0.75:
            pc[g.d_col > zs * (1 - rng.uniform(0.12, 0.45))] = SAND
        pc[g.d_col > zs] = WATER
        self.water_mode = "sea"
        self.land_z = [(1.0, z0 * 0.6)]

    def _near_water(self) -> None:
        """Water from the viewer's feet to a far shore."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        z0 = rng.uniform(2.0, 14.0)
        zs = self._shore(z0, rng.uniform(0.6, 2.5), 0.3)
        if rng.random() < 0.45:
            pc[(g.d_col > zs) & (g.d_col < zs * (1 + rng.uniform(0.08, 0.3)))] = SAND
        pc[g.d_col < zs] = WATER
        self.water_mode = "near"
        self.land_z = [(z0 * 1.3, 1e9)]

    def _winding(self, spread: float) -> tuple[np.ndarray, float]:
        """Centre bearing of a river or path per ground row, winding with log-distance."""
        rng, g = self.rng, self.g
        c0 = rng.uniform(-0.35, 0.35) * g.w / g.gh
        amp = rng.uniform(0.05, spread) * g.w / g.gh
        om = rng.uniform(1.5, 4.0)
        ph = rng.uniform(0, 2 * np.pi)
        lz = np.log(g.d_row)
        centre = c0 + amp * np.sin(om * lz + ph) + 0.3 * amp * np.sin(2.7 * om * lz + 2 * ph)
        return centre.astype(np.float32), float(om)

    def _river(self) -> None:
        rng, g, pc = self.rng, self.g, self.plane_cls
        centre, _ = self._winding(0.35)
        width = rng.uniform(0.25, 0.9)
        z_end = rng.uniform(12.0, 120.0)
        if self.water_mode == "lake":
            z_end = self.lake_z
        elif self.water_mode == "sea":
            z_end = 1e9
        wob = 1 + 0.15 * curve(rng, g.gh, max(g.gh / 6, 2))
        half = (width / 2 * wob / g.d_row)[:, None]
        off = np.abs(g.phi[None, :] - centre[:, None])
        inside = (g.d_row < z_end)[:, None]
        if rng.random() < 0.4:
            bank = rng.uniform(0.05, 0.25)
            pc[(off < half + bank / g.d_col) & inside & (pc != WATER)] = SAND
        pc[(off < half) & inside] = WATER

    def _path(self) -> None:
        rng, g, pc = self.rng, self.g, self.plane_cls
        centre, _ = self._winding(0.25)
        width = rng.uniform(0.05, 0.16)
        z_end = rng.uniform(3.0, 40.0)
        taper = np.clip((z_end - g.d_row) / (0.3 * z_end), 0, 1)
        wob = 1 + 0.2 * curve(rng, g.gh, max(g.gh / 8, 2))
        half = (width / 2 * taper * wob / g.d_row)[:, None]
        pc[np.abs(g.phi[None, :] - centre[:, None]) < half] = DIRT if self.base != DIRT else SAND

    # -- standing objects --------------------------------------------------------

    def mountains(self) -> None:
        rng = self.rng
        n = int(rng.choice(4, p=[0.2, 0.3, 0.3, 0.2]))
        if self.water_mode == "near" and n == 0 and rng.random() < 0.5:
            n = 1
        z = rng.uniform(40.0, 110.0)
        amp = rng.uniform(0.3, 0.9) * self.hr
        if n:
            # one pair of noise fields for all ridges, down to the lowest possible base
            rows = min(int(self.g.row(9.0)) + 1, self.h)
            self.gully = smooth_field(rng, rows, self.w, 2.5 * rows / self.h + 1, 14 * self.aspect)
            self.rough = smooth_field(rng, rows, self.w, 6 * rows / self.h + 1, 8 * self.aspect)
        for i in range(n):
            self._ridge(z, amp, far=i == 0)
            z /= rng.uniform(1.5, 2.4)
            z = max(z, 9.0)
            amp *= rng.uniform(0.45, 0.85)

    def _ridge(self, z: float, amp: float, far: bool) -> None:
        rng, h, w = self.rng, self.h, self.w
        spacing = rng.uniform(0.3, 0.8) * h
        prof = ridge_curve(rng, w, spacing) ** rng.uniform(1.0, 1.7)
        if not far and rng.random() < 0.5:  # a massif, not a full range
            env = np.clip(curve(rng, w, rng.uniform(0.5, 1.2) * h) * 0.8 + rng.uniform(0.0, 0.9), 0, 1)
        else:
            env = np.ones(w, np.float32)
        lo = rng.uniform(0.05, 0.3)
        base = self.g.row(z)
        top_line = base - amp * (lo + (1 - lo) * prof) * env
        snowy = rng.random() < (0.75 if amp > 0.22 * h else 0.3) or self.winter
        snow_level = rng.uniform(0.3, 0.7)
        snow_drop = rng.uniform(0.25, 0.6)
        rocky = rng.random() < 0.6
        steep_thr = rng.uniform(0.5, 1.0)
        tongues = 0.3 * curve(rng, w, 0.08 * h)
        ragged = 0.012 * h * curve(rng, w, 0.015 * h)
        mid = self.c.add(MOUNTAIN, depth=depth_at(z), relief=True)
        sid = self.c.add(SNOW, depth=depth_at(z), relief=True)
        rid = self.c.add(ROCK, depth=depth_at(z), relief=True, split=True)

        def draw() -> None:
            y0 = max(int(top_line.min()), 0)
            y1 = min(int(np.ceil(base)), h)
            if y1 <= y0:
                return
            ys = np.arange(y0, y1, dtype=np.float32)[:, None]
            below = ys - top_line[None, :]
            mask = below >= 0
            gully, rough = self.gully[y0:y1], self.rough[y0:y1]
            oid = self.c.oid[y0:y1]
            oid[mask] = mid
            elev = np.clip((base - ys) / max(amp, 1.0), 0, 1)
            rel = 0.55 * elev + 0.25 * np.abs(gully) + 0.1 * rough + 0.1
            dst = self.c.relief[y0:y1]
            dst[...] = np.where(mask, rel, dst)
            snow = np.zeros_like(mask)
            if snowy:
                cap = np.clip(prof - snow_level, 0, None) / (1 - snow_level) * amp * snow_drop * env
                edge = cap * np.clip(1 + tongues, 0.4, None) + ragged
                snow = mask & (below < edge[None, :] + 0.01 * h * rough)
                oid[snow] = sid
            if rocky:
                slope = np.abs(np.gradient(cv2.GaussianBlur(top_line[None, :], (0, 0), max(w / 200, 0.8))[0]))
                score = (
                    np.clip(slope / steep_thr - 1, -1, 1)[None, :] * 1.5 - below / (0.3 * amp) + 0.8 * rough
                )
                outcrop = mask & ~snow & ((score > 0.6) | ((rough > 1.6) & (gully > 0.3)))
                if outcrop.any():
                    _, cc, stats, _ = cv2.connectedComponentsWithStats(outcrop.view(np.uint8), connectivity=8)
                    keep = stats[:, cv2.CC_STAT_AREA] >= max(4.0, (h / 64) ** 2 * 3)
                    keep[0] = False
                    outcrop &= keep[cc]
                    oid[outcrop] = rid

        self.stand(z, draw)

    def hills(self) -> None:
        rng = self.rng
        n = int(rng.choice(4, p=[0.3, 0.3, 0.25, 0.15]))
        zs: list[float] = []
        for _ in range(n):
            lo, hi = self.land_z[int(rng.integers(len(self.land_z)))]
            lo, hi = max(lo, 2.0), min(hi, 40.0)
            if hi <= lo:
                continue
            zs.append(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
        for z in sorted(zs, reverse=True):
            self._hill(z)

    def _hill(self, z: float) -> None:
        rng, h, w, g = self.rng, self.h, self.w, self.g
        foot = g.row(z)
        amp = min(rng.uniform(0.05, 0.2) * h, foot * 0.9)
        cover = rng.uniform(-0.3, 0.9)
        bumps = np.clip(curve(rng, w, rng.uniform(0.3, 0.9) * h) * 0.45 + cover, 0, None)
        bumps /= max(float(bumps.max()), 0.5)
        crest = foot - amp * bumps
        bottom = foot + amp * rng.uniform(0.1, 0.35) * np.sqrt(bumps)
        forest = rng.random() < 0.35 and not self.desert
        crest_trees = not forest and rng.random() < 0.3 and not self.desert
        cls = SNOW if self.winter and rng.random() < 0.7 else HILL
        hid = self.c.add(cls, depth=depth_at(z), relief=True)

        def draw() -> None:
            y0 = max(int(crest.min()), 0)
            y1 = min(int(np.ceil(bottom.max())) + 1, h)
            if y1 <= y0:
                return
            ys = np.arange(y0, y1, dtype=np.float32)[:, None]
            mask = (ys >= crest[None, :]) & (ys < bottom[None, :]) & (bumps[None, :] > 0.01)
            self.c.oid[y0:y1][mask] = hid
            rel = np.sqrt(np.clip((bottom[None, :] - ys) / max(amp, 1.0), 0, 1)) * (
                0.3 + 0.7 * bumps[None, :]
            )
            self.c.relief[y0:y1][mask] = rel[mask]

        self.stand(z, draw)
        if forest or crest_trees:
            size = rng.uniform(0.2, 0.45) * g.scale(z)
            cols = np.flatnonzero(bumps > 0.15)
            if cols.size == 0 or size < 1.0:
                return
            n = int(min(cols.size / max(size * 0.35, 1.0) * (2.5 if forest else 1.0), 100))
            xs = rng.choice(cols, size=n)
            frac = rng.uniform(0.0, 0.9 if forest else 0.12, size=n)
            ys = crest[xs] + frac * (bottom[xs] - crest[xs]) + size * 0.1
            # lower on the slope is nearer: drawn later, but still after the hill itself
            zs = z * (0.995 - 0.004 * ys / h)
            self._trees_at(xs.astype(np.float64), ys, zs, size * rng.uniform(0.7, 1.2, size=n), rng.random())

    def trees(self) -> None:
        """Tree lines, forests and single trees on the ground plane."""
        rng, g = self.rng, self.g
        if self.desert:
            p_line, p_forest, p_single = 0.05, 0.0, 0.1
        else:
            p_line, p_forest, p_single = 0.45, 0.35, 0.35
        conifer_bias = 0.9 if self.winter else rng.uniform(0.0, 1.0)
        if rng.random() < p_line:  # along a distance, e.g. the far shore
            lo, hi = self.land_z[-1]
            lo, hi = max(lo * 1.02, 3.0), max(min(hi, 40.0), lo * 1.05, 3.5)
            d = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            size_w = rng.uniform(0.25, 0.55)
            p0, p1 = sorted(rng.uniform(-1.3, 1.3, size=2) * g.phi_max)
            if rng.random() < 0.4:
                p0, p1 = -g.phi_max * 1.05, g.phi_max * 1.05
            n = int(min((p1 - p0) * d / (size_w * rng.uniform(0.18, 0.35)), 100))
            self._plant(
                rng.uniform(p0, p1, size=n), d * np.exp(rng.normal(0, 0.06, size=n)), size_w, conifer_bias
            )
        if rng.random() < p_forest:  # a wood: a band of distance and bearing
            lo, hi = self.land_z[int(rng.integers(len(self.land_z)))]
            da = float(np.exp(rng.uniform(np.log(max(lo, 1.5)), np.log(max(min(hi, 30.0), lo * 1.1, 1.6)))))
            db = da * rng.uniform(1.3, 3.0)
            pc_ = rng.uniform(-1.0, 1.0) * g.phi_max
            spread = rng.uniform(0.2, 1.0)
            n = int(rng.integers(20, 90))
            ds = np.exp(rng.uniform(np.log(da), np.log(db), size=n))
            self._plant(pc_ + rng.uniform(-1, 1, size=n) * spread, ds, rng.uniform(0.25, 0.5), conifer_bias)
        if rng.random() < p_single:
            n = int(rng.integers(1, 6))
            ds = np.exp(rng.uniform(np.log(1.1), np.log(8.0), size=n))
            self._plant(rng.uniform(-1, 1, size=n) * g.phi_max, ds, rng.uniform(0.3, 0.7), conifer_bias)

    def _plant(self, phis: np.ndarray, ds: np.ndarray, size_w: float, conifer_bias: float) -> None:
        """Trees at bearings ``phis`` and distances ``ds`` standing on dry ground."""
        g = self.g
        x = self.w / 2 + phis * g.gh
        y = self.hr + g.gh / ds
        px = size_w * self.rng.uniform(0.7, 1.3, size=len(ds)) * g.gh / ds
        self._trees_at(x, y, ds, px, conifer_bias, self.land_mask(x, y))

    def _trees_at(
        self,
        x: np.ndarray,
        y: np.ndarray,
        zs: np.ndarray,
        size: np.ndarray,
        conifer_bias: float,
        keep: np.ndarray | None = None,
    ) -> None:
        """Queue trees with their base at pixel (x, y) and ``size`` px tall, conifers or broadleaves.

        The random draws cover every candidate before culling the invisible ones, so a
        seed gives the same trees at any resolution.
        """
        n = len(x)
        con = self.rng.random(size=n) < conifer_bias
        shapes = (conifer(self.rng, n), broadleaf(self.rng, n))
        keep = self.visible(x, y, size) & (True if keep is None else keep)
        xy = np.stack([x, y], 1)[:, None, :]
        for m, unit in zip((con & keep, ~con & keep), shapes):
            if m.any():
                outline = unit[m] * size[m][:, None, None] + xy[m]
                self.stand_sprites(TREE, zs[m], outline, size[m] * 0.18)

    def bushes_and_boulders(self) -> None:
        rng, g = self.rng, self.g
        n_bush = int(rng.choice([0, 0, 2, 5, 10])) if not self.winter else 0
        n_rock = int(rng.choice([0, 0, 1, 3, 6])) + (3 if self.desert else 0)
        reach = min(self.aspect, 3)
        for cls, n, zlo, zhi, wlo, whi in (
            (BUSH, n_bush, 1.0, 12.0, 0.08, 0.3),
            (ROCK, n_rock, 0.9, 5.0, 0.06, 0.35),
        ):
            n = int(n * reach)
            if n == 0:
                continue
            zs = np.exp(rng.uniform(np.log(zlo), np.log(zhi), size=n))
            x = self.w / 2 + rng.uniform(-1, 1, size=n) * self.w / 2
            y = self.hr + g.gh / zs
            width = rng.uniform(wlo, whi, size=n) * g.gh / zs
            unit = (bush if cls == BUSH else boulder)(rng, n)
            keep = self.visible(x, y, width) & (self.land_mask(x, y) if cls == BUSH else True)
            outline = unit[keep] * width[keep, None, None] + np.stack([x, y], 1)[keep, None, :]
            self.stand_sprites(cls, zs[keep], outline, width[keep] * 0.3)

    def build(self) -> Layout:
        draw_clouds(self.rng, self.c, self.hr)
        self.ground()
        self.mountains()
        self.hills()
        self.trees()
        self.bushes_and_boulders()
        self.draw_standing()
        return self.c.finish(plane_depth(self.h, self.hr), self.horizon, "natural")


def natural_layout(rng: np.random.Generator, h: int, w: int) -> Layout:
    return _Natural(rng, h, w).build()
