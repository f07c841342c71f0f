"""True streaming: codec frames decoded in chunks while the talker is still producing them.

qwen-tts generates every frame, then decodes them all at once. Here a forward
hook on the talker (:func:`frame_tap`) sees each frame's 16 codes as soon as
the code predictor has finished it; a :class:`StreamDecoder` decodes them in
chunks (a small first one for a quick start, then larger ones). Each chunk runs
the decoder's transformer over the window qwen-tts' own chunked decode gives it
(:mod:`.decode`) and its convolutions only over the new frames, carrying their
left context from chunk to chunk (:class:`.conv_stream.ConvStream`), so the
chunks put end to end equal the whole decode to float rounding. When the wrapper then
asks for the whole decode, :func:`streamed` hands back the audio already made
instead of decoding everything a second time.

Works on any device: it is plain torch around the model's own modules. One text
at a time (batch 1); batches and anything unexpected go the ordinary way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import torch

from . import decode
from .chunks import ChunkPlan
from .conv_stream import ConvStream, supports

Sink = Callable[[np.ndarray], None]


class StreamDecoder:
    """Collects frames and hands ``sink`` each chunk's audio (float32, mono) once enough frames are in.

    ``prefix`` are codes that precede the generated ones in the decoder's input
    (an in-context clone's reference, (T, Q)): they are context, never output.
    """

    def __init__(
        self,
        speech_tokenizer,
        sink: Sink,
        plan: ChunkPlan,
        prefix: torch.Tensor | None = None,
        grid: tuple[int, int] = (decode.CHUNK_FRAMES, decode.CHUNK_CONTEXT_FRAMES),
    ) -> None:
        self.decoder = speech_tokenizer.model.decoder
        self.device = speech_tokenizer.device
        self.upsample = int(self.decoder.total_upsample)
        self.plan = plan
        self.sink = sink
        self.conv = decode.conv_plan(self.decoder)
        self.grid, self.grid_context = grid  # the chunk grid of the whole decode the chunks must equal
        self.carried = supports(self.decoder)
        self.convs: ConvStream | None = None
        self.convs_grid = -1  #: the grid chunk whose convolutions ``convs`` carries
        rows = [] if prefix is None else list(torch.as_tensor(prefix, dtype=torch.long).to(self.device))
        self.prefix_frames = len(rows)
        self.rows: list[torch.Tensor] = rows
        self.sent = self.prefix_frames  #: frames (counting the prefix) already decoded and handed out
        self.pieces: list[np.ndarray] = []

    @property
    def frames(self) -> int:
        """Generated frames received so far."""
        return len(self.rows) - self.prefix_frames

    def push(self, frame: torch.Tensor) -> None:
        """Add one frame's codes (Q,); decode and hand out a chunk when one is due."""
        self.rows.append(frame.detach().to(self.device, torch.long).reshape(-1))
        due = self.plan.first if self.sent == self.prefix_frames else self.plan.size
        if len(self.rows) - self.sent >= due:
            self._emit(len(self.rows))

    def finish(self) -> np.ndarray:
        """Decode what is left; the whole generated audio, as the chunks handed out put together."""
        if len(self.rows) > self.sent:
            self._emit(len(self.rows))
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)

    def generated_codes(self) -> torch.Tensor:
        """The generated frames' codes, (T, Q)."""
        rows = self.rows[self.prefix_frames :]
        return torch.stack(rows) if rows else torch.zeros((0, 0), dtype=torch.long, device=self.device)

    def _emit(self, end: int) -> None:
        codes = torch.stack(self.rows[:end]).clamp(min=0).T[None]  # (1, Q, T)
        with torch.inference_mode():
            if self.carried:
                wav = self._decode_carried(codes, self.sent, end)[0, 0]
            else:
                wav = decode.decode_span(self.decoder, codes, self.sent, end, self.conv, self.grid, self.grid_context)
                wav = wav[0, 0]
        piece = wav.to(torch.float32).cpu().numpy()
        self.sent = end
        self.pieces.append(piece)
        self.sink(piece)

    def _decode_carried(self, codes: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """Samples of frames ``start:end``, like :func:`.decode.decode_span`, with convolutions carried over."""
        pieces = []
        while start < end:
            grid = start // self.grid * self.grid
            stop = min(grid + self.grid, end)
            context = self.grid_context if grid - self.grid_context > 0 else grid
            window = grid - context
            hidden = decode.latents(self.decoder, codes[..., window:stop])
            if grid == self.convs_grid:
                pieces.append(self.convs(hidden[..., start - window :]))
            else:  # a new chunk of the grid: its convolutions start afresh, as they do in the whole decode
                self.convs, self.convs_grid = ConvStream(self.decoder), grid
                conv_from = max(window, decode.first_frame_needed(self.conv, start * self.upsample))
                wav = self.convs(hidden[..., conv_from - window :])
                pieces.append(wav[..., (start - conv_from) * self.upsample :])
            start = stop
        return torch.cat(pieces, dim=-1)


@contextlib.contextmanager
def frame_tap(talker, on_frame: Callable[[torch.Tensor], None]) -> Iterator[None]:
    """Within the block, ``on_frame(codes)`` gets each finished frame's (B, Q) codes during ``talker.generate``.

    The talker's forward completes the previous frame (first code + the code
    predictor's 15) and returns its codes beside its hidden states; the prefill
    returns none.
    """

    def hook(module, args, output) -> None:
        hidden = getattr(output, "hidden_states", None)
        if isinstance(hidden, tuple) and len(hidden) == 2 and isinstance(hidden[1], torch.Tensor):
            on_frame(hidden[1])

    handle = talker.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def reference_codes(kwargs: dict) -> torch.Tensor | None:
    """The reference codes a single-text clone call will prepend before decoding (None: none)."""
    prompt = kwargs.get("voice_clone_prompt")
    if prompt is None:
        return None
    if isinstance(prompt, dict):
        codes = prompt.get("ref_code") or [None]
        return codes[0]
    return prompt[0].ref_code if len(prompt) == 1 else None


def streamable(kwargs: dict) -> bool:
    """Whether a qwen-tts call with ``kwargs`` can be streamed: one text, one prompt, no raw reference to encode."""
    text = kwargs.get("text")
    prompt = kwargs.get("voice_clone_prompt")
    single_prompt = prompt is None or isinstance(prompt, dict) or len(prompt) == 1
    return (
        (isinstance(text, str) or (isinstance(text, list) and len(text) == 1))
        and single_prompt
        and (kwargs.get("ref_audio") is None)
    )


@contextlib.contextmanager
def streamed(tts, sink: Sink, plan: ChunkPlan, prefix: torch.Tensor | None = None) -> Iterator[StreamDecoder]:
    """Within the block, one generation call on ``tts`` streams its audio to ``sink`` chunk by chunk.

    The speech tokenizer's ``decode`` (an instance attribute, restored on exit)
    then returns the audio already streamed, when it is asked for exactly the
    frames that were streamed; anything else goes to the original ``decode``.
    """
    speech_tokenizer = tts.model.speech_tokenizer
    stream = StreamDecoder(speech_tokenizer, sink, plan, prefix)

    def on_frame(codes: torch.Tensor) -> None:
        if codes.shape[0] == 1:
            stream.push(codes[0])

    original = speech_tokenizer.decode
    sr = int(speech_tokenizer.model.get_output_sample_rate())

    def decode(encoded):
        items = [entry.get("audio_codes") for entry in encoded] if isinstance(encoded, list) else None
        if items is None or len(items) != 1 or items[0] is None:
            return original(encoded)
        codes = torch.as_tensor(items[0]).to(stream.device)
        expected = torch.stack(stream.rows) if stream.rows else None
        if expected is None or codes.shape != expected.shape or not bool((codes == expected).all()):
            return original(encoded)
        audio = stream.finish()
        head = np.zeros(stream.prefix_frames * stream.upsample, np.float32)  # the wrapper cuts it off
        return [np.concatenate([head, audio])], sr

    previous = speech_tokenizer.__dict__.get("decode")
    speech_tokenizer.decode = decode
    try:
        with frame_tap(tts.model.talker, on_frame):
            yield stream
    finally:
        if previous is None:
            speech_tokenizer.__dict__.pop("decode", None)
        else:
            speech_tokenizer.decode = previous
