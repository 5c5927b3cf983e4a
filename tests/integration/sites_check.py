#!/usr/bin/env python3
"""Checks one site-window case (tests/integration/run.sh case_sites).

  sites_check.py NAME DIR TRUTH (--expect-site | --expect-inline)

DIR holds leakd's stdout (JSON lines, --summary-only) and rc; TRUTH is the
file tests/programs/site_leak.py wrote: the leaking allocation's stack as the
interpreter reports it ("EXPECT file:line function", innermost first), the
churn line ("CHURN file:line") and the class ("TYPE name").

--expect-site: the class is attributable (coverage.site_types), its first
site is the leaking line with every caller frame right (the innermost 32;
truncated exactly when the program's stack is deeper), it has survivors, and
no site at the churn line is ranked before it.
--expect-inline: builds that inline tp_alloc: coverage.site_types says the
class is not attributable, with a measured share below one half, and no
site is reported for it.
Prints "PASS NAME: ..." or "FAIL NAME: why" as its first line.
"""
import json
import math
import sys

MAX_FRAMES = 32  # LEAKD_MAX_PYFRAMES


def main():
    name, d, truth_path, expect = sys.argv[1:5]

    def fail(msg):
        print("FAIL %s: %s" % (name, msg))
        sys.exit(1)

    try:
        truth = open(truth_path).read().splitlines()
    except OSError as e:
        fail("the program wrote no truth file (%s); stderr: %s" % (e, open(d + "/stderr").read()[-300:]))
    want = [l.split(" ", 1)[1] for l in truth if l.startswith("EXPECT ")]
    churn = [l.split(" ", 1)[1] for l in truth if l.startswith("CHURN ")]
    tname = [l.split(" ", 1)[1] for l in truth if l.startswith("TYPE ")]
    if not want or not churn or not tname:
        fail("incomplete truth file %s" % truth_path)
    tname = tname[0]
    rc = open(d + "/rc").read().strip()
    if rc != "0":
        fail("leakd exited %s: %s" % (rc, open(d + "/stderr").read()[-300:]))
    summaries = []
    for line in open(d + "/stdout"):
        try:
            rec = json.loads(line)
        except ValueError:
            fail("not JSON: %r" % line[:200])
        if rec.get("kind") == "summary":
            summaries.append(rec)
    if len(summaries) != 1:
        fail("%d summaries" % len(summaries))
    s = summaries[0]
    cov = [c for c in s["coverage"]["site_types"] if c["type"] == tname]
    if not cov:
        fail("coverage.site_types has no %s (has %s; growth: %s)"
             % (tname, [c["type"] for c in s["coverage"]["site_types"]], s["growth"]["reason"][:200]))
    cov = cov[0]
    sites = [x for x in s["sites"] if x["type"] == tname]

    if expect == "--expect-inline":
        share = cov["share"]
        if cov["attributable"] or share is None or not math.isfinite(share) or share >= 0.5:
            fail("expected %s not attributable with a measured share < 0.5, got %s" % (tname, cov))
        if "inline" not in (cov["note"] or ""):
            fail("the note does not say the allocation is inlined: %s" % cov)
        if sites:
            fail("%d sites reported for an unattributable type" % len(sites))
        print("PASS %s: %s not attributable on this build, probes saw %.1f%% of %d new instances"
              % (name, tname, 100 * share, cov["new_instances"]))
        return

    if not cov["attributable"]:
        fail("%s not attributable: %s" % (tname, cov))
    if not sites:
        fail("no site for %s (coverage %s)" % (tname, cov))
    first = sites[0]
    got_first = "%s:%d %s" % (first["file"], first["line"], first["function"])
    if got_first != want[0]:
        churn_first = "%s:%d" % (first["file"], first["line"]) == churn[0]
        fail("first site is %s%s, expected %s" % (got_first, " (the churn line)" if churn_first else "", want[0]))
    stack = ["%s:%d %s" % (f["file"], f["line"], f["function"]) for f in first["stack"]]
    if stack != want[:MAX_FRAMES]:
        fail("caller frames differ\n  got:    %s\n  expect: %s" % (stack, want[:MAX_FRAMES]))
    if first["truncated"] != (len(want) > MAX_FRAMES):
        fail("truncated=%s for a stack of %d frames" % (first["truncated"], len(want)))
    if first["surviving"] < 1 or first["surviving"] > first["sampled"]:
        fail("surviving %d of %d sampled" % (first["surviving"], first["sampled"]))
    for x in sites:
        if "%s:%d" % (x["file"], x["line"]) == churn[0] and x["surviving"] * 100 > x["sampled"]:
            fail("churn site %s kept %d of %d" % (churn[0], x["surviving"], x["sampled"]))
    print("PASS %s: %s made at %s <- %s (%d frames%s), surviving %d of %d sampled; probes saw %.0f%% of %d new; "
          "churn at %s not ranked" % (name, tname, want[0], " <- ".join(want[1:3]), len(stack),
                                      ", cut at 32 of %d" % len(want) if first["truncated"] else "",
                                      first["surviving"], first["sampled"], 100 * (cov["share"] or 0),
                                      cov["new_instances"] or 0, churn[0]))


main()
