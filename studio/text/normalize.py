"""Spell out numbers, dates, times, units, currency and acronyms the way they are spoken.

Rules of our own (``cn2an`` was checked: it installs and runs offline and its
``an2cn`` reads plain numbers well, but its ``transform`` turns 2024-03-05 into
"二千零二十四负三负五", -3.5 into "负三.五" and phone numbers into
cardinals, and it has no 两; so it is not used).

What is read how:

* integers as cardinals (``1010`` -> 一千零一十, ``2000`` -> 两千, ``256`` ->
  二百五十六), with 两 for a bare 2 before a measure word or unit (``2个`` ->
  两个, ``2kg`` -> 两公斤); decimals digit by digit
  after 点; ``1,234`` separators dropped; a leading minus is 负;
* a 4-digit number before 年 digit by digit (``2024年`` -> 二零二四年);
  ``2024-03-05``, ``2024/3/5`` and ``2024.03.05`` as dates; ``2024-03`` as a month;
* ``10:30`` as a time (十点三十分), other ``a:b`` as a score (三比二);
* ``50%`` -> 百分之五十, ``‰`` -> 千分之; ``1/2`` -> 二分之一; ``3-5`` -> 三到五;
* ``¥12.5`` -> 十二点五元 (also $ € £); units right after a number
  (km, kg, ℃, m², GB, ...) by their spoken names; ``-5℃`` -> 零下五摄氏度;
* phone numbers, numbers with a leading zero and numbers after words like
  电话, 验证码, 房间 digit by digit, 1 as 幺;
* capital-letter acronyms inside Chinese text spaced out to be spelled
  (``AI`` -> ``A I``; word-like ones such as COVID, NASA kept); other Latin
  words are left alone;
* codes that start with a Latin letter and hold digits (``L1``, ``GPT-4``,
  ``COVID-19``, ``Qwen3``, ``No.1``) with their digits read in English, as
  narrators say them (``L one``, ``G P T four``, ``COVID nineteen``,
  ``Number one``), not ``L一``; ``B2B`` as B to B; but paper sizes, ``MP3`` and ``PM2.5`` the
  Chinese way (``A四``, ``MP三``, ``PM二点五``);
* a number before a letter stays Chinese (``3D`` -> 三D, ``5G`` -> 五G),
  resolutions digit by digit (``1080P`` -> 一零八零P); ``90后`` -> 九零后;
  ``2024-2025年`` -> 二零二四到二零二五年; ``7×24`` -> 七乘二十四, ``1+1`` -> 一加一.
"""

from __future__ import annotations

import re

from studio.text.pins import Edit, PinnedText, apply_edits

_DIGITS = "零一二三四五六七八九"
_YAO_DIGITS = "零幺二三四五六七八九"
_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "％": "%", "．": ".", "：": ":", "／": "/", "－": "-"}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)
UNITS: dict[str, str] = {
    "km/h": "公里每小时",
    "m/s": "米每秒",
    "km²": "平方公里",
    "m²": "平方米",
    "cm²": "平方厘米",
    "m³": "立方米",
    "km": "公里",
    "cm": "厘米",
    "mm": "毫米",
    "m": "米",
    "kg": "公斤",
    "mg": "毫克",
    "g": "克",
    "ml": "毫升",
    "mL": "毫升",
    "L": "升",
    "TB": "T",
    "GB": "G",
    "MB": "兆",
    "KB": "K",
    "GHz": "吉赫兹",
    "MHz": "兆赫兹",
    "kHz": "千赫兹",
    "Hz": "赫兹",
    "kW": "千瓦",
    "W": "瓦",
    "V": "伏",
    "mAh": "毫安时",
    "℃": "摄氏度",
    "°C": "摄氏度",
    "°F": "华氏度",
    "°": "度",
    "min": "分钟",
    "ms": "毫秒",
    "h": "小时",
    "s": "秒",
}
_TEMPERATURE = {"℃", "°C", "°F", "°"}
_CURRENCY = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
#: Measure words after which a bare 2 is read 两.
_MEASURE = "个只本位条张次天年岁件双块元种名台辆家所座层份点周斤倍遍口部首句段页篇杯瓶碗把架间棵朵匹头项门节场趟万千亿"
_ID_WORDS = re.compile(
    r"(?:电话|手机|号码|热线|拨打|致电|联系|QQ|qq|微信|账号|帐号|编号|卡号|单号|订单|工号|学号|房间|房号|邮编|验证码|密码|车次|航班|尾号|门牌)"
    r"[^0-9，。！？；\n]{0,4}$"
)
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
#: Capital-letter words said as words, not spelled out.
WORD_ACRONYMS = frozenset({"COVID", "NASA", "NATO", "UNESCO", "OPEC", "ASCII", "FIFA", "DOS", "SARS", "MERS"})
_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
#: Codes read the Chinese way: paper sizes (A4), MP3/MP4, PM2.5/PM10.
_CHINESE_CODES = re.compile(r"^(?:[AB]\d|MP[345]|PM(?:2\.5|10))$")
_PATTERN = re.compile(
    rf"""
    (?P<code>(?<![A-Za-z0-9.])(?=[A-Za-z][A-Za-z.\-]*\d)[A-Za-z][A-Za-z]*\.?(?:[A-Za-z0-9]+)(?:[-.][A-Za-z0-9]+)*(?![A-Za-z0-9]))
    |(?P<op>(?<=\d)\s*[×+＋÷]\s*(?=\d))
    |
    (?P<date>(?<![\d.])(?P<y>\d{{4}})(?P<sep>[-/.])(?P<mo>1[0-2]|0?[1-9])(?P=sep)(?P<d>3[01]|[12]\d|0?[1-9])(?![\d.]))
    |(?P<month>(?<![\d.])(?P<my>\d{{4}})-(?P<mm>1[0-2]|0[1-9])(?![\d.-]))
    |(?P<phone>(?<![\d.])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{{4}}){{2}}(?![\d.])
        |(?<![\d.])0\d{{2,3}}-\d{{7,8}}(?![\d.])|(?<![\d.])[48]00-?\d{{3}}-?\d{{4}}(?![\d.]))
    |(?P<time>(?<![\d.])(?P<h>[01]?\d|2[0-4]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d.:]))
    |(?P<ratio>(?<![\d.])(?P<ra>\d+):(?P<rb>\d+)(?![\d.:]))
    |(?P<percent>(?P<psign>(?<![A-Za-z0-9])[-−])?(?P<pnum>{_NUMBER})\s*(?P<pct>[%‰]))
    |(?P<money>(?P<cur>[¥￥$€£])\s*(?P<mnum>{_NUMBER})(?P<mmag>[万亿千百]?))
    |(?P<range>(?<![\d.])(?P<r1>\d+(?:\.\d+)?)\s*[-~～—–]\s*(?P<r2>\d+(?:\.\d+)?)(?![\d.])(?:\s*(?P<runit>{_UNIT_ALT})(?![A-Za-z]))?)
    |(?P<version>(?<![\d.])\d+(?:\.\d+){{2,}}(?![\d.]))
    |(?P<frac>(?<![\d./])(?P<fa>\d+)/(?P<fb>\d+)(?![\d/]))
    |(?P<res>(?<![\d.])(?:480|720|1080|1440|2160|4320)[Pp](?![A-Za-z]))
    |(?P<num>(?P<sign>(?<![A-Za-z0-9])[-−])?(?P<int>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<dec>\d+))?
        (?:\s*(?P<unit>{_UNIT_ALT})(?![A-Za-z]))?)
    |(?P<acro>(?<![A-Za-z])[A-Z]{{2,6}}(?![A-Za-z]))
    """,
    re.VERBOSE,
)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def read_integer(digits: str) -> str:
    """Cardinal reading of a non-negative integer string: "1010" -> "一千零一十", "2000" -> "两千".

    Numbers of 17 digits or more are read digit by digit.
    """
    digits = digits.replace(",", "").lstrip("0") or "0"
    if digits == "0":
        return "零"
    if len(digits) > 16:
        return read_digits(digits)
    groups = []
    while digits:
        groups.append(int(digits[-4:]))
        digits = digits[:-4]
    out = ""
    pending_zero = False
    for power in range(len(groups) - 1, -1, -1):
        group = groups[power]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _read_group(group) + ("", "万", "亿", "万亿")[power]
        pending_zero = False
    if out.startswith("一十"):
        out = out[1:]
    # 两 before 千/万/亿 (两千五, 两万三); before 百 only when round (两百, but 二百五十六).
    if out.startswith("二") and (out[1:2] in ("千", "万", "亿") or out == "二百"):
        out = "两" + out[1:]
    return out


def _read_group(number: int) -> str:
    text = str(number)
    out = ""
    zero = False
    for position, char in enumerate(text):
        digit = int(char)
        if digit == 0:
            zero = True
            continue
        if zero and out:
            out += "零"
        zero = False
        out += _DIGITS[digit] + ("", "十", "百", "千")[len(text) - 1 - position]
    return out


def read_digits(digits: str, *, yao: bool = False) -> str:
    """Digit-by-digit reading ("2024" -> "二零二四"); ``yao`` reads 1 as 幺, as in phone numbers."""
    table = _YAO_DIGITS if yao else _DIGITS
    return "".join(table[int(c)] if c.isdigit() else "" for c in digits)


def read_number(number: str) -> str:
    """Cardinal reading of "-1,234.50"-style numbers: sign, integer part, and decimals after 点."""
    sign = "负" if number[:1] in "-−" else ""
    number = number.lstrip("-−+")
    whole, _, decimals = number.partition(".")
    out = read_integer(whole)
    if decimals:
        if out.startswith("两"):
            out = "二" + out[1:]
        out += "点" + read_digits(decimals)
    return sign + out


def normalize(text: str) -> str:
    """``text`` with numbers, dates, times, units, currency and acronyms spelled out in Chinese."""
    pinned, _ = apply_edits(PinnedText(text), normalize_edits(text))
    return pinned.text


def normalize_edits(text: str) -> list[Edit]:
    """The replacements :func:`normalize` makes, as edits of ``text`` (for pin-aware callers)."""
    ascii_text = text.translate(_FULLWIDTH)
    has_han = bool(_HAN.search(ascii_text))
    edits = []
    for match in _PATTERN.finditer(ascii_text):
        kind = match.lastgroup
        if kind == "acro" and not has_han:
            continue
        new = _HANDLERS[kind](match, ascii_text)
        if new != text[match.start() : match.end()]:
            edits.append(Edit(match.start(), match.end(), new, source="normalize"))
    return edits


def _date(m: re.Match[str], _text: str) -> str:
    return f"{read_digits(m['y'])}年{read_integer(m['mo'])}月{read_integer(m['d'])}日"


def _month(m: re.Match[str], _text: str) -> str:
    return f"{read_digits(m['my'])}年{read_integer(m['mm'])}月"


def _phone(m: re.Match[str], _text: str) -> str:
    groups = re.findall(r"\d+", m.group())
    return " ".join(read_digits(g, yao=True) for g in groups)


def _time(m: re.Match[str], _text: str) -> str:
    out = _with_liang(read_integer(m["h"])) + "点"
    minute = int(m["mi"])
    if minute or m["s"]:
        out += ("零" if 0 < minute < 10 else "") + read_integer(m["mi"]) + "分"
    if m["s"]:
        second = int(m["s"])
        out += ("零" if 0 < second < 10 else "") + read_integer(m["s"]) + "秒"
    return out


def _ratio(m: re.Match[str], _text: str) -> str:
    return f"{read_integer(m['ra'])}比{read_integer(m['rb'])}"


def _percent(m: re.Match[str], _text: str) -> str:
    sign = "负" if m["psign"] else ""
    prefix = "千分之" if m["pct"] == "‰" else "百分之"
    return sign + prefix + read_number(m["pnum"].replace(",", ""))


def _money(m: re.Match[str], _text: str) -> str:
    amount = m["mnum"].replace(",", "")
    if "." in amount:
        amount = amount.rstrip("0").rstrip(".")
    return read_number(amount) + (m["mmag"] or "") + _CURRENCY[m["cur"]]


def _range(m: re.Match[str], text: str) -> str:
    unit = UNITS.get(m["runit"] or "", "")
    if not unit and text[m.end() : m.end() + 1] == "年" and len(m["r1"]) == len(m["r2"]) == 4:
        return f"{read_digits(m['r1'])}到{read_digits(m['r2'])}"
    return f"{read_number(m['r1'])}到{read_number(m['r2'])}{unit}"


def _version(m: re.Match[str], _text: str) -> str:
    return "点".join(read_integer(part) for part in m.group().split("."))


def _frac(m: re.Match[str], _text: str) -> str:
    return f"{read_integer(m['fb'])}分之{read_integer(m['fa'])}"


def _num(m: re.Match[str], text: str) -> str:
    whole, decimals, unit = m["int"], m["dec"], m["unit"]
    after = text[m.end() : m.end() + 1]
    plain = whole.isdigit() and not decimals and not m["sign"]
    if plain and len(whole) >= 3 and (_ID_WORDS.search(text, max(0, m.start() - 12), m.start()) or whole[0] == "0"):
        return read_digits(whole, yao=True) + _unit(unit, m)
    if plain and whole[0] == "0" and len(whole) > 1:
        return read_digits(whole, yao=True) + _unit(unit, m)
    if plain and len(whole) == 4 and not unit and after == "年":
        return read_digits(whole)
    if plain and len(whole) == 2 and not unit and after == "后":
        return read_digits(whole)
    if plain and len(whole) >= 11:
        return read_digits(whole, yao=True)
    number = (whole + ("." + decimals if decimals else "")).replace(",", "")
    spoken = read_number(number)
    if spoken == "二" and (unit or (after and after in _MEASURE)):
        spoken = "两"
    if m["sign"]:
        spoken = ("零下" if unit in _TEMPERATURE else "负") + spoken
    return spoken + _unit(unit, m)


def _unit(unit: str | None, m: re.Match[str]) -> str:
    return UNITS[unit] if unit else ""


def _acro(m: re.Match[str], _text: str) -> str:
    return m.group() if m.group() in WORD_ACRONYMS else " ".join(m.group())


def english_number(digits: str) -> str:
    """English words for a number as narrators say it in a code: "4" -> "four", "19" -> "nineteen", "2.5" ->
    "two point five"; three digits or more digit by digit ("4090" -> "four zero nine zero")."""
    whole, _, decimals = digits.partition(".")
    if len(whole) > 2 or (len(whole) == 2 and whole[0] == "0"):
        out = " ".join(_EN_ONES[int(c)] for c in whole)
    else:
        value = int(whole)
        if value < 20:
            out = _EN_ONES[value]
        else:
            out = _EN_TENS[value // 10 - 2] + ("-" + _EN_ONES[value % 10] if value % 10 else "")
    if decimals:
        out += " point " + " ".join(_EN_ONES[int(c)] for c in decimals)
    return out


def _code(m: re.Match[str], _text: str) -> str:
    token = m.group()
    if _CHINESE_CODES.match(token):
        head = re.match(r"[A-Za-z]+", token).group()
        return head + read_number(token[len(head) :])
    if re.fullmatch(r"[A-Z]2[A-Z]", token):
        return f"{token[0]} to {token[2]}"  # B2B, O2O, P2P
    if re.match(r"^[Nn][Oo]\.?\d+$", token):
        return "Number " + english_number(token.lstrip("NnOo."))
    words = []
    for part in re.findall(r"\d+(?:\.\d+)?|[A-Za-z]+", token):
        if part[0].isdigit():
            words.append(english_number(part))
        elif part.isupper() and 2 <= len(part) <= 6 and part not in WORD_ACRONYMS:
            words.append(" ".join(part))
        else:
            words.append(part)
    return " ".join(words)


def _op(m: re.Match[str], _text: str) -> str:
    return {"×": "乘", "+": "加", "＋": "加", "÷": "除以"}[m.group().strip()]


def _res(m: re.Match[str], _text: str) -> str:
    return read_digits(m.group()[:-1]) + m.group()[-1].upper()


def _with_liang(spoken: str) -> str:
    return "两" if spoken == "二" else spoken


_HANDLERS = {
    "date": _date,
    "month": _month,
    "phone": _phone,
    "time": _time,
    "ratio": _ratio,
    "percent": _percent,
    "money": _money,
    "range": _range,
    "version": _version,
    "frac": _frac,
    "num": _num,
    "acro": _acro,
    "code": _code,
    "op": _op,
    "res": _res,
}
