"""Read the reference voice out of a GPT-SoVITS client's config, and import it as a saved voice with its alias.

Understood inputs (never executed):

* YAML, e.g. xiaozhi-esp32-server's ``config.yaml``: every mapping with a
  ``ref_audio_path`` (api_v2, ``GPT_SOVITS_V2``) or ``refer_wav_path``
  (api.py v1, ``GPT_SOVITS_V1``/``V3``) string is one reference; its key
  (``GPT_SOVITS_V2``) is the block's name.
* Python, e.g. a Flask digital-human app's ``config.py`` or its TTS service:
  parsed with :mod:`ast`; only literals are read (``ast.literal_eval`` on
  constant nodes): dict literals, ``NAME = "..."`` assignments at module or
  class level, keyword arguments and argument defaults named like the fields.

Fields read: ``ref_audio_path``/``refer_wav_path``, ``prompt_text``,
``prompt_lang``/``prompt_language`` (else ``text_lang``/``text_language``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from .errors import InputError

MAX_CONFIG_BYTES = 512 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 32
MAX_BLOCKS = 32

_PATH_KEYS = ("ref_audio_path", "refer_wav_path")
_TEXT_KEYS = ("prompt_text",)
_LANG_KEYS = ("prompt_lang", "prompt_language", "text_lang", "text_language")
_FIELDS = (*_PATH_KEYS, *_TEXT_KEYS, *_LANG_KEYS)
#: GPT-SoVITS language codes and labels -> the studio's language names.
_LANGUAGES = {
    "zh": "Chinese", "all_zh": "Chinese", "中文": "Chinese", "中英混合": "Chinese",
    "en": "English", "英文": "English",
    "ja": "Japanese", "all_ja": "Japanese", "日文": "Japanese",
    "ko": "Korean", "all_ko": "Korean", "韩文": "Korean",
    "yue": "Chinese", "all_yue": "Chinese", "粤语": "Chinese",
}  # fmt: skip


@dataclass(frozen=True)
class GsvReference:
    """One reference found in a config: the path string exactly as the client sends it."""

    block: str  #: where it was found: the YAML key (GPT_SOVITS_V2) or the Python name
    path: str
    prompt_text: str = ""
    language: str = "auto"  #: the studio's language name

    @property
    def file_name(self) -> str:
        """The file's name, whether the path was written on Windows or elsewhere."""
        return PureWindowsPath(self.path).name


def _error(zh: str, en: str) -> InputError:
    return InputError(zh=zh, en=en, param="config")


def _reference(block: str, fields: dict) -> GsvReference | None:
    path = next((fields[k] for k in _PATH_KEYS if isinstance(fields.get(k), str) and fields[k].strip()), None)
    if path is None:
        return None
    text = next((fields[k] for k in _TEXT_KEYS if isinstance(fields.get(k), str)), "")
    lang = next((fields[k] for k in _LANG_KEYS if isinstance(fields.get(k), str) and fields[k].strip()), "")
    return GsvReference(block, path.strip(), text.strip()[:2000], _LANGUAGES.get(lang.strip().lower(), "auto"))


def _from_yaml(text: str) -> list[GsvReference]:
    from .limits import load_yaml

    data = load_yaml(text, "config")  # bounded depth, aliases and size, like every YAML a user hands in
    found: list[GsvReference] = []
    budget = [MAX_NODES]

    def walk(node: object, name: str, depth: int) -> None:
        budget[0] -= 1
        if depth > MAX_DEPTH or budget[0] < 0:
            raise _error("配置文件嵌套太深或太大。", "the config is nested too deeply or too large.")
        if isinstance(node, dict):
            ref = _reference(name, {str(k).lower(): v for k, v in node.items()})
            if ref is not None:
                found.append(ref)
            for key, value in node.items():
                walk(value, str(key), depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, name, depth + 1)

    walk(data, "config", 0)
    return found


def _literal(node: ast.AST) -> object:
    """The value of a literal node; None for anything that would need running code.

    ``x or "default.wav"`` gives its last operand: the fallback a client uses when nothing is passed.
    """
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _literal(node.values[-1])
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _from_python(text: str, stem: str) -> list[GsvReference]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise _error(
            f"Python 文件无法解析：{str(exc)[:200]}", f"the Python file cannot be parsed: {str(exc)[:200]}"
        ) from exc
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise _error("配置文件太大。", "the config is too large.")
    found: list[GsvReference] = []
    blocks: list[tuple[str, list]] = []  # dict literals and calls: (name, [(key, value node)])
    loose: dict[str, dict] = {}  # NAME = "..." assignments, by scope (the module, or a class)
    scopes: dict[int, str] = {}  # node id -> its class scope
    for node in nodes:
        if isinstance(node, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)]
            blocks.append((f"{stem}:{node.lineno}", pairs))
        elif isinstance(node, ast.Call):
            blocks.append((f"{stem}:{node.lineno}", [(k.arg, k.value) for k in node.keywords if k.arg]))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.args[len(node.args.args) - len(node.args.defaults) :]
            pairs = [*zip(positional, node.args.defaults, strict=True)]
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d]
            fields = {a.arg.lower(): _literal(d) for a, d in pairs if a.arg.lower() in _FIELDS}
            ref = _reference(f"{stem}.{node.name}", fields)
            if ref is not None:
                found.append(ref)
        if isinstance(node, ast.ClassDef) and id(node) not in scopes:  # nested classes share the outer scope
            for child in ast.walk(node):
                scopes.setdefault(id(child), f"{stem}.{node.name}")
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                if name.lower() in _FIELDS:  # NAME = "...", self.name = "..."
                    scope = loose.setdefault(scopes.get(id(node), stem), {})
                    scope.setdefault(name.lower(), _literal(node.value))
    known = {k: v for fields in loose.values() for k, v in fields.items() if isinstance(v, str)}
    for block, pairs in blocks:
        fields = {}
        for key, value in pairs:
            if isinstance(key, str) and key.lower() in _FIELDS:
                fields[key.lower()] = _literal(value)
                named = value.id if isinstance(value, ast.Name) else getattr(value, "attr", "")
                if fields[key.lower()] is None and named.lower() in known:  # "prompt_text": self.prompt_text
                    fields[key.lower()] = known[named.lower()]
        ref = _reference(block, fields)
        if ref is not None:
            found.append(ref)
    for scope, fields in loose.items():
        ref = _reference(scope, fields)
        if ref is not None:
            found.append(ref)
    return found


def read_gsv_config(path: str | Path) -> list[GsvReference]:
    """Every distinct reference in a YAML or Python config (``.yaml``/``.yml``/``.py``), in file order."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".py"):
        raise _error(
            f"不认识的配置文件类型 “{path.suffix}”。请给出 .yaml、.yml 或 .py 文件。",
            f"Unknown config type '{path.suffix}'. Give a .yaml, .yml or .py file.",
        )
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise _error(
                f"配置文件太大（{size // 1024} KB），最多 {MAX_CONFIG_BYTES // 1024} KB。",
                f"The config is too large ({size // 1024} KB); the limit is {MAX_CONFIG_BYTES // 1024} KB.",
            )
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _error(f"无法读取配置文件 {path.name}。", f"Cannot read the config file {path.name}.") from exc
    except UnicodeDecodeError as exc:
        raise _error(f"{path.name} 不是 UTF-8 文本。", f"{path.name} is not UTF-8 text.") from exc
    refs = _from_python(text, path.stem) if suffix == ".py" else _from_yaml(text)
    unique: dict[tuple[str, str], GsvReference] = {}
    for ref in refs:
        key = (ref.path, ref.prompt_text)
        if key not in unique or (unique[key].language == "auto" and ref.language != "auto"):
            unique[key] = ref
    if not unique:
        raise _error(
            f"{path.name} 里没有找到 refer_wav_path 或 ref_audio_path。请给出 GPT-SoVITS 客户端的配置文件。",
            f"No refer_wav_path or ref_audio_path found in {path.name}. Give a GPT-SoVITS client's config file.",
        )
    if len(unique) > MAX_BLOCKS:
        raise _error(
            f"配置里的参考音频太多（{len(unique)} 个）。", f"Too many references in the config ({len(unique)})."
        )
    return list(unique.values())


@dataclass(frozen=True)
class GsvImport:
    """What :func:`import_gsv_config` did."""

    voice: str  #: the saved voice that now answers to the alias
    alias: str  #: the path string exactly as the client sends it
    created: bool  #: True: a new voice from the audio; False: the alias was added to an existing voice
    reference: GsvReference


def _pick(refs: list[GsvReference], block: str | None) -> GsvReference:
    if block:
        chosen = [r for r in refs if r.block.casefold() == block.strip().casefold()]
        if not chosen:
            raise _error(
                f"配置里没有名为 “{block}” 的块。可选：{'、'.join(r.block for r in refs)}。",
                f"The config has no block '{block}'. Choose one of: {', '.join(r.block for r in refs)}.",
            )
        return chosen[0]
    if len({r.path for r in refs}) > 1:
        listing = "; ".join(f"{r.block}: {r.path}" for r in refs)
        raise _error(
            f"配置里有多个参考音频，请用 block 指定一个：{listing}",
            f"The config has several references; pick one with its block: {listing}",
        )
    return refs[0]


def _local_audio(ref: GsvReference, config: Path) -> Path | None:
    """The reference file on this computer: the path itself, else beside the config; None when neither exists."""
    for candidate in (Path(ref.path), config.parent / ref.path, config.parent / ref.file_name):
        try:
            if candidate.is_file():
                return candidate
        except OSError:
            continue
    return None


def _voice_name(ref: GsvReference) -> str:
    """A readable name: the file's stem, or its folder's name for a generic stem (``纳西妲\\0.wav`` -> 纳西妲)."""
    parts = PureWindowsPath(ref.path)
    stem = parts.stem.strip()
    if (not stem or stem.isdigit() or len(stem) < 2) and parts.parent.name:
        return parts.parent.name[:64]
    return (stem or ref.block)[:64]


def import_gsv_config(
    library,
    config: str | Path,
    *,
    block: str | None = None,
    audio: str | Path | None = None,
    name: str | None = None,
    voice: str | None = None,
    consent: bool = False,
    search_local: bool = True,
) -> GsvImport:
    """Make a saved voice answer to the reference path a GPT-SoVITS client's ``config`` sends.

    With ``voice`` the alias goes onto that existing voice. Otherwise a voice is
    created (name: ``name``, else from the path) from ``audio``, or from the
    config's own file when it exists on this computer, with the config's
    ``prompt_text`` as transcript; ``consent`` is required as for any new voice.
    When the audio is not here and no voice is named, the error says what to give.
    ``search_local=False`` (the UI, which may serve others) never opens a path the config names.
    """
    config = Path(config)
    ref = _pick(read_gsv_config(config), block)
    if voice:
        saved = library.add_alias(voice, ref.path)
        return GsvImport(saved.name, ref.path, False, ref)
    clip = Path(audio) if audio else _local_audio(ref, config) if search_local else None
    if clip is None:
        raise InputError(
            zh=f"找不到配置里的参考音频 {ref.path}。请在导入时给出这段音频（界面里上传；命令行 --audio 文件），"
            "或者选一个已保存的声音来响应这个路径（界面里勾选“加到选中的声音”；命令行 --voice 名字）。",
            en=f"The config's reference audio {ref.path} is not here. Give that audio when importing (upload it in "
            "the UI; --audio FILE on the command line), or choose a saved voice to answer to that path "
            "('add to the chosen voice' in the UI; --voice NAME on the command line).",
            param="audio",
        )
    holder = library.find_alias(ref.path)
    if holder is not None:
        raise InputError(
            zh=f"声音“{holder.name}”已经在使用别名 {ref.path}，这个配置已经可以直接使用。",
            en=f"The voice '{holder.name}' already answers to {ref.path}: this config already works as it is.",
            param="config",
        )
    from .voices import validate_name

    new_name = validate_name(name or _voice_name(ref))
    library.create(
        new_name,
        str(clip),
        transcript=ref.prompt_text,
        language=ref.language,
        consent=consent,
        source=f"GPT-SoVITS config {config.name} ({ref.block})"[:500],
    )
    try:
        saved = library.add_alias(new_name, ref.path)
    except InputError:
        library.delete(new_name)  # the alias belongs to another voice: leave no half-made voice behind
        raise
    return GsvImport(saved.name, ref.path, True, ref)
