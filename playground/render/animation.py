"""The kernel sliding over the padded input, as an animated GIF or an MP4, in the style of vdumoulin's
conv_arithmetic.

Each frame outlines one kernel window on the padded input (padding hatched) and the output cell it
makes (a transposed convolution's window slides over the input spread out with zeros, as conv_arithmetic
draws it); the output fills in cell by cell in stride order (row-major). A map with more output cells
than ``MAX_FRAMES`` is animated over its top-left corner (``plan`` says which corner). The static
layers (input, empty and full output) are drawn once with ``pictures``' blocks; each frame only pastes
the filled part and draws ``marks``, so 400 frames take about a second.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from playground.explorer.conv import Stages
from playground.explorer.explain import fmt
from playground.explorer.transposed import TransposedStages
from playground.render.colours import scale_for, value_range
from playground.render.marks import draw_marks
from playground.render.pictures import (
    PAD,
    canvas,
    cell_pixels,
    colorizer,
    fitting_font,
    grid_lines,
    write_numbers,
)
from playground.render.zoom import compact

MAX_FRAMES = 400
NUMBERS_MAX = 12  # panels up to 12×12 cells carry their numbers
PANEL = 440  # canvas width of each panel
FOOTER, FOOTER_SIZE = 100, 28
HATCH = (0, 120, 255)  # padding cells are hatched in blue
INPUT_EDGE = (30, 30, 30)  # the real input's border inside the padding
INK = (40, 40, 40)
EMPTY = (215, 215, 215)  # output cells not yet computed


@dataclass(frozen=True)
class Plan:
    """What the GIF shows: ``rows``×``cols`` output cells (one frame each) over ``in_rows``×``in_cols`` padded cells.

    ``cropped`` is True when the output (``out_h``×``out_w``) has more cells than the frame limit and only its
    top-left corner is animated.
    """

    rows: int
    cols: int
    in_rows: int
    in_cols: int
    out_h: int
    out_w: int
    input_channel: int
    grid_name: str = "padded input"

    @property
    def frames(self) -> int:
        return self.rows * self.cols

    @property
    def cropped(self) -> bool:
        return (self.rows, self.cols) != (self.out_h, self.out_w)

    def words(self) -> str:
        """What the GIF shows, in a sentence for the page."""
        n = f"{self.frames:,} frame{'s' if self.frames != 1 else ''}, one per output cell"
        if not self.cropped:
            return f"{n}: the whole {self.out_h}×{self.out_w} output."
        return (f"{n} of the top-left {self.rows}×{self.cols} corner of the {self.out_h}×{self.out_w} output "
                f"(at most {MAX_FRAMES} frames), over the top-left {self.in_rows}×{self.in_cols} of the "
                f"{self.grid_name}.")  # fmt: skip


@dataclass(frozen=True, eq=False)
class Sliding:
    """What the GIF animates: a window of ``kernel`` cells (``dilation`` apart) sliding over ``grid`` by ``stride``,
    making ``out`` cell by cell. ``filler`` marks the grid's cells that are not the input's own (hatched)."""

    grid: torch.Tensor  # (H, W)
    filler: torch.Tensor  # (H, W) bool
    out: torch.Tensor  # (H_out, W_out)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    input_channel: int
    grid_title: str
    out_title: str
    legend: str
    grid_name: str = "padded input"
    edge: tuple[int, int, int, int] | None = None  # the input's own block (top, left, height, width), outlined


def sliding(stages: Stages | TransposedStages, channel: int = 0) -> Sliding:
    """The GIF's story for output ``channel``: a convolution's window over its padded input, or a transposed
    convolution as conv_arithmetic draws it, a direct convolution over the input spread out with zeros."""
    if isinstance(stages, TransposedStages):
        return _spread(stages, channel)
    ah, aw = stages.conv_axes
    input_channel = channel if stages.groups > 1 else 0
    edge = (ah.pad_before, aw.pad_before, ah.size, aw.size)
    top, left, h, w = edge
    filler = torch.ones(ah.padded, aw.padded, dtype=torch.bool)
    filler[top : top + h, left : left + w] = False
    mode = "zeros" if stages.padding_mode == "zeros" else f"{stages.padding_mode} copies"
    return Sliding(
        stages.padded[input_channel].detach().float(), filler, stages.conv[channel].detach().float(),
        (ah.kernel, aw.kernel), (ah.stride, aw.stride), (ah.dilation, aw.dilation), input_channel,
        f"Padded input{f' (channel {input_channel})' if stages.padded.shape[0] > 1 else ''}",
        f"Output{f' channel {channel}' if stages.conv.shape[0] > 1 else ''}",
        f"Blue hatching: padding ({mode}) · yellow: the kernel window · green: the output cell", edge=edge,
    )  # fmt: skip


def _spread(stages: TransposedStages, channel: int) -> Sliding:
    """A transposed convolution as a direct one (``playground.explorer.transposed``'s sum, reordered): the input with
    S − 1 zeros between its cells, then D·(F − 1) − P zeros around it (a negative count crops) and OP more at the
    bottom and right, under the kernel rotated 180° at stride 1. Output cell o's window starts at grid cell o."""
    rows, cols = stages.axes
    input_channel = channel if stages.groups > 1 else 0
    x = stages.input[input_channel].detach().float()
    spread = torch.zeros((x.shape[0] - 1) * rows.stride + 1, (x.shape[1] - 1) * cols.stride + 1)
    spread[:: rows.stride, :: cols.stride] = x
    own = torch.zeros_like(spread, dtype=torch.bool)
    own[:: rows.stride, :: cols.stride] = True
    e_r, e_c = (a.dilation * (a.kernel - 1) - a.padding for a in (rows, cols))
    around = (e_c, e_c + cols.output_padding, e_r, e_r + rows.output_padding)  # (left, right, top, bottom)
    grid, filler = F.pad(spread, around), ~F.pad(own, around)
    return Sliding(
        grid, filler, stages.output[channel].detach().float(), (rows.kernel, cols.kernel), (1, 1),
        (rows.dilation, cols.dilation), input_channel,
        f"Input spread out{f' (channel {input_channel})' if stages.input.shape[0] > 1 else ''}",
        f"Output{f' channel {channel}' if stages.output.shape[0] > 1 else ''}",
        "Blue hatching: zeros (S − 1 between input cells, D·(F − 1) − P around) · yellow: the kernel, rotated 180° · "
        "green: the output cell",
        grid_name="input spread out with zeros",
    )  # fmt: skip


def plan(stages: Stages | TransposedStages, channel: int = 0, max_frames: int = MAX_FRAMES) -> Plan:
    """The output cells and grid cells the GIF of output ``channel`` shows (at most ``max_frames``)."""
    return _plan(sliding(stages, channel), max_frames)


def _plan(story: Sliding, max_frames: int) -> Plan:
    (out_h, out_w), (grid_h, grid_w) = story.out.shape, story.grid.shape
    side = max(1, int(max_frames**0.5))
    if out_h * out_w <= max_frames and max(out_h, out_w) <= 2 * side:
        rows, cols = out_h, out_w
    else:  # a corner at most side × side: its cells stay big enough to see
        rows, cols = min(out_h, side), min(out_w, side)

    def reach(n: int, i: int) -> int:  # grid cells the first n windows along axis i cover
        return min(story.grid.shape[i], (n - 1) * story.stride[i] + (story.kernel[i] - 1) * story.dilation[i] + 1)

    in_rows = grid_h if rows == out_h else reach(rows, 0)
    in_cols = grid_w if cols == out_w else reach(cols, 1)
    return Plan(rows, cols, in_rows, in_cols, out_h, out_w, story.input_channel, story.grid_name)


def _panel(values: torch.Tensor, title: str, signed: bool, rng: tuple[float, float], numbers: bool,
           paint: Callable[[np.ndarray, float], None] = lambda rgb, k: None,
           draw_more: Callable[[ImageDraw.ImageDraw, int, int, float], None] = lambda d, x, y, k: None):  # fmt: skip
    """One map's canvas (title, cells, numbers) and where its cells sit: (image, x0, y0, pixels per cell, size)."""
    pixels, k = cell_pixels(values[None], PANEL - 2 * PAD, colorizer(scale_for(signed), *rng))
    pixels = pixels.copy()
    if k >= 4:
        grid_lines(pixels, k)
    paint(pixels, k)
    where = {}

    def draw_map(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> None:
        where["origin"] = (x0, y0)
        if numbers:
            write_numbers(draw, values, pixels, x0, y0, k, compact, margin=4)
        draw_more(draw, x0, y0, k)

    image = canvas(pixels, tuple(values.shape), title, PANEL, draw_map)
    return image, *where["origin"], k, pixels.shape[:2]


def _hatch(filler: torch.Tensor) -> Callable[[np.ndarray, float], None]:
    """Paint: diagonal blue stripes over every grid cell ``filler`` marks (padding, inserted zeros)."""
    marked = filler.numpy()

    def paint(rgb: np.ndarray, k: float) -> None:
        h, w = rgb.shape[:2]
        rows = np.minimum((np.arange(h) // k).astype(int), marked.shape[0] - 1)
        cols = np.minimum((np.arange(w) // k).astype(int), marked.shape[1] - 1)
        stripes = ((np.arange(h)[:, None] + np.arange(w)[None, :]) % 10) < 3
        rgb[marked[rows][:, cols] & stripes] = HATCH

    return paint


def conv_animation(
    stages: Stages | TransposedStages,
    channel: int = 0,
    *,
    max_frames: int = MAX_FRAMES,
    frame_ms: int = 350,
    on_frame: Callable[[int, int], None] | None = None,
) -> bytes:
    """An animated GIF of the convolution making output ``channel`` (before activation and pooling).

    Args:
        stages: the explorer's pipeline (``conv.run_stages``), or its transposed convolution (``run_transposed``):
            drawn as a direct convolution over the input spread out with zeros (see ``sliding``).
        channel: the output channel; its input channel is the same one for a per-channel kernel, else channel 0.
        max_frames: at most this many frames (output cells); a larger output is animated over its top-left corner.
        frame_ms: each frame's duration in milliseconds (the last frame stays three times longer).
        on_frame: called as ``on_frame(done, total)`` after each frame is drawn (a page's progress bar).

    Returns:
        The GIF's bytes, looping forever.
    """
    full, film = _film(stages, channel, max_frames, on_frame)
    frames: list[Image.Image] = []
    palette = None
    for frame in film:
        if palette is None:  # one palette for every frame, from the first: same colours, and 3× faster
            palette = _palette(full, frame)
        frames.append(frame.quantize(palette=palette, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [frame_ms * 3]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=True, disposal=1)  # optimize: unchanged pixels transparent  # fmt: skip
    return buf.getvalue()


def conv_video(
    stages: Stages | TransposedStages,
    channel: int = 0,
    *,
    max_frames: int = MAX_FRAMES,
    frame_ms: int = 350,
    on_frame: Callable[[int, int], None] | None = None,
) -> bytes:
    """The same animation as ``conv_animation``'s, as an H.264 MP4 (for slides that take a video, or a GIF's
    colours falling short). The same arguments; PyAV (FFmpeg's libraries) is imported on the first video.

    Returns:
        The MP4's bytes: a frame per output cell, the last one shown three times as long (as two repeats).
    """
    import av  # (tens of MB of codecs: loaded only when a video is asked for)

    _, film = _film(stages, channel, max_frames, on_frame)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as box:
        stream = None
        for frame in film:
            if stream is None:
                stream = box.add_stream("libx264", rate=Fraction(1000, frame_ms))
                stream.width, stream.height = frame.width + frame.width % 2, frame.height + frame.height % 2
                stream.pix_fmt = "yuv420p"  # what every player plays; it needs even sides
                stream.options = {"crf": "18"}  # text and cell edges stay sharp
            even = Image.new("RGB", (stream.width, stream.height), "white")
            even.paste(frame)
            box.mux(stream.encode(av.VideoFrame.from_image(even)))
        for _ in range(2):  # the last frame, held
            box.mux(stream.encode(av.VideoFrame.from_image(even)))
        box.mux(stream.encode())  # what the encoder still holds
    return buf.getvalue()


def _film(stages: Stages | TransposedStages, channel: int, max_frames: int,
          on_frame: Callable[[int, int], None] | None) -> tuple[Image.Image, Iterator[Image.Image]]:  # fmt: skip
    """The filled output's panel, and the frames (RGB, drawn one at a time as they are asked for: 400 of them at once
    would take hundreds of MB), calling ``on_frame(done, total)`` once the writer has taken each."""
    story = sliding(stages, channel)
    p = _plan(story, max_frames)
    (kh, kw), (sh, sw), (dh, dw) = story.kernel, story.stride, story.dilation
    grid, out = story.grid, story.out
    shown_in, shown_out = grid[: p.in_rows, : p.in_cols], out[: p.rows, : p.cols]
    in_rng, out_rng = value_range(grid, signed=False), value_range(out, signed=True)

    def outline_input(draw: ImageDraw.ImageDraw, x0: int, y0: int, k: float) -> None:
        if story.edge is None:  # the input's cells lie apart: the hatching alone tells them
            return
        top, left, height, width = story.edge
        box = (x0 + left * k, y0 + top * k, x0 + min(left + width, p.in_cols) * k - 1,
               y0 + min(top + height, p.in_rows) * k - 1)  # fmt: skip
        if box[2] > box[0] and box[3] > box[1]:
            draw.rectangle(box, outline=INPUT_EDGE, width=3)

    numbers_in = max(shown_in.shape) <= NUMBERS_MAX
    left_img, lx, ly, lk, lsize = _panel(shown_in, story.grid_title, False, in_rng, numbers_in,
                                         _hatch(story.filler[: p.in_rows, : p.in_cols]), outline_input)  # fmt: skip
    numbers_out = max(shown_out.shape) <= NUMBERS_MAX
    full, rx, ry, rk, rsize = _panel(shown_out, story.out_title, True, out_rng, numbers_out)
    empty = full.copy()  # the output's cells before they are computed: flat gray
    gray = np.full((*rsize, 3), EMPTY, dtype=np.uint8)
    if rk >= 4:
        grid_lines(gray, rk)
    empty.paste(Image.fromarray(gray), (rx, ry))

    height = max(left_img.height, full.height)
    base = Image.new("RGB", (2 * PANEL, height + FOOTER), "white")
    base.paste(left_img, (0, 0))
    base.paste(empty, (PANEL, 0))
    rx += PANEL
    ImageDraw.Draw(base).text((PANEL, height + 3 * FOOTER // 4), story.legend, fill=INK, anchor="mm",
                              font=fitting_font(story.legend, FOOTER_SIZE - 6, 2 * PANEL - 2 * PAD))  # fmt: skip
    stride = f"stride {sh}×{sw}" + (f" · top-left {p.rows}×{p.cols} of {p.out_h}×{p.out_w}" if p.cropped else "")

    widest = max((fmt(float(v), 3) for v in shown_out.flatten()), key=len)  # one font for every frame's line
    line_font = fitting_font(f"Output cell ({p.rows}, {p.cols}) = {widest}   ·   {stride}", FOOTER_SIZE,
                             2 * PANEL - 2 * PAD)  # fmt: skip

    def frames():
        for i in range(p.frames):
            r, c = divmod(i, p.cols)
            frame = base.copy()
            if r:  # the rows already done, then this row up to this cell
                frame.paste(full.crop((rx - PANEL, ry, rx - PANEL + rsize[1], ry + round(r * rk))), (rx, ry))
            y = ry + round(r * rk)
            x1 = round((c + 1) * rk)
            frame.paste(full.crop((rx - PANEL, y, rx - PANEL + x1, ry + round((r + 1) * rk))), (rx, y))
            draw = ImageDraw.Draw(frame)
            window = [(r * sh + a * dh, c * sw + b * dw) for a in range(kh) for b in range(kw)]
            draw_marks(draw, lx, ly, lsize, lk, highlight=window)
            draw_marks(draw, rx, ry, rsize, rk, selected=(r, c))
            words = f"Output cell ({r}, {c}) = {fmt(float(out[r, c]), 3)}   ·   {stride}"
            draw.text((PANEL, height + FOOTER // 3), words, fill=INK, font=line_font, anchor="mm")
            yield frame
            if on_frame is not None:
                on_frame(i + 1, p.frames)

    return full, frames()


def _palette(full: Image.Image, frame: Image.Image) -> Image.Image:
    """A 255-colour palette covering the first frame and the filled output (whose colours later frames show)."""
    both = Image.new("RGB", (frame.width + full.width, max(frame.height, full.height)), "white")
    both.paste(frame, (0, 0))
    both.paste(full, (frame.width, 0))
    return both.quantize(255, method=Image.Quantize.MEDIANCUT)  # one index left free: GIF transparency
