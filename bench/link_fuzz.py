"""Hostile deep links through every page: no traceback, and a notice naming what was not applied.

A shared link is typed by hand, cut short by a chat client, or written to break the app, and it
must still open: the page falls back to a valid config and says, on screen, what it did not
apply. Cases are generated from a seed out of the settings table (`playground.config.SETTINGS`,
walked as it stands, so a setting added later is covered), the link keys (`LINK_KEYS`) and the
Compare and Labs pages' own parameters: wrong types, huge and negative numbers, unknown names,
long and unicode text, repeated keys, `hide` naming nothing, bad `preset`, `present` and `v`.

Each case opens one page through `app.py` (as a browser's first visit to the link does) under
Streamlit's AppTest. A case fails when the page raises or shows a traceback, when a setting it
judged bad is not named in a notice, when the page refuses a config it should have fallen back
from (a host limit's refusal is a notice, not a failure), when the settings it applied are not
a valid config, or when `present` turned presenter mode to something the link did not ask for.
Home and the Explorer read no settings from a link: they must only open. Last line:
`link_fuzz_failures: N`.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench._app import ROOT  # noqa: E402
from playground import activations, drawing  # noqa: E402
from playground.comparison_config import (  # noqa: E402
    COMPARE_KEYS,
    MAX_SEEDS,
    VARIES,
    CompareConfig,
    default_values,
)
from playground.config import (  # noqa: E402
    CONTROLS,
    DRAWING_PENDING,
    GROUPS,
    LINK_KEYS,
    SCHEMA_VERSION,
    SETTING,
    SETTINGS,
    ConfigError,
    RunConfig,
    Setting,
    first_value,
    from_query,
)
from playground.data import FEATURES  # noqa: E402
from playground.labs import all_labs  # noqa: E402
from playground.presets import PRESETS  # noqa: E402
from playground.train import available_devices  # noqa: E402
from ui.labs import LAB_KEYS  # noqa: E402
from ui.present import CHARTS  # noqa: E402

Params = dict[str, str | list[str]]
HOME, PLAYGROUND, EXPLORER, COMPARE, LABS = (
    "pages/home.py",
    "pages/1_playground.py",
    "pages/2_explorer.py",
    "pages/3_compare.py",
    "pages/4_labs.py",
)
# each page -> its own link parameters beside the settings; None: it reads no settings
PAGES: dict[str, tuple[str, ...] | None] = {
    HOME: None,
    PLAYGROUND: (),
    EXPLORER: None,
    COMPARE: COMPARE_KEYS,
    LABS: LAB_KEYS,
}
TOKEN = {"v": "version", "preset": "scenario"}  # a notice's word for a key it does not name
PRESENT_OFF = ("", "0", "false", "off")
PRESENT_FIRST = ("1", "true", "yes", "on")  # spellings of "on" that mean the first chart
LIMIT_WORDS = "server's limit"  # a host limit's refusal: a notice, not a failed fallback
JUNK = (
    "", " ", "abc", "None", "null", "[]", "{}", "☃", "1,2", "%00", "\x00", "<b>x</b>",
    "'; DROP TABLE runs;--", "**bold** [link](http://x)", "💥" * 7, "Ω≈ç√∫", "\u202eevil",
)  # fmt: skip


# ---- the oracle: what a page must name ----------------------------------------------------------
def text(params: Mapping[str, Any], key: str) -> str:
    """A link parameter as the pages read it: the last value when repeated."""
    return first_value(params.get(key, "") or "")


def lab_of(params: Mapping[str, Any]) -> str:
    """The lab a link opens: the one it names, or the first."""
    every = all_labs()
    key = text(params, "lab") or next(iter(every))
    return key if key in every else next(iter(every))


def settings_tokens(merged: Mapping[str, Any], extra: Collection[str]) -> list[str]:
    """What a settings link's notices must name: bad values (read by the table's own parser),
    unknown keys, a foreign version, combinations that cannot work, a missing device, an alpha
    that does not apply, and `hide` names that hide nothing."""
    out: list[str] = []
    if "v" in merged and text(merged, "v") != str(SCHEMA_VERSION):
        out.append("v")
    out += [k for k in merged if k not in {*LINK_KEYS, *SETTING, *extra}]
    values: dict[str, Any] = {}
    for key in (k for k in merged if k in SETTING):
        raw = text(merged, key)
        if key == "alpha" and not raw.strip():
            continue
        try:
            values[key] = SETTING[key].parse(raw)
        except ConfigError:
            out.append(key)
    out += [k for k, m in RunConfig(**values).problems() if not m.startswith(DRAWING_PENDING)]
    cfg, _ = from_query(merged, extra)
    if available_devices().get(cfg.device):
        out.append(cfg.device)
    if "alpha" in merged and activations.get(cfg.activation).param is None:
        out.append("alpha")
    return out + hide_tokens(text(merged, "hide"))


def hide_tokens(raw: str) -> list[str]:
    groups = {g.lower() for g in GROUPS}
    out = []
    for name in (part.strip() for part in raw.split(",")):
        if not name or name.lower() in groups or name in CONTROLS:
            continue
        if name not in SETTING:
            out.append("hide")
        elif not SETTING[name].hideable:
            out.append(name)
    return out


def present_mode(params: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether the link's `present` is one the app knows, and the chart it should give."""
    raw = text(params, "present").strip().lower()
    if raw in PRESENT_OFF:
        return True, None
    if raw in PRESENT_FIRST:
        return True, CHARTS[0]
    return raw in CHARTS, raw if raw in CHARTS else CHARTS[0]


def lab_tokens(params: Mapping[str, Any]) -> list[str]:
    """What a Labs link's notices must name: an unknown lab, bad seeds or target."""
    lab = text(params, "lab")
    out = ["lab"] if lab and lab not in all_labs() else []
    out += ["seeds"] if bad_seeds(text(params, "seeds")) else []
    return out + (["target"] if bad_target(text(params, "target")) else [])


def bad_seeds(raw: str) -> bool:
    if not raw.strip():
        return False
    try:
        return not 1 <= int(raw) <= MAX_SEEDS
    except ValueError:
        return True


def bad_target(raw: str) -> bool:
    if not raw.strip():
        return False
    try:
        value = float(raw)
    except ValueError:
        return True
    return not (math.isfinite(value) and value > 0)


def compare_tokens(params: Mapping[str, Any], base: RunConfig) -> list[str]:
    """What a comparison link's notices must name: what varies, its values, seeds, target."""
    out: list[str] = []
    vary = text(params, "vary").strip() or "activation"
    if vary not in VARIES:
        out.append("vary")
        vary = "activation"
    cfg = CompareConfig(base=base, vary=vary, values=default_values(vary, base.task))
    raw = text(params, "values").strip()
    if raw:
        try:
            parts = [p for p in raw.split(",") if p.strip()]
            cfg = cfg.replace(values=tuple(SETTING[vary].parse(p) for p in parts))
        except ConfigError:
            out.append("values")
    for key, read in (("seeds", int), ("target", float)):
        if raw := text(params, key).strip():
            try:
                cfg = cfg.replace(**{key: read(raw)})
            except ValueError:
                out.append(key)
    own = ("values", "seeds", "target", vary)
    return out + [key for key, _ in cfg.problems() if key in own]


def applied_base(merged: Mapping[str, Any], extra: Collection[str]) -> RunConfig:
    """The shared settings a link gives a page, as `ui.settings.apply_link` makes them."""
    cfg, _ = from_query(merged, extra)
    if available_devices().get(cfg.device):
        cfg = cfg.replace(device="cpu")
    param = activations.get(cfg.activation).param
    return cfg.replace(alpha=None) if param is None or cfg.alpha == param.default else cfg


def expected(page: str, params: Mapping[str, Any]) -> list[str]:
    """The words the page's notices must contain for this link (empty: a clean link)."""
    extra = PAGES.get(page)
    if extra is None:
        return []
    out: list[str] = []
    merged: dict[str, Any] = dict(params)
    if page == LABS:
        out += lab_tokens(params)
        merged = {**all_labs()[lab_of(params)].query(), **params}
    preset = text(merged, "preset")
    if preset in PRESETS:
        merged = {**PRESETS[preset].query(), **merged}
    elif preset:
        out.append("preset")
    out += settings_tokens(merged, extra)
    if not present_mode(params)[0]:
        out.append("present")
    if text(params, "points") and drawing.decode(text(params, "points"))[2]:
        out.append("points")
    if page == COMPARE:
        out += compare_tokens(params, applied_base(merged, extra))
    return list(dict.fromkeys(TOKEN.get(k, k) for k in out))


# ---- opening a page and judging it ------------------------------------------------------------
def open_link(page: str, params: Mapping[str, Any], timeout: float = 120) -> AppTest:
    """A first visit to `page` with these link parameters, through `app.py`'s navigation (so
    the page's links resolve and `present` is read); a file outside the app on its own."""
    inside = page in PAGES
    at = AppTest.from_file(str(ROOT / ("app.py" if inside else page)), default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    return (at.switch_page(page) if inside else at).run()


def fresh() -> None:
    """Drop the session's trainers and caches: AppTest runs share one session id, so a case's
    trainer would otherwise answer the next case's page."""
    import streamlit as st

    from ui.session import PARKED

    st.cache_resource.clear()
    PARKED.close_all()


def unescaped(markdown: str) -> str:
    """A notice as read: `ui.settings.literal` backslash-escapes Markdown in link text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def notices(at: AppTest) -> list[str]:
    """What the page said about the link: its `Link:` warnings and its refusals."""
    said = [w.value for w in at.warning if w.value.startswith("Link:")]
    return [unescaped(m) for m in said + [e.value for e in at.error]]


def named(token: str, said: str) -> bool:
    """Whether a notice names `token` (its start, for names a notice cuts short)."""
    return token.strip()[:40].lower() in said.lower()


def judge(at: AppTest, page: str, params: Mapping[str, Any], expect: list[str]) -> str | None:
    """The first thing wrong with a page opened on a link, or None."""
    if at.exception:
        return f"exception: {at.exception[0].value}"
    shown = [e.value for e in [*at.error, *at.warning, *at.markdown, *at.code]]
    if any("Traceback (most recent call last)" in v for v in shown):
        return "a traceback on the page"
    if not at.title:
        return "the page drew nothing"
    said = notices(at)
    missing = [t for t in expect if not named(t, " ".join(said))]
    if missing:
        return f"no notice naming {', '.join(map(repr, missing))} (notices: {said or 'none'})"
    refused = [n for n in said if n.startswith("Not applied:") and not _awaited(n)]
    if refused:
        return f"did not fall back to a valid config: {refused[0]}"
    if PAGES.get(page) is not None:
        if "settings" not in at.session_state:
            return "no settings applied"
        settings = at.session_state["settings"]
        problems = [
            p for p in RunConfig(**settings).problems() if not p[1].startswith(DRAWING_PENDING)
        ]
        if problems:
            return f"the applied settings are not valid: {problems[0][1]}"
    if page in PAGES:
        known, chart = present_mode(params)
        if known and at.session_state["present"] != chart:
            return f"presenter mode {at.session_state['present']!r}, the link asked {chart!r}"
    return None


def _awaited(notice: str) -> bool:
    """A refusal that is no failed fallback: a host limit, or a drawing still to be drawn (a
    link to the drawing plane opens it, and the page says what the drawing needs)."""
    return LIMIT_WORDS in notice or "your drawing" in notice


def check(page: str, params: Mapping[str, Any], expect: list[str] | None = None) -> str | None:
    """Open `page` on a link and judge it: a failure's description, or None when it held.
    `expect` overrides the words its notices must contain (a test's fake page)."""
    try:
        at = open_link(page, params)
        return judge(at, page, params, expected(page, params) if expect is None else expect)
    except Exception as e:  # the page, or AppTest itself, raised: that is the failure
        return f"opening raised {type(e).__name__}: {e}"
    finally:
        fresh()


# ---- the cases ----------------------------------------------------------------------------------
def _number(rng: random.Random, s: Setting) -> float:
    low, high = s.low or 0.0, s.high if s.high is not None else 1.0
    return rng.uniform(low, high) if s.kind is float else rng.randint(int(low), int(high))


def bad_value(rng: random.Random, s: Setting) -> str:
    """Text the setting should refuse (or, for free text, may): by its kind and range."""
    span = (s.high or 1.0) - (s.low or 0.0) or 1.0
    over = (s.high or 0) + span * rng.choice([0.01, 1, 1e6])
    under = (s.low or 0) - span * rng.choice([0.01, 1, 1e6])
    if s.kind is int:
        mine = [str(int(over) + 1), str(int(under) - 1), "9" * 40, "-" + "9" * 40, "1.5",
                "1e3", "0x10", "²", "٣٣", "1/2", "+-1", "inf", "nan"]  # fmt: skip
    elif s.kind is float:
        mine = [repr(over), repr(under), "nan", "NaN", "inf", "-inf", "1e400", "-1e400",
                "1,5", "0x1p-2", "--1", "1e", ".", "½"]  # fmt: skip
    elif s.kind is bool:
        mine = ["2", "-1", "maybe", "y", "n", "tru", "１", "on off", "True!"]
    elif s.choices:
        c = rng.choice(s.choices)
        mine = ["nope", c.upper(), c + "x", "☃" + c, c.replace("_", "-"), ",".join(s.choices)]
    else:
        return free_text(rng)
    return rng.choice(mine + list(JUNK) + ["x" * rng.choice([300, 5000])])


def free_text(rng: random.Random) -> str:
    """A comma list of names a free-text setting might hold (features, per-layer activations),
    known and not, of any length."""
    pool = [*FEATURES, *activations.REGISTRY, "nope", "", " ", "X1", "RELU", "☃", "x1 x2"]
    return ",".join(rng.choice(pool) for _ in range(rng.choice([0, 1, 2, 3, 5, 40, 400])))


def odd_valid(rng: random.Random, s: Setting) -> str:
    """A value the setting accepts, written oddly: padded, signed, another float spelling, a
    case or order the widget will normalise."""
    if s.kind is bool:
        return rng.choice(["TRUE", "On", "yes", "0", " 1 ", "FALSE", "off"])
    if s.choices:
        return rng.choice([f" {c} " for c in s.choices] + list(s.choices))
    if s.kind is str:  # free text: its default, upper-cased, reordered or padded
        parts = str(s.default).split(",")
        return rng.choice([s.default.upper(), ",".join(reversed(parts)), ", ".join(parts)])
    v = _number(rng, s)
    forms = [f" {v} ", f"{v}", f"+{v}"] + ([f"{v:e}", f"{v}0"] if s.kind is float else [f"0{v}"])
    return rng.choice(forms)


def unknown_key(rng: random.Random) -> str:
    key = rng.choice([s.key for s in SETTINGS])
    return rng.choice(
        [key.upper(), key + "s", key[:-1], f" {key}", f"{key}[]", "bogus", "__proto__",
         "constructor", "ü" * 3, "x" * 300, "%", "a&b", "k=v", "😀", "Data", "play", ""]
    )  # fmt: skip


def setting_value(rng: random.Random, s: Setting) -> str:
    roll = rng.random()
    return bad_value(rng, s) if roll < 0.6 else odd_valid(rng, s) if roll < 0.9 else ""


def frag_setting(rng: random.Random, page: str) -> Params:
    s = rng.choice(SETTINGS)
    return {s.key: setting_value(rng, s)}


def frag_odd_and_bad(rng: random.Random, page: str) -> Params:
    """A value the widgets may rewrite beside one that must be noticed: the notice has to
    survive the widgets' first run."""
    odd, bad = rng.sample(SETTINGS, 2)
    return {odd.key: odd_valid(rng, odd), bad.key: bad_value(rng, bad)}


def frag_repeated(rng: random.Random, page: str) -> Params:
    s = rng.choice(SETTINGS)
    return {s.key: [setting_value(rng, s) for _ in range(rng.randint(2, 4))]}


def frag_unknown(rng: random.Random, page: str) -> Params:
    return {unknown_key(rng): rng.choice(JUNK + ("1",))}


def frag_version(rng: random.Random, page: str) -> Params:
    v = rng.choice(["0", "2", "-1", "", "1.0", " 1", "abc", "9" * 50, "1"])
    return {"v": rng.choice([v, [v, "1"], ["1", v]])}


def frag_hide(rng: random.Random, page: str) -> Params:
    pool = [*GROUPS, *CONTROLS, *(s.key for s in SETTINGS), "nope", "", "data", "PLAY",
            "☃", "x" * 200, "Data,Network,Training,Display"]  # fmt: skip
    return {"hide": ",".join(rng.choice(pool) for _ in range(rng.randint(1, 5)))}


def frag_preset(rng: random.Random, page: str) -> Params:
    key = rng.choice(list(PRESETS))
    return {"preset": rng.choice([key, key, key.upper(), key + " ", "nope", "../etc", "☃"])}


def frag_points(rng: random.Random, page: str) -> Params:
    """A drawing's points: good ones, malformed ones, ones off the plane, too many."""
    good = drawing.encode(tuple((rng.uniform(-5, 5), rng.uniform(-5, 5), float(rng.random() < 0.5))
                                for _ in range(12)), "binary")  # fmt: skip
    pool = [good, good, "zzz", "b1,2", "b9,9,1;1,1,0", "r1,1,5", "b" + ";".join(["1,1,1"] * 400),
            "☃", "b" + "x" * 300, "r0,0,0.5;1,1,-0.5"]  # fmt: skip
    out: Params = {"points": rng.choice(pool)}
    if rng.random() < 0.6:
        out["dataset"] = "drawn"
    return out


def frag_present(rng: random.Random, page: str) -> Params:
    good = [*CHARTS, *PRESENT_OFF, *PRESENT_FIRST, "GRADIENTS", " health "]
    bad = ["bogus", "2", "-1", "gradient", "☃", "x" * 200]
    value = rng.choice(good + bad)
    return {"present": rng.choice([value, value, [value, rng.choice(good)]])}


def compare_values(rng: random.Random, vary: str) -> str:
    s = SETTING.get(vary, rng.choice(SETTINGS))
    pool = list(s.choices) or [repr(v) for v in s.grid] or ["0", "1"]
    pool += [bad_value(rng, s), odd_valid(rng, s)]
    return ",".join(rng.choice(pool) for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 17])))


SEEDS = ("0", "17", "-1", "abc", "1e3", "4.5", "²", "٣", "9" * 20, "2", "", " 3")
TARGETS = ("0", "-1", "nan", "inf", "abc", "1e-9", "1e300", "0.5", "", "1e400")


def frag_compare(rng: random.Random, page: str) -> Params:
    vary = rng.choice([*VARIES, *VARIES, "nope", "depth", "lr ", "", "ACTIVATION", "dataset"])
    out: Params = {"vary": vary, "values": compare_values(rng, vary.strip())}
    for key, pool in (("seeds", SEEDS), ("target", TARGETS)):
        if rng.random() < 0.5:
            out[key] = rng.choice(pool)
    return {k: v for k, v in out.items() if rng.random() < 0.8}


def frag_lab(rng: random.Random, page: str) -> Params:
    key = rng.choice(list(all_labs()))
    out: Params = {"lab": rng.choice([key, key, key.upper(), "nope", "", "../etc", "1-" + key])}
    for name, pool in (("seeds", SEEDS), ("target", TARGETS)):
        if rng.random() < 0.5:
            out[name] = rng.choice(pool)
    return out


Fragment = Callable[[random.Random, str], Params]
FRAGMENTS: dict[Fragment, int] = {  # how often each kind of trouble is drawn
    frag_setting: 6,
    frag_odd_and_bad: 2,
    frag_repeated: 2,
    frag_unknown: 2,
    frag_version: 1,
    frag_hide: 2,
    frag_preset: 1,
    frag_present: 1,
    frag_points: 1,
    frag_compare: 1,
    frag_lab: 1,
}
OWN = {COMPARE: frag_compare, LABS: frag_lab}  # a page's own parameters: drawn more there


def case(rng: random.Random, page: str) -> Params:
    """One link: one to three kinds of trouble, a page's own parameters more often there."""
    weights = {f: w + (4 if OWN.get(page) is f else 0) for f, w in FRAGMENTS.items()}
    params: Params = {}
    for f in rng.choices(list(weights), list(weights.values()), k=rng.choice([1, 1, 2, 3])):
        params.update(f(rng, page))
    return params


def cases(n: int, seed: int = 0) -> list[tuple[str, Params]]:
    """`n` links, the pages in turn: the same list for the same seed."""
    rng = random.Random(seed)
    pages = list(PAGES)
    return [(pages[i % len(pages)], case(rng, pages[i % len(pages)])) for i in range(n)]


def shown_query(params: Mapping[str, Any], limit: int = 40) -> str:
    """The link's query string, long values cut to their start and length."""

    def cut(v: str) -> str:
        return v if len(v) <= limit else f"{v[:12]}...({len(v)} chars)"

    pairs = [
        (k, cut(v)) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])
    ]
    return urlencode([(cut(k), v) for k, v in pairs])


def shrink(page: str, params: Params, what: str) -> Params:
    """A smaller link that still fails the same way: drop whole keys, then repeats."""

    def same(trial: Params) -> bool:
        found = check(page, trial)
        return found is not None and kind(found) == kind(what)

    current = dict(params)
    for key in list(current):
        trial = {k: v for k, v in current.items() if k != key}
        if same(trial):
            current = trial
    for key, value in list(current.items()):
        if isinstance(value, list) and same({**current, key: value[-1]}):
            current[key] = value[-1]
    return current


# ---- the run ------------------------------------------------------------------------------------
def run(n: int, seed: int, minimal: bool = False) -> tuple[list[str], Counter, float]:
    """Every case through its page; the failures' lines, cases per page and the seconds."""
    per_page: Counter = Counter()
    failures: list[str] = []
    t0 = time.perf_counter()
    for page, params in cases(n, seed):
        per_page[page] += 1
        what = check(page, params)
        if what is None:
            continue
        if minimal:
            params = shrink(page, params, what)
            what = check(page, params) or what
        line = f"FAIL {page} ?{shown_query(params)}: {what.splitlines()[0][:300]}"
        print(line, flush=True)
        failures.append(line)
    return failures, per_page, time.perf_counter() - t0


def kind(what: str) -> str:
    """A failure's kind: its words before the detail ("no notice", "exception", ...)."""
    return re.split(r" naming|:| \(", what, maxsplit=1)[0]


def report(failures: list[str], per_page: Counter, seconds: float) -> list[str]:
    total = sum(per_page.values())
    by_page = Counter(line.split()[1] for line in failures)
    lines = [f"{total} cases in {seconds:.0f} s ({seconds / max(total, 1):.2f} s a case)"]
    lines += [f"  {p}: {per_page[p]} cases, {by_page[p]} failed" for p in PAGES]
    lines += [
        f"  {k}: {c}"
        for k, c in Counter(kind(line.split(": ", 1)[1]) for line in failures).most_common()
    ]
    return [*lines, f"link_fuzz_failures: {len(failures)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="links, the pages in turn (500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator (0)")
    parser.add_argument("--shrink", action="store_true", help="cut each failing link down")
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # AppTest's log noise; a failure's own line says what broke
    print(f"{args.cases} hostile links over {len(PAGES)} pages, seed {args.seed}", flush=True)
    print("\n".join(report(*run(args.cases, args.seed, args.shrink))))


if __name__ == "__main__":
    main()
