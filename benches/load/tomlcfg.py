"""The tldns configuration for a benchmark run: zones/mobile.toml as parsed,
with paths, port and server settings overridden, written back as TOML.

Parsing and re-writing (rather than editing the text) keeps this working
when keys are added to the example config.
"""
import tomllib
from pathlib import Path


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v)} as TOML")


def _is_table_array(v):
    return isinstance(v, list) and v and all(isinstance(x, dict) for x in v)


def dumps(doc, prefix=""):
    out = []
    for k, v in doc.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            out.append(f"{k} = {_value(v)}")
    for k, v in doc.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.append(f"\n[{name}]")
            out.append(dumps(v, name + "."))
        elif _is_table_array(v):
            for item in v:
                out.append(f"\n[[{name}]]")
                out.append(dumps(item, name + "."))
    return "\n".join(x for x in out if x != "")


def write_config(repo: Path, work: Path, port: int, metrics=False) -> Path:
    """zones/mobile.toml for a benchmark: state and keys under `work`, one
    UDP worker on 127.0.0.1:`port`, no metrics listener, no reload timer,
    no daily CZDS export (they would run inside the measured process) and
    no response rate limiting (the load generator is one source)."""
    src = repo / "zones" / "mobile.toml"
    doc = tomllib.loads(src.read_text())
    pol = doc.setdefault("policy", {})
    for key in ("reserved-list", "collision-list"):
        if key in pol and not Path(pol[key]).is_absolute():
            pol[key] = str((src.parent / pol[key]).resolve())
    doc["state-dir"] = str(work / "var")
    doc.setdefault("dnssec", {})["keys-dir"] = str(work / "keys")
    doc["dnssec"]["enabled"] = True
    doc["dnssec"]["nsec3-opt-out"] = False
    srv = doc.setdefault("server", {})
    srv["listen"] = [f"127.0.0.1:{port}"]
    srv["udp-workers"] = 1
    srv["reload-interval-secs"] = 0
    # The load generator is one source asking far faster than any real
    # resolver: response rate limiting (on by default) is turned off here,
    # as it is for NSD and Knot in these runs.
    srv["rrl-responses-per-second"] = 0
    if not metrics:
        srv.pop("metrics-listen", None)
    doc.setdefault("export", {})["enabled"] = False
    doc.pop("db", None)
    out = work / "mobile.toml"
    out.write_text(dumps(doc) + "\n")
    return out
