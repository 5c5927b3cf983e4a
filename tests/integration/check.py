#!/usr/bin/env python3
"""Checks one integration case of leakd: reads what run.sh captured in a case directory
(stdout, stderr, rc, cmd, and the JSON records file when --output was used), parses the
JSON lines and asserts what the case promises, from leakd's CLI contract. Prints one
line, "PASS name ..." or "FAIL name: assertion", and on failure the command and the tail
of leakd's stderr. Exit status: 0 pass, 1 fail.

Usage: check.py KIND NAME DIR [--rc N] [--python VERSION] [--pid PID ...]
                [--records FILE] [--min-open-fds N] [--exe PATH] [--target-alive yes|no]
KIND is one of: leak, leak_fds, healthy, cycles_gc, observer, census, dead_pid,
not_python, bad_flag, output_errors, newline_path, sigkill_cmd, messages, hostile_names,
mid_census (--action exit|exec-other|exec-self|fork|sigkill|sigstop),
exited, multi_pid, sigint, sigint_attached, container, unknown_layout, untracked
(--truth FILE), gc_busy (--truth FILE), byte_samples (--truth FILE), reachable_exact (--truth FILE: the target's output, full first, then the
--empty baseline's; --pid full --pid empty), native, native_freed.
Runs with the system python3 (3.6+); standard library only.
"""
import argparse
import json
import os
import re
import sys

SUMMARY_KEYS = ("pid", "comm", "exe", "python", "duration_s", "exited", "allocs", "frees",
                "live_objects", "live_bytes", "dropped_events", "gc", "growth", "size_classes",
                "top_types", "open_fds", "coverage", "census")
SAMPLE_KEYS = ("ts", "pid", "live_objects", "live_bytes", "allocs", "frees")
GROWTH_KEYS = ("leak", "bytes_per_s", "objects_per_s", "confidence", "reason")


class CaseFailed(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise CaseFailed(msg)


def read(path, default=""):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except IOError:
        return default


def parse_records(text, where):
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise CaseFailed("%s line %d is not JSON (%s): %.120s" % (where, n, e, line))
        require(isinstance(rec, dict) and "kind" in rec,
                "%s line %d is not an object with a \"kind\": %.120s" % (where, n, line))
        records.append(rec)
    return records


def type_name_matches(name, want):
    return name == want or name.endswith("." + want)


def find_type_count(summary, want):
    """Live count of type `want`, from top_types, else from anywhere inside census."""
    for t in summary.get("top_types") or []:
        if isinstance(t, dict) and type_name_matches(str(t.get("type", "")), want):
            return t.get("live_objects")

    def walk(node):
        if isinstance(node, dict):
            name = node.get("type", node.get("name"))
            if isinstance(name, str) and type_name_matches(name, want):
                for k in ("live_objects", "count", "objects", "live"):
                    if isinstance(node.get(k), int):
                        return node[k]
            for k, v in node.items():
                if type_name_matches(str(k), want) and isinstance(v, int):
                    return v
                r = walk(v)
                if r is not None:
                    return r
        elif isinstance(node, list):
            for v in node:
                r = walk(v)
                if r is not None:
                    return r
        return None

    return walk(summary.get("census"))


def load_truth(path):
    """The expected verdict a workload wrote about itself (--truth)."""
    try:
        with open(path) as f:
            truth = json.load(f)
    except (IOError, ValueError) as e:
        raise CaseFailed("the program's truth file %s is unreadable: %s" % (path, e))
    require(isinstance(truth.get("types"), list) and truth["types"], "truth lists no types: %r" % truth)
    return truth


def growth_brief(s):
    g = s.get("growth") or {}
    top = [(t.get("type"), t.get("live_objects"), t.get("growth_per_s"))
           for t in (s.get("top_types") or [])[:3] if isinstance(t, dict)]
    return "growth=%s top_types=%s" % (json.dumps(g, sort_keys=True), top)


def check_summary_shape(s):
    missing = [k for k in SUMMARY_KEYS if k not in s]
    require(not missing, "summary for pid %s lacks %s" % (s.get("pid"), ", ".join(missing)))
    gc = s["gc"]
    require(isinstance(gc, dict) and all(k in gc for k in ("collections", "collected", "uncollectable")),
            "summary.gc lacks collections/collected/uncollectable: %s" % json.dumps(gc))
    require(isinstance(gc["collections"], list) and len(gc["collections"]) == 3,
            "summary.gc.collections is not a list of 3 generations: %s" % json.dumps(gc["collections"]))
    g = s["growth"]
    require(isinstance(g, dict) and all(k in g for k in GROWTH_KEYS),
            "summary.growth lacks one of %s: %s" % (", ".join(GROWTH_KEYS), json.dumps(g)))
    require(isinstance(g["leak"], bool), "summary.growth.leak is not a boolean: %r" % (g["leak"],))
    require(isinstance(s["top_types"], list), "summary.top_types is not a list")
    require(isinstance(s["exited"], bool), "summary.exited is not a boolean")


def session(args, d, records_text):
    """Common checks for a session that ran: exit status, records, one summary per pid."""
    rc = int(read(os.path.join(d, "rc"), "-1").strip() or -1)
    require(rc != 124 and rc != 137, "leakd did not finish in time (killed by timeout, rc %d)" % rc)
    # The exit status is checked last (check_rc), after the case's own assertions, whose
    # messages say more about what went wrong.
    records = parse_records(records_text, "records")
    samples = [r for r in records if r["kind"] == "sample"]
    summaries = [r for r in records if r["kind"] == "summary"]
    require(samples, "no sample records")
    for r in samples[:1]:
        missing = [k for k in SAMPLE_KEYS if k not in r]
        require(not missing, "sample lacks %s: %.200s" % (", ".join(missing), json.dumps(r)))
    if args.pid:
        for p in args.pid:
            n = sum(1 for s in summaries if s.get("pid") == p)
            require(n == 1, "%d summaries for pid %d, expected exactly 1" % (n, p))
        require(len(summaries) == len(args.pid),
                "%d summaries for %d pids: %s" % (len(summaries), len(args.pid),
                                                  [s.get("pid") for s in summaries]))
    else:
        require(len(summaries) == 1, "%d summary records, expected exactly 1" % len(summaries))
    pids = set(s.get("pid") for s in summaries)
    stray = sorted(set(r.get("pid") for r in samples) - pids)
    require(not stray, "samples for pids without a summary: %s" % stray)
    for s in summaries:
        check_summary_shape(s)
        if args.python:
            require(s["python"] == args.python,
                    "summary.python is %r, expected %r" % (s["python"], args.python))
    return samples, summaries


def check_rc(args, d, summaries):
    rc = int(read(os.path.join(d, "rc"), "-1").strip() or -1)
    if args.rc is not None and rc != args.rc:
        raise CaseFailed("exit status %d, expected %d; %s" % (
            rc, args.rc, "; ".join(growth_brief(s) for s in summaries)))


def one_line_error(d, rc_want, must_contain=None):
    rc = int(read(os.path.join(d, "rc"), "-1").strip() or -1)
    require(rc == rc_want, "exit status %d, expected %d" % (rc, rc_want))
    lines = [l for l in read(os.path.join(d, "stderr")).splitlines() if l.strip()]
    require(len(lines) == 1, "expected exactly one stderr line, got %d" % len(lines))
    if must_contain:
        require(must_contain.lower() in lines[0].lower(),
                "stderr does not say %r: %r" % (must_contain, lines[0]))
    summaries = [r for r in parse_records(read(os.path.join(d, "stdout")), "stdout")
                 if r["kind"] == "summary"]
    require(not summaries, "a failed attach still printed %d summary records" % len(summaries))
    return lines[0]


def check_output_errors(d):
    for sub, why in (("dev_full", "no space left"), ("closed_pipe", "broken pipe")):
        line = one_line_error(os.path.join(d, sub), 1, why)
        require(line.startswith("leakd: writing the report to "), "%s: %r" % (sub, line))
    keep = os.path.join(d, "keep_previous")
    one_line_error(keep, 1)
    require(read(os.path.join(keep, "prev.jsonl")) == "a previous run\n",
            "a run that never started changed the previous --output file")
    rep = os.path.join(d, "replace_previous")
    rc = int(read(os.path.join(rep, "rc"), "-1").strip() or -1)
    require(rc == 0, "replace_previous: exit status %d, expected 0" % rc)
    recs = parse_records(read(os.path.join(rep, "prev.jsonl")), "replace_previous/prev.jsonl")
    require(any(r["kind"] == "summary" for r in recs), "the new --output file has no summary")
    left = [f for f in os.listdir(rep) if f.startswith(".prev.jsonl.")]
    require(not left, "temporary files left behind: %s" % left)
    return "ENOSPC and EPIPE exit 1 with one line; a failed run keeps the old file, a good one replaces it"


def check_mid_census(args, d):
    """A target that exits, execs, forks or is stopped while leakd censuses it (run.sh's
    case_mid_census): leakd ends cleanly, or goes on with the right process, says what
    happened, and leaves the target untraced (and a stopped one stopped)."""
    trig = json.loads(read(os.path.join(d, "trigger.json"), "{}").strip() or "{}")
    require("error" not in trig and trig.get("in_freeze") is True,
            "the trigger did not signal the target inside a freeze: %r" % trig)
    pid, act = args.pid[0], args.action
    rc = int(read(os.path.join(d, "rc"), "-1").strip() or -1)
    require(rc == args.rc, "exit status %d, expected %d" % (rc, args.rc))
    recs = parse_records(read(os.path.join(d, "stdout")), "stdout")
    sums = [r for r in recs if r["kind"] == "summary"]
    require(len(sums) == 1 and sums[0]["pid"] == pid,
            "summaries %s, expected one for pid %d" % ([x.get("pid") for x in sums], pid))
    stray = sorted(set(r.get("pid") for r in recs) - set([pid]))
    require(not stray, "records for pids other than the target: %s" % stray)
    s = sums[0]
    check_summary_shape(s)
    require(s["python"] == args.python, "summary.python %r, expected %r" % (s["python"], args.python))
    warning = (s.get("coverage") or {}).get("warning") or ""
    census = s["census"]
    state = read(os.path.join(d, "state_after")).split()
    got = "census runs %s, pause max %s us, signalled in the freeze after %s s (attempt %s)" % (
        census.get("runs"), census.get("pause_us_max"), trig["waited_s"], trig["attempts"])
    if act in ("exit", "sigkill", "exec-other", "exec-self"):
        require(s["exited"] is True, "summary.exited is %r after the target %s" % (s["exited"], act))
        require(s["duration_s"] < 8, "the session went on for %ss after its target ended"
                % s["duration_s"])
    if act.startswith("exec"):
        log = read(os.path.join(d, "target.log"))
        if act == "exec-self":
            require('{"after_exec": %d}' % pid in log, "the target did not exec itself: %r" % log[-200:])
        require("exec'd" in warning, "coverage.warning does not say the target exec'd: %r" % warning)
        require(state and state[-1] == "0", "after leakd the exec'd process is traced: %s" % state)
        got += ", warning %r" % warning
    if act == "fork":
        child = [json.loads(l)["child"] for l in read(os.path.join(d, "target.log")).splitlines()
                 if l.startswith('{"child"')]
        require(len(child) == 1, "the target did not fork once: %r" % child)
        require(s["exited"] is False, "summary.exited is %r, the parent still runs" % s["exited"])
        names = [t["type"] for t in s["top_types"] + s.get("live_types", [])]
        require(not [n for n in names if type_name_matches(n, "ForkChild")],
                "the child's ForkChild objects are counted in the parent's summary")
        records = json.loads(read(os.path.join(d, "target.log")).splitlines()[0])["records"]
        require(find_type_count(s, "Record") == records, "Record %r, the parent holds %d"
                % (find_type_count(s, "Record"), records))
        cstate = read(os.path.join(d, "child_state")).split()
        require(cstate and cstate[-1] == "0", "the child (pid %d) is traced: %s" % (child[0], cstate))
        got += ", child %d not counted, Record %d" % (child[0], records)
    if act in ("fork", "sigstop"):
        require(state and state[-1] == "0", "the target is traced after leakd: %s" % state)
    if act == "sigstop":
        require(state[0] == "T", "the target stopped mid-census is %s after leakd, not stopped (T)"
                % state)
        require(census["runs"] >= 2, "no census after the target was stopped: %d runs" % census["runs"])
        pre = os.path.join(d, "prestopped")
        prc = int(read(os.path.join(pre, "rc"), "-1").strip() or -1)
        require(prc == 0, "on the stopped target leakd exit status %d" % prc)
        pstate = read(os.path.join(pre, "state_after")).split()
        require(pstate == ["T", "0"], "a target stopped before leakd is %s after it, not T 0" % pstate)
        pre_sums = [r for r in parse_records(read(os.path.join(pre, "stdout")), "prestopped")
                    if r["kind"] == "summary"]
        require(len(pre_sums) == 1 and pre_sums[0]["census"]["runs"] >= 1,
                "leakd did not census the stopped target: %r" % [x["census"] for x in pre_sums])
        cont = read(os.path.join(d, "state_after_cont")).split()
        require(cont and cont[0] in ("S", "R"), "after SIGCONT the target is %s" % cont)
        got += ", stopped and untraced after, %d censuses of it stopped before leakd" % (
            pre_sums[0]["census"]["runs"])
    return got


def run_case(args):
    d = args.dir
    kind = args.kind
    if kind in ("dead_pid", "not_python"):
        return one_line_error(d, 1, "not a Python process" if kind == "not_python" else None)
    if kind == "bad_flag":
        for sub in sorted(os.listdir(d)):
            sd = os.path.join(d, sub)
            if os.path.isdir(sd):
                rc = int(read(os.path.join(sd, "rc"), "-1").strip() or -1)
                require(rc == 2, "%s: exit status %d, expected 2 (usage error)" % (read(os.path.join(sd, "cmd")).strip(), rc))
                require(read(os.path.join(sd, "stderr")).strip(), "%s: no message on stderr" % sub)
        return "usage errors exit 2"

    if kind == "output_errors":
        return check_output_errors(d)
    if kind == "hostile_names":
        # What tests/programs/hostile_names.py names itself and its classes.
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs"))
        import hostile_names
        comm = hostile_names.COMM.decode()
        cls = "__main__." + hostile_names.NAME
        for sub in ("table", "json"):
            sd = os.path.join(d, sub)
            rc = int(read(os.path.join(sd, "rc"), "-1").strip() or -1)
            require(rc == 0, "%s: exit status %d" % (sub, rc))
            for stream in ("stdout", "stderr"):
                with open(os.path.join(sd, stream), "rb") as f:
                    raw = f.read()
                bad = [b for b in raw if (b < 0x20 and b != 0x0a) or b == 0x7f]
                require(not bad, "%s %s holds raw control bytes %r" % (sub, stream, sorted(set(bad))))
                text = raw.decode("utf-8")  # raises on invalid UTF-8
                c1 = [c for c in text if 0x80 <= ord(c) <= 0x9f]
                require(not c1, "%s %s holds raw C1 controls" % (sub, stream))
        table = read(os.path.join(d, "table", "stdout"))
        require("(py\\nleakd: \\x1b[2J)" in table, "the table does not show the escaped comm")
        require(not any(l.startswith("leakd:") for l in table.splitlines()), "a forged line in the table")
        recs = parse_records(read(os.path.join(d, "json", "stdout")), "json stdout")
        sums = [r for r in recs if r["kind"] == "summary"]
        require(len(sums) == 1, "%d summaries" % len(sums))
        require(sums[0]["comm"] == comm, "JSON comm %r, expected %r" % (sums[0]["comm"], comm))
        names = [t["type"] for t in sums[0]["top_types"] + sums[0].get("live_types", [])]
        require(cls in names, "the hostile class is not among the JSON types: %r" % names[:5])
        # 10,000 characters: cut short, a prefix of the real name
        full = "__main__." + hostile_names.LONG
        longs = [n for n in names if n.startswith("__main__.Long")]
        require(longs and full.startswith(longs[0]) and len(longs[0]) <= 1024,
                "the 10,000-character class is not reported as a prefix of its name: %r"
                % [n[:40] for n in longs])
        # a lone surrogate has no UTF-8 form: replaced, the rest of the name kept
        head, tail = hostile_names.SURROGATE.split("\udc80")
        halves = [n for n in names if n.startswith("__main__." + head) and n.endswith(tail)]
        require(halves and not any(0xd800 <= ord(c) <= 0xdfff for c in halves[0]),
                "the class named with a lone surrogate: %r" % halves)
        return ("comm and class names escaped in the table, exact in JSON (a 10,000-character name "
                "cut to %d, a lone surrogate as %r), no raw control bytes" % (len(longs[0]), halves[0]))
    if kind == "messages":
        j = lambda sub: os.path.join(d, sub)
        line = one_line_error(j("config_fifo"), 2, "not a regular file")
        line = one_line_error(j("pid_without_value"), 2, "option '--pid' needs a value")
        line = one_line_error(j("duration_too_long"), 2, "invalid --duration '1e12' (seconds, from 0.001 to ")
        said = ["a FIFO config, --pid without value, --duration 1e12"]
        if os.path.exists(j("python2_version")):
            want = "Python %s is not supported (3.7-3.14 are)" % read(j("python2_version")).strip()
            for sub in ("python2_cmd", "python2_pid"):
                one_line_error(j(sub), 1, want)
            said.append(want)
        else:
            said.append("no pyenv 2.7 here, Python 2 not checked")
        return "; ".join(said)
    if kind == "sigkill_cmd":
        cpid = read(os.path.join(d, "command_pid")).strip()
        require(cpid.isdigit(), "leakd printed no sample naming the command's pid before it was killed")
        state = read(os.path.join(d, "command_state")).strip()
        # a zombie (Z) has ended; its reaper is init now
        require(state in ("gone", "Z"), "the command (pid %s) outlived leakd's SIGKILL, state %s" % (cpid, state))
        return "the command (pid %s) ended with leakd" % cpid
    if kind == "newline_path":
        for sub in ("cmd", "pid"):
            sd = os.path.join(d, sub)
            rc = int(read(os.path.join(sd, "rc"), "-1").strip() or -1)
            require(rc == 0, "%s: exit status %d, expected 0: %s" % (sub, rc, read(os.path.join(sd, "stderr")).strip()))
            sums = [r for r in parse_records(read(os.path.join(sd, "stdout")), sub) if r["kind"] == "summary"]
            require(len(sums) == 1, "%s: %d summaries, expected 1" % (sub, len(sums)))
            require(sums[0]["exe"] == args.exe, "%s: exe %r, expected %r" % (sub, sums[0]["exe"], args.exe))
            require(sums[0]["python"].startswith("3."), "%s: python %r" % (sub, sums[0]["python"]))
        return "an interpreter under a path with a newline is traced by -- CMD and --pid"

    if kind == "mid_census":
        return check_mid_census(args, d)

    if args.records:
        require(os.path.exists(args.records), "--output file %s was not written" % args.records)
        records_text = read(args.records)
        out = read(os.path.join(d, "stdout"))
        require(not any(l.startswith("{") for l in out.splitlines()),
                "records went to stdout although --output was given")
    else:
        records_text = read(os.path.join(d, "stdout"))
    samples, summaries = session(args, d, records_text)
    note = case_assertions(args, kind, samples, summaries)
    check_rc(args, d, summaries)
    return note


def holders_truth(args):
    """{type: regular expression of its first holder path}, as the program wrote it."""
    return json.loads(read(args.truth, "{}") or "{}").get("holders") if args.truth else None


def check_holder_paths(s, want):
    """The first (most reaching) holder path of each type in want matches the program's
    regular expression, and holds at least 95% of the samples. Returns the short names."""
    held = {}
    for h in s.get("holders") or []:
        held.setdefault(h["type"], []).append(h)
    got = []
    for typ, rx in sorted(want.items()):
        paths = held.get(typ)
        require(paths, "no holders for %s; holders given for %s" % (typ, sorted(held)))
        first = max(paths, key=lambda h: h["reached"])
        require(re.fullmatch(rx, first["text"]) is not None,
                "%s: first path %r does not match %r" % (typ, first["text"], rx))
        require(first["reached"] * 20 >= first["sampled"] * 19 and first["sampled"] > 0,
                "%s: only %d of %d samples held that way" % (typ, first["reached"], first["sampled"]))
        require(first["path"] and first["path"][-1]["via_type"] == typ,
                "%s: the path's last step reaches %r" % (typ, first["path"][-1:]))
        got.append(typ.split(".")[-1])
    return got


def held_note(s, args):
    """For a flagged leak whose program named its holder (--truth): that it is found."""
    want = holders_truth(args)
    if not want:
        return ""
    check_holder_paths(s, want)
    return "; held by %s" % "; ".join(max((h for h in s["holders"] if h["type"] == t),
                                         key=lambda h: h["reached"])["text"] for t in sorted(want))


def case_assertions(args, kind, samples, summaries):
    s = summaries[0]
    g = s["growth"]

    if kind == "leak":
        require(g["leak"] is True, "leak not flagged: " + growth_brief(s))
        return "flagged, %.0f obj/s, confidence %s%s" % (g["objects_per_s"] or 0, g["confidence"],
                                                         held_note(s, args))
    if kind == "leak_gc_disabled":
        # cycles_collected.py --disable-gc: the Node pairs are garbage only their cycles keep
        require(g["leak"] is True, "leak not flagged: " + growth_brief(s))
        nodes = [h for h in s.get("holders") or [] if h["type"] == "__main__.Node"]
        require(nodes, "no holders for the leaking __main__.Node: %r" % [h["type"] for h in s.get("holders") or []])
        first = max(nodes, key=lambda h: h["reached"])
        require(re.match(r"unreachable reference cycle \(\d+ objects\): garbage in cycles; the cyclic GC is "
                         r"disabled in this process", first["text"]) and first["path"][0]["kind"] == "cycle",
                "first holder of __main__.Node: %r" % first["text"])
        return "flagged; Node held by %r (%d of %d)" % (first["text"][:60], first["reached"], first["sampled"])
    if kind == "leak_fds":
        require(g["leak"] is True, "fd leak not flagged: " + growth_brief(s))
        reason = str(g["reason"]).lower()
        require(any(w in reason for w in ("fd", "file desc", "descriptor", "grow")),
                "reason mentions neither file descriptors nor growth: %r" % g["reason"])
        require(isinstance(s["open_fds"], int) and s["open_fds"] >= args.min_open_fds,
                "summary.open_fds is %r, expected >= %d" % (s["open_fds"], args.min_open_fds))
        fds = [r["open_fds"] for r in samples if isinstance(r.get("open_fds"), int)]
        if len(fds) >= 2:
            require(fds[-1] > fds[0], "open_fds does not grow across samples: %d -> %d" % (fds[0], fds[-1]))
        return "flagged, open_fds %d, reason %r%s" % (s["open_fds"], g["reason"], held_note(s, args))
    if kind == "healthy":
        require(g["leak"] is False, "healthy program flagged as a leak: " + growth_brief(s))
        return "not flagged (%s)" % g["reason"]
    if kind == "cycles_gc":
        require(g["leak"] is False, "cycles reclaimed by the GC flagged as a leak: " + growth_brief(s))
        require(isinstance(s["gc"]["collected"], int) and s["gc"]["collected"] > 0,
                "gc.collected is %r, expected > 0" % (s["gc"]["collected"],))
        # nothing leaks, so nothing is searched: reclaimed cycles have no holders
        require(not s.get("holders"), "holders reported for reclaimed cycles: %s"
                % [h["text"] for h in s["holders"]][:3])
        return "not flagged, gc collected %d, no holders" % s["gc"]["collected"]
    if kind in ("observer", "container"):
        require(g["leak"] is True, "registry leak not flagged: " + growth_brief(s))
        top = s["top_types"]
        require(top and type_name_matches(str(top[0].get("type")), "Subscriber"),
                "Subscriber is not first in top_types: " + growth_brief(s))
        if kind == "observer":
            return "flagged, top type %s" % top[0].get("type")
        # The interpreter exists only in the target's mount namespace: leakd must name it
        # by the target's own path, which the host cannot open.
        require(s["exe"] == args.exe, "summary.exe is %r, expected the in-container path %r"
                % (s["exe"], args.exe))
        require(not os.path.exists(s["exe"]),
                "summary.exe %r exists on the host: the case did not hide the interpreter" % s["exe"])
        require(s["exited"] is False, "summary.exited is %r, the target was still running" % s["exited"])
        return "flagged, top type %s, exe %s (not on the host)" % (top[0].get("type"), s["exe"])
    if kind == "unknown_layout":
        # No layout for this version: leakd must say so and not guess a census from the
        # wrong offsets (0 or null live objects, no types), while still reporting totals.
        require(str(s["python"]).startswith("3.6"), "summary.python is %r, expected 3.6.x" % s["python"])
        cov = s["coverage"]
        warning = cov.get("warning") if isinstance(cov, dict) else None
        require(isinstance(warning, str) and "layout unknown" in warning,
                "coverage.warning does not say \"layout unknown\": %r" % (warning,))
        for what, v in (("live_objects", s["live_objects"]), ("live_bytes", s["live_bytes"])):
            require(v in (0, None), "summary.%s is %r with an unknown layout, expected 0 or null" % (what, v))
        guessed = [r["live_objects"] for r in samples if r["live_objects"] not in (0, None)]
        require(not guessed, "samples report live objects with an unknown layout: %s" % guessed[:5])
        require(not s["top_types"], "top_types with an unknown layout: %s" % growth_brief(s))
        require(isinstance(s["open_fds"], int) and s["open_fds"] >= args.min_open_fds,
                "summary.open_fds is %r, expected >= %d (totals must still be reported)"
                % (s["open_fds"], args.min_open_fds))
        return "warning %r, live_objects %r, open_fds %d" % (warning, s["live_objects"], s["open_fds"])
    if kind == "census":
        got = {}
        for t, want in (("Leaky", 12345), ("Slotted", 2345)):
            got[t] = find_type_count(s, t)
        require(got["Leaky"] == 12345 and got["Slotted"] == 2345,
                "census Leaky=%r Slotted=%r, expected 12345 and 2345; %s"
                % (got["Leaky"], got["Slotted"], growth_brief(s)))
        return "Leaky 12345, Slotted 2345"
    if kind == "byte_samples":
        t = json.loads(read(args.truth, "{}") or "{}")
        require(t.get("kept"), "the program wrote no truth to %s" % args.truth)
        require("byte-samples" in s["coverage"]["signals"], "no byte samples: signals %s, warning %r"
                % (s["coverage"]["signals"], s["coverage"].get("warning")))
        row = [r for r in s["live_types"] if r["type"] == t["type"]]
        require(row and row[0].get("sites"), "live_types has no sites for %s: %s"
                % (t["type"], [(r["type"], len(r.get("sites", []))) for r in s["live_types"]][:8]))
        first = row[0]["sites"][0]
        require(first["file"] == t["file"] and first["line"] == t["line"] and first["function"] == t["function"],
                "the first site of %s is %s:%s in %s, the program keeps them at %s:%s in %s"
                % (t["type"], first["file"], first["line"], first["function"], t["file"], t["line"], t["function"]))
        churn = [x for x in row[0]["sites"] if x["line"] == t["churn_line"] and x["file"] == t["file"]]
        require(not churn or churn[0]["live_bytes"] < 0.1 * first["live_bytes"],
                "the churn line holds %r of the live bytes" % churn[:1])
        # ~190 samples (run.sh): 3 sigma is about 22%
        ratio = first["live_bytes"] / float(t["kept_bytes"])
        require(0.7 <= ratio <= 1.3, "estimated %d live bytes at the keeping line, the program keeps %d (%.2fx)"
                % (first["live_bytes"], t["kept_bytes"], ratio))
        return "%s kept at line %d: estimated %.1f MB from %d samples, kept %.1f MB (%.2fx)" % (
            t["type"], t["line"], first["live_bytes"] / 1e6, first["samples"], t["kept_bytes"] / 1e6, ratio)
    if kind == "gc_busy":
        kept = load_truth(args.truth)["kept"]
        counts = [r["live_objects"] for r in samples]
        first = next((i for i, c in enumerate(counts) if c >= kept), None)
        require(first is not None, "no census counted the %d lists the program keeps: %s" % (kept, counts))
        low = [(i, c) for i, c in enumerate(counts[first:], first) if c < kept]
        require(not low, "censuses after the first full one counted fewer than the %d kept lists "
                "(sample, count): %s" % (kept, low[:5]))
        c = s["census"]
        require(isinstance(c.get("skipped_mid_gc"), int), "census.skipped_mid_gc is %r" % c.get("skipped_mid_gc"))
        require(c["runs"] >= 3, "only %d censuses ran (%d skipped mid-collection)" % (c["runs"], c["skipped_mid_gc"]))
        require(g["leak"] is False, "a constant heap flagged as a leak: %s" % growth_brief(s))
        return "%d samples, none below the %d kept lists after the first; %d censuses, %d skipped mid-collection" % (
            len(counts), kept, c["runs"], c["skipped_mid_gc"])
    if kind == "untracked":
        truth = load_truth(args.truth)
        if not truth["leak"]:
            require(g["leak"] is False, "healthy %s flagged as a leak: %s"
                    % (truth["container"], growth_brief(s)))
            return "not flagged (%s)" % g["reason"]
        require(g["leak"] is True, "leak of %s not flagged: %s" % (truth["types"], growth_brief(s)))
        leaking = [str(t.get("type")) for t in s["top_types"] if t.get("leak")]
        for want in truth["types"]:
            require(any(type_name_matches(n, want) for n in leaking),
                    "%s is not among the leaking types %s: %s" % (want, leaking, growth_brief(s)))
        reason = str(g["reason"])
        require(any(w in reason for w in truth["types"] + [truth["container"]]),
                "the reason names none of %s: %r" % (truth["types"] + [truth["container"]], reason))
        return "flagged, leaking types %s" % ", ".join(leaking[:5])
    if kind == "holders":
        want = holders_truth(args)
        require(want, "the program wrote no holders truth to %s" % args.truth)
        got = check_holder_paths(s, want)
        for typ in want:
            row = [t for t in s["top_types"] if t.get("type") == typ]
            if row:
                # the lists account for every instance of a class but one caught
                # being made (found through a referrer before it is tracked: seen
                # once in a full run, 2,995 of 2,996 on pyenv 3.12)
                gens, live = row[0].get("generations"), row[0]["live_objects"]
                require(isinstance(gens, list) and len(gens) == 4 and
                        live - max(2, live // 100) <= sum(gens) <= live,
                        "%s: generations %r do not add up to its %d live objects" % (typ, gens, live))
        dot = read(args.graph)
        require(dot.startswith("digraph holders {") and dot.rstrip().endswith("}"),
                "--graph wrote no dot graph: %r" % dot[:80])
        for typ in want:
            require(re.search(r'label="[^"]*\b%s\b' % re.escape(typ), dot),
                    "the graph has no node of type %s" % typ)
        require(len(re.findall(r"-> o[0-9a-f]+ \[label=", dot)) >= len(want), "the graph has too few edges")
        return "holders of %s as the program names them, graph of %d lines" % (
            ", ".join(got), dot.count("\n"))
    if kind == "reachable_exact":
        truths = [json.loads(l) for l in read(args.truth).splitlines() if l.startswith("{")]
        require(len(truths) == 2, "expected the truth lines of the full and empty targets, got %d"
                % len(truths))
        by_pid = dict((x["pid"], x) for x in summaries)
        full, empty = by_pid[args.pid[0]], by_pid[args.pid[1]]
        got = []
        for typ, key in (("str", "str"), ("bytes", "bytes")):
            def row(summary):
                for t in summary["top_types"]:
                    if t.get("type") == typ:
                        return t
                raise CaseFailed("no %s row in top_types of pid %s: %s" % (typ, summary["pid"],
                                                                           growth_brief(summary)))
            for what in ("objects", "bytes"):
                want = truths[0]["%s_%s" % (key, what)] - truths[1]["%s_%s" % (key, what)]
                have = row(full)["live_" + what] - row(empty)["live_" + what]
                require(abs(have - want) <= 0.01 * want,
                        "%s %s: leakd counts %d more than the baseline, the program holds %d (off by "
                        "%.2f%%, 1%% allowed)" % (typ, what, have, want, 100.0 * (have - want) / want))
                got.append("%s %s %d/%d" % (typ, what, have, want))
        require(full["census"].get("reachable") is True, "census.reachable is not true")
        return "; ".join(got)
    if kind in ("native", "native_freed"):
        if kind == "native_freed":
            require(g["leak"] is False, "a program that frees what it mallocs was flagged: "
                    + growth_brief(s))
            return "not flagged (%s)" % g["reason"]
        require(g["leak"] is True, "native leak not flagged: " + growth_brief(s))
        reason = str(g["reason"])
        require("outside" in reason and "native" in reason,
                "the reason does not blame memory outside Python objects: %r" % reason)
        mem = s.get("memory") or {}
        require(isinstance(mem.get("other_heap"), int) and isinstance(mem.get("python_objects"), int),
                "summary.memory lacks other_heap/python_objects: %s" % json.dumps(mem))
        return "flagged: %s" % reason
    if kind == "exited":
        require(s["exited"] is True, "target exited mid-session but summary.exited is %r" % s["exited"])
        return "exited=true after %ss" % s["duration_s"]
    if kind == "multi_pid":
        by_pid = dict((x["pid"], x) for x in summaries)
        leaky, healthy = args.pid[0], args.pid[1]
        require(by_pid[leaky]["growth"]["leak"] is True,
                "pid %d (list append) not flagged: %s" % (leaky, growth_brief(by_pid[leaky])))
        require(by_pid[healthy]["growth"]["leak"] is False,
                "pid %d (sawtooth) flagged: %s" % (healthy, growth_brief(by_pid[healthy])))
        return "one summary per pid, only the leak flagged"
    if kind == "sigint":
        return "stopped on SIGINT with a summary"
    if kind == "sigint_attached":
        require(s["exited"] is False, "summary.exited is %r, the attached target was still running"
                % s["exited"])
        require(args.target_alive == "yes",
                "the attached target was not running after leakd stopped (--pid must leave it alone)")
        return "stopped on SIGINT with a summary, target left running"
    raise CaseFailed("unknown case kind %r" % kind)


def main():
    ap = argparse.ArgumentParser(description="check one leakd integration case")
    ap.add_argument("kind")
    ap.add_argument("name")
    ap.add_argument("dir")
    ap.add_argument("--rc", type=int, default=None)
    ap.add_argument("--python", default=None)
    ap.add_argument("--pid", type=int, action="append", default=[])
    ap.add_argument("--records", default=None)
    ap.add_argument("--min-open-fds", type=int, default=100)
    ap.add_argument("--exe", default=None, help="container: the exe path leakd must report")
    ap.add_argument("--truth", default=None, help="untracked/reachable_exact/holders: the program's own truth")
    ap.add_argument("--graph", default=None, help="holders: the --graph file leakd wrote")
    ap.add_argument("--action", default=None, help="mid_census: what the target did")
    ap.add_argument("--target-alive", choices=("yes", "no"), default=None,
                    help="sigint_attached: whether the target outlived leakd")
    args = ap.parse_args()
    try:
        note = run_case(args)
    except CaseFailed as e:
        print("FAIL %s: %s" % (args.name, e))
        cmd = read(os.path.join(args.dir, "cmd")).strip()
        if cmd:
            print("  command: %s" % cmd)
        err = read(os.path.join(args.dir, "stderr")).splitlines()
        if err:
            print("  leakd stderr (last %d of %d lines):" % (min(10, len(err)), len(err)))
            for line in err[-10:]:
                print("    " + line)
        else:
            print("  leakd stderr: (empty)")
        return 1
    print("PASS %s (%s)" % (args.name, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
