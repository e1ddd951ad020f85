"""Light, sky and air of a landscapes render, per time of day and weather.

A three-stop sky gradient per time of day with a sun glow (and a disc at low sun);
Lambert shading of a relief map under a sun direction and a sky-fill colour; fog toward
the sky colour with depth. The tables give the clear-sky values; haze and overcast grey
them. :class:`LightSteps` holds those steps for the renderer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.data.landscapes.classes import CLOUD, SKY
from engine.data.landscapes.materials import GROUND, Colour

# Light and sky per time of day (sRGB-ish floats in [0, 1]).


@dataclass(frozen=True)
class Light:
    """The sky and light of one time of day under a clear sky."""

    sky_top: tuple[float, float, float]  # colour high in the frame
    sky_mid: tuple[float, float, float]  # colour a third of the way down to the horizon
    sky_horizon: tuple[float, float, float]  # colour at the horizon
    glow: tuple[float, float, float]  # sun glow colour
    glow_strength: float
    sun: tuple[float, float, float]  # direct light colour × intensity
    ambient: tuple[float, float, float]  # sky fill colour × intensity
    elevation: float  # sun elevation in degrees; ≤ 0 means no direct light
    sun_height: float  # sun centre above the horizon, as a fraction of H (may be < 0)
    toward_viewer: float  # z of the light: > 0 lights the faces we see, < 0 backlights them
    gains: tuple[float, float, float]  # colour grade
    exposure: float


LIGHTS: dict[str, Light] = {
    "noon": Light(
        sky_top=(0.16, 0.36, 0.74),
        sky_mid=(0.36, 0.58, 0.88),
        sky_horizon=(0.70, 0.82, 0.94),
        glow=(1.0, 1.0, 0.96),
        glow_strength=0.22,
        sun=(1.0, 0.97, 0.9),
        ambient=(0.42, 0.5, 0.62),
        elevation=55.0,
        sun_height=1.1,
        toward_viewer=0.35,
        gains=(1.0, 1.0, 1.0),
        exposure=1.0,
    ),
    "golden": Light(
        sky_top=(0.25, 0.42, 0.72),
        sky_mid=(0.6, 0.68, 0.8),
        sky_horizon=(0.98, 0.8, 0.56),
        glow=(1.0, 0.82, 0.5),
        glow_strength=0.5,
        sun=(1.15, 0.86, 0.52),
        ambient=(0.42, 0.45, 0.56),
        elevation=16.0,
        sun_height=0.2,
        toward_viewer=-0.1,
        gains=(1.06, 0.99, 0.84),
        exposure=1.0,
    ),
    "sunset": Light(
        sky_top=(0.2, 0.24, 0.5),
        sky_mid=(0.74, 0.44, 0.5),
        sky_horizon=(1.0, 0.56, 0.26),
        glow=(1.0, 0.62, 0.26),
        glow_strength=0.75,
        sun=(1.1, 0.58, 0.3),
        ambient=(0.44, 0.36, 0.46),
        elevation=4.0,
        sun_height=0.04,
        toward_viewer=-0.3,
        gains=(1.06, 0.95, 0.88),
        exposure=0.95,
    ),
    "dusk": Light(
        sky_top=(0.05, 0.07, 0.2),
        sky_mid=(0.2, 0.19, 0.38),
        sky_horizon=(0.6, 0.4, 0.46),
        glow=(0.95, 0.5, 0.34),
        glow_strength=0.35,
        sun=(0.0, 0.0, 0.0),
        ambient=(0.5, 0.5, 0.74),
        elevation=-5.0,
        sun_height=-0.08,
        toward_viewer=0.0,
        gains=(0.88, 0.92, 1.06),
        exposure=0.95,
    ),
}

# Overcast skies per time of day: (top, horizon) greys.
_OVERCAST_SKY = {
    "noon": ((0.58, 0.61, 0.65), (0.8, 0.81, 0.82)),
    "golden": ((0.55, 0.55, 0.58), (0.82, 0.76, 0.68)),
    "sunset": ((0.4, 0.38, 0.42), (0.74, 0.6, 0.52)),
    "dusk": ((0.13, 0.14, 0.2), (0.34, 0.32, 0.38)),
}


def _mix(a: Colour | np.ndarray, b: Colour | np.ndarray, t: float) -> np.ndarray:
    return np.asarray(a, np.float32) * (1.0 - t) + np.asarray(b, np.float32) * t


class LightSteps:
    """The light and sky steps of a render, mixed into :class:`engine.data.landscapes.render._Render`.

    They read the style, the light table row and the maps the renderer has set up, use its
    helpers ``lut``, ``surface`` and ``jitter``, and set the light and sky they compute
    (sun direction, fill colour, fog, sky planes) as attributes for the later steps.
    """

    # -- light ---------------------------------------------------------------------------

    def setup_light(self) -> None:
        style, light = self.style, self.light
        self.direct = 1.0 if light.elevation > 0 else 0.0
        self.ambient_gain = 1.0
        self.fog_density = 0.5
        if style.weather == "hazy":
            self.direct *= 0.7
            self.ambient_gain = 1.3
            self.fog_density = 1.1
        elif style.weather == "overcast":
            self.direct *= 0.1
            self.ambient_gain = 1.9
            self.fog_density = 0.9
        ambient = np.asarray(light.ambient, np.float32)
        if style.weather != "clear":
            # Under haze or cloud the fill light loses the blue of a clear sky.
            grey = float(ambient.mean())
            ambient = _mix(ambient, (grey, grey, grey), 0.6 if style.weather == "overcast" else 0.35)
        self.ambient = ambient * np.float32(self.ambient_gain)
        self.fog_density *= float(self.rng.uniform(0.7, 1.3))
        el = math.radians(max(light.elevation, 1.0))
        # Light direction in image axes: x to the right, y down, z toward the viewer.
        lx, ly, lz = style.sun_azimuth * math.cos(el), -math.sin(el) - 0.2, light.toward_viewer
        norm = math.sqrt(lx * lx + ly * ly + lz * lz)
        self.sun_dir = (lx / norm, ly / norm, lz / norm)
        self.ground_lit = 0.25 + 0.75 * math.sin(el)  # flat ground under this sun

    def shading(self) -> tuple[np.ndarray, np.ndarray]:
        """Sky-fill and sun intensity per pixel from the normals of a relief map."""
        h, u, lut = self.h, self.unit, self.lut
        low, high, streak = self.low, self.high, self.streak
        relief = self.height * self.surface("height")
        # Ridged noise: sharp crests and rounded gullies; stretched a little downhill.
        ridges = 1.0 - np.abs(streak[1] * 0.6 + low[1] * 0.5 + high[2] * 0.25)
        relief += self.surface("ridges") * (ridges * ridges)
        relief += self.surface("rolling") * low[1]
        relief += self.surface("bump") * high[1] * np.float32(u**-0.2)
        gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3, scale=h / 8.0)
        gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3, scale=h / 8.0)
        # Terrain relief is an elevation (it rises up the slope, toward the top of the image),
        # crowns, rocks and clouds are bumps toward the viewer: their vertical slopes face
        # opposite ways.
        gy *= self.surface("slope")
        lx, ly, lz = self.sun_dir
        flat = lut({c: self.ground_lit for c in GROUND} | {CLOUD: 0.7}, 0.15 + 0.6 * max(lz, 0.0))
        inv_len = 1.0 / np.sqrt(1.0 + gx * gx + gy * gy)
        sun = np.clip((flat - gx * lx - gy * ly) * inv_len, 0.0, 1.0)
        # Sky fill: faces turned up see more sky; clouds and snow are bright.
        up = np.clip(0.75 - 0.25 * gy * inv_len, 0.4, 1.0)
        ambient = up * self.surface("fill")
        return ambient, sun

    def aerial_perspective(self, img: list[np.ndarray]) -> None:
        """Fade toward the sky colour with depth."""
        d = self.depth
        amount = self.surface("fog") * (1.0 - np.exp(-self.fog_density * (d * d) * (d * d)))
        for c in range(3):
            img[c] += (self.fog[c] - img[c]) * amount

    # -- sky -------------------------------------------------------------------------------

    def setup_sky(self) -> None:
        style, light, h, w = self.style, self.light, self.h, self.w
        top, mid, hor = (self.jitter(c, 0.05) for c in (light.sky_top, light.sky_mid, light.sky_horizon))
        glow = self.jitter(light.glow, 0.04)
        strength = light.glow_strength * float(self.rng.uniform(0.8, 1.2))
        if style.weather == "hazy":
            grey = 0.8 if style.time_of_day != "dusk" else 0.38
            top, mid, hor = (
                _mix(top, hor * 0.5 + grey * 0.5, 0.4),
                _mix(mid, grey, 0.45),
                _mix(hor, grey, 0.4),
            )
            strength *= 0.8
        elif style.weather == "overcast":
            otop, ohor = _OVERCAST_SKY[style.time_of_day]
            top, hor = self.jitter(otop, 0.04), self.jitter(ohor, 0.04)
            mid = _mix(top, hor, 0.65)
            strength *= 0.2
        self.sky_stops = (top, mid, hor)
        self.glow_colour, self.glow_strength = glow, strength
        self.sun_x = w * (0.5 + 0.55 * style.sun_azimuth)
        self.sun_y = self.horizon - light.sun_height * h
        self.glow_x = (
            np.exp(-(((self.cols - self.sun_x) / (0.5 * h)) ** 2)),
            np.exp(-(((self.cols - self.sun_x) / (0.12 * h)) ** 2)),
        )
        sky = self.sky_at(self.rows)
        # Aerial perspective fades toward the sky just above the horizon: below that row the
        # fog keeps the colour of that row.
        fog_row = int(np.clip(self.horizon - 0.02 * h, 0, h - 1))
        self.fog = []
        for c, plane in enumerate(sky):
            fog = plane * np.float32(0.75) + np.float32(0.25 * hor[c])
            fog[fog_row + 1 :] = fog[fog_row]
            self.fog.append(fog)
        variation = 1.0 + 0.03 * self.low[2]
        self.sky = [plane * variation for plane in sky]

    def sky_at(self, rows: np.ndarray) -> list[np.ndarray]:
        """Sky colour planes (len(rows)×W) at image rows `rows` (any real values)."""
        h = self.h
        top, mid, hor = self.sky_stops
        s = np.clip((self.horizon - rows) / (0.8 * h), 0.0, 1.0)
        lo = np.clip(s / 0.3, 0.0, 1.0)
        hi = np.clip((s - 0.3) / 0.7, 0.0, 1.0) ** 0.8
        under = s < 0.3
        halo_y = np.exp(-(((rows - self.sun_y) / (0.3 * h)) ** 2))[:, None]
        core_y = np.exp(-(((rows - self.sun_y) / (0.08 * h)) ** 2))[:, None]
        glow = (0.7 * halo_y) * self.glow_x[0][None, :] + (0.45 * core_y) * self.glow_x[1][None, :]
        glow = np.minimum(glow * np.float32(self.glow_strength), 1.0)
        planes = []
        for c in range(3):
            grad = np.where(under, hor[c] + (mid[c] - hor[c]) * lo, mid[c] + (top[c] - mid[c]) * hi)
            grad = grad.astype(np.float32)[:, None]
            # Screen-blend the glow: it brightens without overflowing.
            planes.append(grad + (1.0 - grad) * (glow * self.glow_colour[c]))
        return planes

    def sky_and_clouds(self, img: list[np.ndarray]) -> None:
        style = self.style
        sky = self.sky
        if style.time_of_day in ("golden", "sunset") and style.weather != "overcast":
            sky = self.sun_disc([p.copy() for p in sky])
        m_sky = (self.lab == SKY).view(np.uint8)
        for c in range(3):
            cv2.copyTo(sky[c], m_sky, img[c])
        if self.present[CLOUD]:
            m = (self.lab == CLOUD).view(np.uint8)
            # Denser inside; thin edges let some sky through, never all of it.
            alpha = np.clip(0.78 + 0.5 * self.height + 0.1 * self.high[2], 0.65, 1.0)
            # Under an overcast sky the clouds that stand out are the darker, heavier ones.
            dim = 0.72 if style.weather == "overcast" else 1.0
            for c in range(3):
                cloud = sky[c] + (img[c] * dim - sky[c]) * alpha
                cv2.copyTo(cloud, m, img[c])

    def sun_disc(self, sky: list[np.ndarray]) -> list[np.ndarray]:
        h = self.h
        r = 0.03 * h * (1.5 if self.style.weather == "hazy" else 1.0)
        y0, y1 = max(int(self.sun_y - 5 * r), 0), min(int(self.sun_y + 5 * r) + 1, h)
        x0, x1 = max(int(self.sun_x - 5 * r), 0), min(int(self.sun_x + 5 * r) + 1, self.w)
        if y0 >= y1 or x0 >= x1:
            return sky
        yy = self.rows[y0:y1, None] - self.sun_y
        xx = self.cols[None, x0:x1] - self.sun_x
        rr = np.sqrt(yy * yy + xx * xx) / r
        disc = np.clip((1.1 - rr) * 4.0, 0.0, 1.0) + 0.4 * np.exp(-rr * rr * 0.3)
        disc = np.clip(disc * (0.6 if self.style.weather == "hazy" else 1.0), 0.0, 1.0)
        colour = (1.0, 0.97, 0.88) if self.style.time_of_day == "golden" else (1.0, 0.88, 0.62)
        for c in range(3):
            patch = sky[c][y0:y1, x0:x1]
            patch += (colour[c] - patch) * disc
        return sky
